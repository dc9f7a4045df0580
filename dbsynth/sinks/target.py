"""Steps every database sink shares: create the schema, check the tables exist and are empty."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dbsynth.errors import DbsynthError, TargetNotEmptyError
from dbsynth.graph import Plan
from dbsynth.schema.metadata import create_types, losses, to_metadata
from dbsynth.schema.model import Schema, Table
from dbsynth.schema.reflect import has_table

__all__ = [
    "check_tables_exist",
    "create_schema",
    "lock_wait",
    "non_empty_tables",
    "not_empty_error",
    "qualified",
    "refuse_existing",
    "sa_table",
]

log = logging.getLogger(__name__)


def sa_table(table: Table, columns: list[str]) -> sa.TableClause:
    """A lightweight table clause: values pass through untyped, as the generator made them."""
    return sa.table(table.name, *[sa.column(c) for c in columns], schema=table.schema)


def qualified(conn: Connection, table: Table) -> str:
    prep = conn.dialect.identifier_preparer
    name = prep.quote(table.name)
    return f"{prep.quote_schema(table.schema)}.{name}" if table.schema else name


def refuse_existing(conn: Connection, schema: Schema) -> None:
    """``--create-schema`` creates every table, so none may exist yet: what a failed run drops is
    then only what it created."""
    existing = [t.key for t in schema.tables
                if has_table(conn, t.name, schema=t.schema)]
    if existing:
        raise DbsynthError(
            f"--create-schema: the target already has table(s) {', '.join(existing)}; "
            "drop them or seed without --create-schema")


def create_schema(conn: Connection, schema: Schema) -> None:
    """Create the reflected tables in a target that has none of them (call :func:`refuse_existing`
    first: ``--create-schema``)."""
    lost = losses(schema, conn.dialect.name)
    if lost:
        log.warning("--create-schema from %s into %s leaves out what %s cannot take as written (the rows still "
                    "follow it): %s", schema.dialect, conn.dialect.name, conn.dialect.name, "; ".join(lost))
    md = to_metadata(schema, conn.dialect.name)
    for s in sorted({t.schema for t in schema.tables if t.schema}):
        conn.execute(sa.schema.CreateSchema(s, if_not_exists=True))
    create_types(conn, schema)
    md.create_all(conn)


def check_tables_exist(conn: Connection, schema: Schema) -> None:
    missing = [t.key for t in schema.tables if not has_table(conn, t.name, schema=t.schema)]
    if missing:
        raise DbsynthError(
            f"the target has no table(s) {', '.join(missing)}; run its migrations first or pass "
            "--create-schema to create them from the source schema")


def non_empty_tables(conn: Connection, schema: Schema, plan: Plan) -> list[str]:
    out = []
    for key in plan.order:
        t = schema.table(key)
        if conn.execute(sa.select(sa.literal(1)).select_from(sa_table(t, [])).limit(1)).first():
            out.append(key)
    return out


def not_empty_error(tables: list[str]) -> TargetNotEmptyError:
    return TargetNotEmptyError(
        f"the target is not empty: {', '.join(tables)} already hold rows; pass --truncate to "
        "replace them (nothing was written)")


def _is_lock_timeout(orig: object) -> bool:
    if getattr(orig, "sqlstate", None) == "55P03":  # PostgreSQL: lock_not_available
        return True
    args = getattr(orig, "args", ())
    if args and args[0] == 1205:  # MySQL/MariaDB: lock wait timeout exceeded
        return True
    return "database is locked" in str(orig)  # SQLite's busy timeout


def lock_wait(engine: Engine, exc: BaseException, tables: list[Table]) -> str | None:
    """When ``exc`` is a lock timeout, what held the lock, in words a user can act on: on PostgreSQL
    the table, the other session's pid, its state and its query (from ``pg_locks``); on MariaDB the
    oldest other open transaction; on SQLite the file. ``None`` for any other error."""
    orig = getattr(exc, "orig", exc)
    if not _is_lock_timeout(orig):
        return None
    advice = "end that session or rerun when it is done; --lock-timeout sets how long to wait"
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                waited = conn.exec_driver_sql("SHOW lock_timeout").scalar()
                row = conn.execute(sa.text("""
                    SELECT l.relation::regclass::text, l.pid, coalesce(a.state, '?'),
                           left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 80)
                    FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
                    WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid()
                      AND l.relation = ANY(ARRAY(SELECT to_regclass(n)::oid FROM unnest(CAST(:names AS text[])) n))
                    ORDER BY a.xact_start NULLS LAST LIMIT 1"""),
                    {"names": [qualified(conn, t) for t in tables]}).first()
                if row is not None:
                    return (f"table {row[0]} is locked by another session (pid {row[1]}, {row[2]}: {row[3]!r}); "
                            f"gave up after waiting {waited}: {advice}")
                return f"a lock was still held by another session after {waited}: {advice}"
            if conn.dialect.name in ("mysql", "mariadb"):
                waited = conn.exec_driver_sql("SELECT @@SESSION.innodb_lock_wait_timeout").scalar()
                trx = conn.exec_driver_sql(
                    "SELECT trx_mysql_thread_id, trx_started, coalesce(trx_query, '') "
                    "FROM information_schema.innodb_trx WHERE trx_mysql_thread_id <> CONNECTION_ID() "
                    "ORDER BY trx_started LIMIT 1").first()
                if trx is not None:
                    return (f"another session holds a lock on it (connection {trx[0]}, in a transaction since "
                            f"{trx[1]}{': ' + repr(trx[2][:80]) if trx[2] else ''}); gave up after waiting {waited} s: "
                            f"{advice}")
                return f"another session held a lock on it for more than {waited} s: {advice}"
    except sa.exc.DBAPIError:
        pass
    return f"another connection held a lock on it: {advice}"
