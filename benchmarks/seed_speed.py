"""Seed speed on PostgreSQL: generation rows/s, write rows/s, and the write against the true limit,
all measured in one run: the same rows already serialised as CSV buffers, sent with ``COPY FROM
STDIN`` into bare tables, then the primary and foreign keys added and validated, in one transaction
(what pg_restore does; the server's ingest is all that is timed). Also, for reference, a COPY into
tables that check their keys row by row.

    python benchmarks/seed_speed.py [--rows 1000000] [--url postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import io
import time
import uuid
from collections.abc import Mapping

import pandas as pd
import psycopg

from dbsynth.connect import create_engine
from dbsynth.graph import Plan, plan
from dbsynth.schema import Schema, reflect
from dbsynth.sinks.base import WriteOptions, to_text, written_columns
from dbsynth.sinks.postgres import PostgresSink
from dbsynth.synthesis import resolve_rows, synthesize

DDL = """
CREATE TABLE account (account_id integer PRIMARY KEY, name varchar(60) NOT NULL);
CREATE TABLE entry (
    entry_id bigint PRIMARY KEY,
    account_id integer NOT NULL REFERENCES account (account_id),
    amount numeric(10, 2) NOT NULL,
    quantity integer NOT NULL,
    note text,
    booked_at timestamptz NOT NULL,
    cleared boolean NOT NULL
);
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows of the 7-column child table")
    ap.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    admin = psycopg.connect(args.url, autocommit=True)
    name = f"dbsynth_bench_{uuid.uuid4().hex[:8]}"
    admin.execute(f"CREATE DATABASE {name}")
    url = args.url.rsplit("/", 1)[0] + "/" + name
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(DDL)
        engine = create_engine(url)
        schema = reflect(engine)
        the_plan = plan(schema)
        sizes = resolve_rows(schema, the_plan, {"account": max(args.rows // 20, 1), "entry": args.rows}, 0)
        total = sum(sizes.values())

        t0 = time.perf_counter()
        frames = synthesize(schema, the_plan, sizes, seed=1).frames
        gen = time.perf_counter() - t0

        t0 = time.perf_counter()
        PostgresSink(engine).write(schema, the_plan, frames, options=WriteOptions())
        write = time.perf_counter() - t0

        # the limit: buffers prepared before the clock starts, then COPY and keys in one transaction
        buffers = _buffers(schema, the_plan, frames)
        limit = _prepared_copy(url, the_plan, buffers, "limit")
        keyed = _keyed_copy(url, the_plan, buffers, "keyed")
        engine.dispose()
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()

    print(f"rows: {total:,} ({sizes['entry']:,} entry + {sizes['account']:,} account)")
    print(f"generation: {gen:.2f} s  = {total / gen:,.0f} rows/s")
    print(f"write (dbsynth PostgresSink: serialise, COPY, keys validated): {write:.2f} s = {total / write:,.0f} rows/s")
    print(f"limit (prepared CSV buffers, COPY, keys added and validated):  {limit:.2f} s = {total / limit:,.0f} rows/s")
    print(f"COPY of prepared buffers into tables checking keys per row:    {keyed:.2f} s = {total / keyed:,.0f} rows/s")
    print(f"dbsynth write / limit: {limit / write:.2f}×")
    print(f"generation + write / limit: {(gen + write) / limit:.2f}× the limit's time")


def _buffers(schema: Schema, the_plan: Plan, frames: Mapping[str, pd.DataFrame]) -> dict[str, bytes]:
    """Each table's rows as the CSV text COPY reads (NULL as \\N), made before any timing."""
    out = {}
    for key in the_plan.order:
        cols = written_columns(schema.table(key), frames[key])
        frame = pd.DataFrame({c.name: to_text(c, frames[key][c.name]) for c in cols})
        buf = io.StringIO()
        frame.to_csv(buf, header=False, index=False, na_rep="\\N")
        out[key] = buf.getvalue().encode()
    return out


def _prepared_copy(url: str, the_plan: Plan, buffers: Mapping[str, bytes], prefix: str) -> float:
    with psycopg.connect(url) as conn:
        t0 = time.perf_counter()
        for key in the_plan.order:
            conn.execute(f"CREATE TABLE {prefix}_{key} (LIKE {key})")
            with conn.cursor() as cur, cur.copy(f"COPY {prefix}_{key} FROM STDIN (FORMAT csv, NULL '\\N')") as copy:
                copy.write(buffers[key])
        conn.execute(f"ALTER TABLE {prefix}_account ADD PRIMARY KEY (account_id)")
        conn.execute(f"ALTER TABLE {prefix}_entry ADD PRIMARY KEY (entry_id)")
        conn.execute(f"ALTER TABLE {prefix}_entry ADD FOREIGN KEY (account_id) "
                     f"REFERENCES {prefix}_account (account_id)")
        conn.commit()
        return time.perf_counter() - t0


def _keyed_copy(url: str, the_plan: Plan, buffers: Mapping[str, bytes], prefix: str) -> float:
    with psycopg.connect(url) as conn:
        for key in the_plan.order:
            conn.execute(f"CREATE TABLE {prefix}_{key} (LIKE {key} INCLUDING ALL)")
        conn.execute(f"ALTER TABLE {prefix}_entry ADD FOREIGN KEY (account_id) "
                     f"REFERENCES {prefix}_account (account_id)")
        conn.commit()
        t0 = time.perf_counter()
        for key in the_plan.order:
            with conn.cursor() as cur, cur.copy(f"COPY {prefix}_{key} FROM STDIN (FORMAT csv, NULL '\\N')") as copy:
                copy.write(buffers[key])
        conn.commit()
        return time.perf_counter() - t0


if __name__ == "__main__":
    main()
