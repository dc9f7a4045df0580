"""Steps every database sink shares: create the schema, check the tables exist and are empty."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dbsynth.errors import DbsynthError, TargetNotEmptyError
from dbsynth.graph import Plan
from dbsynth.schema.metadata import losses, to_metadata
from dbsynth.schema.model import Schema, Table

__all__ = [
    "check_tables_exist",
    "create_schema",
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
                if sa.inspect(conn).has_table(t.name, schema=t.schema)]
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
    md.create_all(conn)


def check_tables_exist(conn: Connection, schema: Schema) -> None:
    insp = sa.inspect(conn)
    missing = [t.key for t in schema.tables if not insp.has_table(t.name, schema=t.schema)]
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
