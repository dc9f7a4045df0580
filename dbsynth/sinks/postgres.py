"""PostgreSQL sink: COPY in plan order, in one transaction, the way pg_restore loads.

dbsynth owns the target tables (fresh or truncated), so it drops their primary-key, unique and
foreign-key constraints (and plain indexes), loads with COPY, and re-creates them afterwards in the
same transaction: every constraint is still validated, once, in bulk, instead of row by row.
Constraints that other objects depend on (a view grouping by a primary key) are kept. Triggers stay
enabled. Identity columns ``GENERATED ALWAYS`` are switched to ``BY DEFAULT`` for the load and back.
Materialized views of the seeded schemas are refreshed at the end, in the same transaction.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pandas as pd
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from dbsynth.copy_text import iso_column, to_text
from dbsynth.errors import DbsynthError, WriteError, database_reason
from dbsynth.graph import Plan
from dbsynth.schema.model import Column, Schema, Table, TypeKind
from dbsynth.sinks.base import Progress, Sink, WriteOptions, WriteReport, written_columns
from dbsynth.sinks.target import (
    check_tables_exist,
    create_schema,
    lock_wait,
    non_empty_tables,
    not_empty_error,
    qualified,
    refuse_existing,
)

__all__ = ["PostgresSink"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Saved:
    """A constraint or index dropped for the load, with the SQL that re-creates it."""

    drop: str
    create: str
    is_fk: bool


def _relids(conn: Connection, schema: Schema, tables: list[Table]) -> list[int]:
    oids = []
    for t in tables:
        oid = conn.execute(sa.text("SELECT to_regclass(:n)::oid"), {"n": qualified(conn, t)}).scalar()
        if oid is not None:
            oids.append(int(oid))
        for part in t.partitions:
            poid = conn.execute(sa.text("SELECT to_regclass(:n)::oid"),
                                {"n": qualified(conn, Table(*_split(part), columns=()))}).scalar()
            if poid is not None:
                oids.append(int(poid))
    return oids


def _split(key: str) -> tuple[str | None, str]:
    schema, _, name = key.rpartition(".")
    return (schema or None, name)


def _saved_objects(conn: Connection, relids: list[int]) -> list[_Saved]:
    """Constraints (PK/UNIQUE/FK declared on these relations or pointing at them) and plain indexes
    of ordinary tables, in the order they must be dropped: FKs first."""
    rows = conn.execute(sa.text("""
        SELECT c.contype, c.conrelid::regclass::text, quote_ident(c.conname),
               pg_get_constraintdef(c.oid), r.relkind
        FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
        WHERE c.contype IN ('p', 'u', 'f') AND c.conparentid = 0
          AND (c.conrelid = ANY(:ids) OR (c.contype = 'f' AND c.confrelid = ANY(:ids)))
          AND NOT (c.contype IN ('p', 'u') AND r.relkind = 'p')
        ORDER BY (c.contype <> 'f'), 2, 3"""), {"ids": relids}).all()
    out = [_Saved(f"ALTER TABLE {rel} DROP CONSTRAINT {name}",
                  f"ALTER TABLE {rel} ADD CONSTRAINT {name} {definition}", kind == "f")
           for kind, rel, name, definition, _ in rows]
    idx = conn.execute(sa.text("""
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class r ON r.oid = i.indrelid
        WHERE i.indrelid = ANY(:ids) AND r.relkind = 'r' AND NOT r.relispartition
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1"""), {"ids": relids}).all()
    out += [_Saved(f"DROP INDEX {name}", definition, False) for name, definition in idx]
    return out


def _drop_all(conn: Connection, saved: list[_Saved]) -> list[_Saved]:
    """Drop what can be dropped; keep (and return without) what other objects depend on."""
    dropped = []
    for obj in saved:
        try:
            with conn.begin_nested():
                conn.exec_driver_sql(obj.drop)
            dropped.append(obj)
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != "2BP01":  # dependent_objects_still_exist
                raise
            log.info("kept during load (other objects depend on it): %s", obj.drop)
    return dropped


def _copy(conn: Connection, table: Table, frame: pd.DataFrame, batch: int) -> None:
    """The frame's rows through COPY, in CSV batches; the next batch is serialised (by pyarrow, which
    releases the GIL) while the server reads the current one."""
    cols = written_columns(table, frame)
    if not cols or frame.empty:
        return
    prep = conn.dialect.identifier_preparer
    col_sql = ", ".join(prep.quote(c.name) for c in cols)
    sql = f"COPY {qualified(conn, table)} ({col_sql}) FROM STDIN (FORMAT csv, NULL '\\N')"
    # dates stay dates until csv_bytes formats them with the rest of a batch, in its thread
    values = pd.DataFrame({c.name: frame[c.name] if _dated(c, frame[c.name]) else to_text(c, frame[c.name])
                           for c in cols})
    raw: psycopg.Connection = conn.connection.driver_connection  # type: ignore[assignment]
    with raw.cursor() as cur, cur.copy(sql) as copy, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(csv_bytes, cols, values.iloc[:batch])
        for start in range(0, len(values), batch):
            chunk = pending.result()
            if start + batch < len(values):
                pending = pool.submit(csv_bytes, cols, values.iloc[start + batch:start + 2 * batch])
            copy.write(chunk)


def _dated(col: Column, values: pd.Series) -> bool:
    return col.type.kind in (TypeKind.DATE, TypeKind.DATETIME) and pd.api.types.is_datetime64_any_dtype(values)


# the Arrow types pyarrow's CSV writer renders as PostgreSQL reads them (a duration, a struct would not be)
_PLAIN = ("string", "large_string", "bool", "null", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
          "uint64", "float", "double", "halffloat")


def csv_bytes(cols: list[Column], frame: pd.DataFrame) -> bytes:
    """``frame`` (values as COPY reads them, see :func:`to_text`, dates still dates) as headerless
    CSV with NULL as an unquoted ``\\N``: by pyarrow's writer when every column is text, a number, a
    boolean or a date (dates formatted by :func:`iso_column`), ≈ 10× pandas' ``to_csv``, which
    formats value by value; by pandas otherwise."""
    import pyarrow as pa  # imported here: the CLI starts without loading Arrow
    import pyarrow.csv as pa_csv

    try:
        arrays = []
        for c in cols:
            if _dated(c, frame[c.name]):  # our formatter: a tenth of Arrow's time for dates
                text, null = iso_column(frame[c.name], date_only=c.type.kind is TypeKind.DATE)
                arrays.append(pa.array(text, mask=null).cast(pa.string()))
            else:
                arrays.append(pa.array(frame[c.name], from_pandas=True))
        arrow = pa.table(arrays, names=[c.name for c in cols])
        if all(str(f.type) in _PLAIN or str(f.type).startswith("decimal") for f in arrow.schema):
            out = pa.BufferOutputStream()
            pa_csv.write_csv(arrow, out, pa_csv.WriteOptions(include_header=False, null_string="\\N"))
            return bytes(out.getvalue().to_pybytes())
    except (pa.ArrowException, TypeError, ValueError):
        pass  # mixed object columns (a JSON column of dicts and text): pandas below
    buf = io.StringIO()
    pd.DataFrame({c.name: to_text(c, frame[c.name]) for c in cols}).to_csv(buf, header=False, index=False,
                                                                         na_rep="\\N")
    return buf.getvalue().encode()


def _reset_sequences(conn: Connection, table: Table) -> None:
    name = qualified(conn, table)
    prep = conn.dialect.identifier_preparer
    for c in table.columns:
        if c.sequence is None and c.identity is None:
            continue
        seq = f"'{c.sequence}'" if c.sequence else f"pg_get_serial_sequence('{name}', '{c.name}')"
        conn.exec_driver_sql(
            f"SELECT setval({seq}, coalesce(max({prep.quote(c.name)}), 0) + 1, false) FROM {name}")


def _refresh_views(conn: Connection, tables: list[Table]) -> None:
    """Refresh the populated materialized views of the seeded schemas, as pg_restore does after a
    load: otherwise they keep showing the rows that were there before. Creation order (oid) puts a
    view after the views it reads."""
    schemas = sorted({t.schema or "public" for t in tables})
    views = conn.execute(sa.text("""
        SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'm' AND c.relispopulated AND n.nspname = ANY(:schemas) ORDER BY c.oid"""),
        {"schemas": schemas}).scalars().all()
    for view in views:
        conn.exec_driver_sql(f"REFRESH MATERIALIZED VIEW {view}")


class PostgresSink(Sink):
    """Writes to PostgreSQL through COPY (psycopg 3)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def write(self, schema: Schema, plan: Plan, frames: Mapping[str, pd.DataFrame], *,
              options: WriteOptions, progress: Progress | None = None) -> WriteReport:
        return self.write_batches(schema, plan, ((k, frames[k]) for k in plan.order), options=options,
                                  progress=progress)

    def write_batches(self, schema: Schema, plan: Plan, batches: Iterable[tuple[str, pd.DataFrame]], *,
                      options: WriteOptions, progress: Progress | None = None) -> WriteReport:
        """Each batch COPYed as it arrives (keys and FKs are added after the last), so a partitioned
        run streams into the target in bounded memory."""
        start = time.perf_counter()
        rows = dict.fromkeys(plan.order, 0)
        current = "the target"
        try:
            with self.engine.begin() as conn:
                if options.create_schema:
                    refuse_existing(conn, schema)
                    create_schema(conn, schema)
                check_tables_exist(conn, schema)
                tables = [schema.table(k) for k in plan.order]
                busy = non_empty_tables(conn, schema, plan)
                if busy and not options.truncate:
                    raise not_empty_error(busy)
                if busy:
                    current = f"{', '.join(busy)} (emptying for --truncate)"
                    conn.exec_driver_sql("TRUNCATE " + ", ".join(qualified(conn, t) for t in tables))
                saved = _drop_all(conn, _saved_objects(conn, _relids(conn, schema, tables)))
                prep = conn.dialect.identifier_preparer
                always = [(t, c) for t in tables for c in t.columns if c.identity and c.identity.always]
                for t, c in always:
                    conn.exec_driver_sql(f"ALTER TABLE {qualified(conn, t)} ALTER COLUMN "
                                         f"{prep.quote(c.name)} SET GENERATED BY DEFAULT")
                for key, frame in batches:
                    current = key
                    _copy(conn, schema.table(key), frame, options.batch_size)
                    rows[key] += len(frame)
                    if progress:
                        progress(key, len(frame))
                current = "re-creating constraints"
                for obj in sorted(saved, key=lambda o: o.is_fk):
                    conn.exec_driver_sql(obj.create)
                for t, c in always:
                    conn.exec_driver_sql(f"ALTER TABLE {qualified(conn, t)} ALTER COLUMN "
                                         f"{prep.quote(c.name)} SET GENERATED ALWAYS")
                for t in tables:
                    _reset_sequences(conn, t)
                current = "refreshing materialized views"
                _refresh_views(conn, tables)
        except DbsynthError:
            raise
        except (DBAPIError, psycopg.Error) as exc:
            orig = getattr(exc, "orig", exc)
            locked = lock_wait(self.engine, exc, [schema.table(k) for k in plan.order])
            if locked:
                raise WriteError(f"writing {current} failed, nothing was written: {locked}") from exc
            reason = database_reason(exc)
            detail = getattr(getattr(orig, "diag", None), "message_detail", None)
            raise WriteError(
                f"writing {current} failed, nothing was written: {reason}"
                + (f" ({detail})" if detail else "")) from exc
        return WriteReport(rows, time.perf_counter() - start)
