"""Generic sink for SQLite and MySQL/MariaDB: SQLAlchemy executemany inserts in batches.

One transaction; whole tables in plan order, or a partitioned run's batches as they come (parents
first, see :mod:`dbsynth.partition`). FK edges broken by NULL are written NULL and UPDATEd at the end by
primary key; deferrable edges (SQLite) are written as they are with the check deferred to commit.
SQLite's foreign keys are switched on for the run so the database itself checks every row.
MariaDB commits DDL implicitly, so a failed ``--create-schema`` run drops the tables it created.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from dbsynth.errors import DbsynthError, WriteError, database_reason
from dbsynth.graph import BreakStrategy, Plan
from dbsynth.schema.metadata import to_metadata
from dbsynth.schema.model import Column, Schema, Table, TypeKind
from dbsynth.schema.reflect import has_table
from dbsynth.sinks.base import Progress, Sink, WriteOptions, WriteReport, written_columns
from dbsynth.sinks.target import (
    check_tables_exist,
    create_schema,
    lock_wait,
    non_empty_tables,
    not_empty_error,
    qualified,
    refuse_existing,
    sa_table,
)

__all__ = ["SqlAlchemySink"]

log = logging.getLogger(__name__)


def _python_values(col: Column, values: pd.Series, dialect: str) -> np.ndarray:
    """Plain Python objects the DB-API drivers understand (no numpy scalars, no pandas NA)."""
    kind = col.type.kind
    if kind in (TypeKind.DATE, TypeKind.DATETIME) and pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dtype, "tz", None) is not None and dialect != "postgresql":
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        objs = values.dt.date if kind is TypeKind.DATE else pd.Series(values.dt.to_pydatetime(), dtype=object)
        out = np.array(objs, dtype=object)
        out[values.isna().to_numpy()] = None
        return out
    out = values.astype(object).to_numpy(copy=True)
    out[pd.isna(values).to_numpy()] = None
    if values.dtype.kind in "iuf":
        out = np.array([v.item() if isinstance(v, np.generic) else v for v in out], dtype=object)
    return out


def _records(table: Table, frame: pd.DataFrame, cols: list[Column], dialect: str,
             nulled: set[str]) -> list[dict[str, Any]]:
    data = {c.name: (np.full(len(frame), None, dtype=object) if c.name in nulled
                     else _python_values(c, frame[c.name], dialect)) for c in cols}
    names = list(data)
    return [dict(zip(names, row, strict=True)) for row in zip(*data.values(), strict=True)]


def _check_foreign_keys(conn: Connection, schema: Schema, plan: Plan) -> None:
    """One anti-join per FK, for a load made with FK checks off: any orphan is a WriteError naming
    the FK (the caller's transaction then rolls back)."""
    prep = conn.dialect.identifier_preparer
    for key in plan.order:
        table = schema.table(key)
        for fk in table.foreign_keys:
            if fk.referred not in schema:
                continue
            parent = schema.table(fk.referred)
            on = " AND ".join(f"p.{prep.quote(r)} = c.{prep.quote(c)}"
                              for c, r in zip(fk.columns, fk.referred_columns, strict=True))
            present = " AND ".join(f"c.{prep.quote(c)} IS NOT NULL" for c in fk.columns)
            orphans = conn.exec_driver_sql(
                f"SELECT count(*) FROM {qualified(conn, table)} c WHERE {present} AND NOT EXISTS "
                f"(SELECT 1 FROM {qualified(conn, parent)} p WHERE {on})").scalar_one()
            if orphans:
                raise WriteError(f"{fk.describe(key)}: {orphans} rows point at no {fk.referred} row after the "
                                 "load; nothing was written")


@dataclass
class _Stage:
    """What the write is doing now, for the one-line error when the database refuses it."""

    now: str = "the target"


class SqlAlchemySink(Sink):
    """Writes through SQLAlchemy Core inserts (SQLite, MySQL, MariaDB)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _truncate(self, conn: Connection, schema: Schema, plan: Plan) -> None:
        mysql = conn.dialect.name in ("mysql", "mariadb")
        if mysql:
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
        elif conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        for key in reversed(plan.order):
            conn.exec_driver_sql(f"DELETE FROM {qualified(conn, schema.table(key))}")
        if mysql:
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")

    def write(self, schema: Schema, plan: Plan, frames: Mapping[str, pd.DataFrame], *,
              options: WriteOptions, progress: Progress | None = None) -> WriteReport:
        return self.write_batches(schema, plan, ((k, frames[k]) for k in plan.order), options=options,
                                  progress=progress)

    def write_batches(self, schema: Schema, plan: Plan, batches: Iterable[tuple[str, pd.DataFrame]], *,
                      options: WriteOptions, progress: Progress | None = None) -> WriteReport:
        """Each batch inserted as it arrives, so a partitioned run streams into the target in bounded
        memory: a partitioned run's batches come parents first (see :mod:`dbsynth.partition`), so the
        database checks every FK as it would for whole tables."""
        start = time.perf_counter()
        dialect = self.engine.dialect.name
        created = False
        stage = _Stage()
        try:
            with self.engine.connect() as conn:
                if dialect == "sqlite":
                    conn.exec_driver_sql("PRAGMA foreign_keys = ON")
                    conn.commit()
                with conn.begin():
                    if dialect == "sqlite":  # pysqlite would leave DDL outside the transaction
                        conn.exec_driver_sql("BEGIN")
                    if options.create_schema:
                        refuse_existing(conn, schema)
                        created = True  # from here on a failure drops what this run created
                        create_schema(conn, schema)
                    check_tables_exist(conn, schema)
                    busy = non_empty_tables(conn, schema, plan)
                    if busy and not options.truncate:
                        raise not_empty_error(busy)
                    if busy:
                        stage.now = f"{', '.join(busy)} (emptying for --truncate)"
                        self._truncate(conn, schema, plan)
                    after_load = any(d.strategy is BreakStrategy.CHECKED_AFTER_LOAD for d in plan.deferred)
                    if dialect == "sqlite" and (after_load or any(
                            d.strategy is BreakStrategy.DEFERRED_CONSTRAINT for d in plan.deferred)):
                        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")  # checked at COMMIT
                    checks_off = after_load and dialect in ("mysql", "mariadb")
                    if checks_off:  # as mysqldump output loads; every FK is validated below
                        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
                    rows = self._load(conn, schema, plan, batches, options, progress, stage)
                    if checks_off:
                        stage.now = "the foreign-key check after the load"
                        _check_foreign_keys(conn, schema, plan)
                        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")
                    for key in plan.order:
                        self._reset_sequence(conn, schema.table(key))
        except DbsynthError:
            self._drop_created(schema, created)
            raise
        except DBAPIError as exc:
            self._drop_created(schema, created)
            reason = lock_wait(self.engine, exc, [schema.table(k) for k in plan.order]) or database_reason(exc)
            raise WriteError(f"writing {stage.now} failed, nothing was written: {reason}") from exc
        return WriteReport(rows, time.perf_counter() - start)

    def _load(self, conn: Connection, schema: Schema, plan: Plan, batches: Iterable[tuple[str, pd.DataFrame]],
              options: WriteOptions, progress: Progress | None, stage: _Stage) -> dict[str, int]:
        """Insert every batch (executemany, ``batch_size`` rows at a time), then fill the
        cycle-breaking FK columns that were written NULL (those tables' batches kept until then)."""
        dialect = conn.dialect.name
        later = {d.table: d for d in plan.deferred if d.strategy is BreakStrategy.NULL_THEN_UPDATE}
        kept: dict[str, list[pd.DataFrame]] = {}
        rows = dict.fromkeys(plan.order, 0)
        for key, frame in batches:
            stage.now = key
            table = schema.table(key)
            cols = written_columns(table, frame)
            nulled = set(later[key].fk.columns) if key in later else set()
            records = _records(table, frame, cols, dialect, nulled)
            stmt = sa_table(table, [c.name for c in cols]).insert()
            for i in range(0, len(records), options.batch_size):
                conn.execute(stmt, records[i:i + options.batch_size])
            rows[key] += len(frame)
            if key in later:
                kept.setdefault(key, []).append(frame)
            if progress:
                progress(key, len(frame))
        for key, edge in later.items():
            if key in kept:
                stage.now = f"{key} (deferred {', '.join(edge.fk.columns)})"
                self._update(conn, schema.table(key), pd.concat(kept[key], ignore_index=True),
                             list(edge.fk.columns), dialect, options.batch_size)
        return rows

    def _update(self, conn: Connection, table: Table, frame: pd.DataFrame, cols: list[str],
                dialect: str, batch: int) -> None:
        if table.primary_key is None:
            raise WriteError(f"{table.key}: cannot fill the cycle-breaking column(s) {', '.join(cols)} "
                             "afterwards: the table has no primary key to UPDATE by")
        pk = list(table.primary_key.columns)
        t = sa_table(table, pk + cols)
        stmt = t.update().where(sa.and_(*[t.c[c] == sa.bindparam(f"k_{c}") for c in pk])).values(
            {c: sa.bindparam(f"v_{c}") for c in cols})
        data = {f"k_{c}": _python_values(table.column(c), frame[c], dialect) for c in pk}
        data |= {f"v_{c}": _python_values(table.column(c), frame[c], dialect) for c in cols}
        names = list(data)
        rows = [dict(zip(names, r, strict=True)) for r in zip(*data.values(), strict=True)]
        rows = [r for r in rows if any(r[f"v_{c}"] is not None for c in cols)]
        for i in range(0, len(rows), batch):
            conn.execute(stmt, rows[i:i + batch])

    def _reset_sequence(self, conn: Connection, table: Table) -> None:
        """SQLite tables declared AUTOINCREMENT keep a counter in sqlite_sequence; InnoDB and plain
        SQLite rowids continue from max+1 on their own."""
        if conn.dialect.name != "sqlite" or not has_table(conn, "sqlite_sequence"):
            return
        auto = [c.name for c in table.columns if c.autoincrement]
        if len(auto) != 1:
            return
        name = qualified(conn, table)
        conn.exec_driver_sql(f"DELETE FROM sqlite_sequence WHERE name = '{table.name}'")
        conn.exec_driver_sql(f"INSERT INTO sqlite_sequence (name, seq) SELECT '{table.name}', "
                             f"coalesce(max({auto[0]}), 0) FROM {name}")

    def _drop_created(self, schema: Schema, created: bool) -> None:
        if created and self.engine.dialect.name in ("mysql", "mariadb"):
            with self.engine.begin() as conn:
                conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
                to_metadata(schema, conn.dialect.name).drop_all(conn)
                conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")
