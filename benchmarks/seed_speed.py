"""Seed speed on PostgreSQL: generation rows/s, write rows/s, and the write time against a plain
psycopg COPY of the same rows into a bare table (no keys), all measured in one run.

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

        # baselines: the same rows, serialised the same way, COPYed by plain psycopg (a) into bare
        # copies of the tables (no keys at all) and (b) into copies that keep the PK and FK, which
        # PostgreSQL then checks row by row
        bare = _plain_copy(url, schema, the_plan, frames, "bare", keys=False)
        keyed = _plain_copy(url, schema, the_plan, frames, "keyed", keys=True)
        engine.dispose()
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()

    print(f"rows: {total:,} ({sizes['entry']:,} entry + {sizes['account']:,} account)")
    print(f"generation: {gen:.2f} s  = {total / gen:,.0f} rows/s")
    print(f"write (dbsynth PostgresSink, keys rebuilt and validated): {write:.2f} s = {total / write:,.0f} rows/s")
    print(f"plain psycopg COPY into bare tables (no keys):          {bare:.2f} s = {total / bare:,.0f} rows/s")
    print(f"plain psycopg COPY into tables with PK/FK checked per row: {keyed:.2f} s = {total / keyed:,.0f} rows/s")
    print(f"dbsynth write speed / plain COPY into bare tables: {bare / write:.2f}")
    print(f"dbsynth write speed / plain COPY into keyed tables: {keyed / write:.2f}")


def _plain_copy(url: str, schema: Schema, the_plan: Plan, frames: Mapping[str, pd.DataFrame],
                prefix: str, *, keys: bool) -> float:
    with psycopg.connect(url) as conn:
        for key in the_plan.order:
            conn.execute(f"CREATE TABLE {prefix}_{key} (LIKE {key} INCLUDING ALL)" if keys
                         else f"CREATE TABLE {prefix}_{key} (LIKE {key})")
        if keys:
            conn.execute(f"ALTER TABLE {prefix}_entry ADD FOREIGN KEY (account_id) "
                         f"REFERENCES {prefix}_account (account_id)")
        conn.commit()
        t0 = time.perf_counter()
        for key in the_plan.order:
            table = schema.table(key)
            cols = written_columns(table, frames[key])
            frame = pd.DataFrame({c.name: to_text(c, frames[key][c.name]) for c in cols})
            with conn.cursor() as cur, cur.copy(f"COPY {prefix}_{key} FROM STDIN (FORMAT csv, NULL '\\N')") as copy:
                for start in range(0, len(frame), 10_000):
                    buf = io.StringIO()
                    frame.iloc[start:start + 10_000].to_csv(buf, header=False, index=False, na_rep="\\N")
                    copy.write(buf.getvalue())
        conn.commit()
        return time.perf_counter() - t0


if __name__ == "__main__":
    main()
