"""Build SQLAlchemy ``MetaData`` from a :class:`Schema`, for ``--create-schema``.

Types are mapped back from our portable kinds, so a schema read from one database can be created
in another; CHECKs, generated columns and partial/expression indexes travel only to the same
dialect, where their SQL text is valid.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from dbsynth.schema.model import ColumnType, Schema, TypeKind

__all__ = ["create_types", "losses", "to_metadata"]


class _Named(sa.types.UserDefinedType[Any]):
    """A type the target already has (or :func:`create_types` makes), by name: a composite type."""

    cache_ok = True

    def __init__(self, name: str) -> None:
        self.name = name

    def get_col_spec(self, **kw: Any) -> str:
        return self.name


def _sa_type(t: ColumnType, dialect: str) -> Any:
    pg = dialect == "postgresql"
    k = t.kind
    if k is TypeKind.INTEGER:
        return {16: sa.SmallInteger(), 64: sa.BigInteger()}.get(t.bits or 32, sa.Integer())
    if k is TypeKind.DECIMAL:
        return sa.Numeric(t.precision, t.scale)
    if k is TypeKind.FLOAT:
        return sa.Float()
    if k is TypeKind.BOOLEAN:
        return sa.Boolean()
    if k is TypeKind.STRING:
        if t.fixed_length:
            return sa.CHAR(t.length)
        return sa.String(t.length) if t.length else sa.Text()
    if k is TypeKind.DATE:
        return sa.Date()
    if k is TypeKind.DATETIME:
        return sa.DateTime(timezone=t.timezone)
    if k is TypeKind.TIME:
        return sa.Time()
    if k is TypeKind.INTERVAL:
        return postgresql.INTERVAL() if pg else sa.String(40)
    if k is TypeKind.UUID:
        return sa.Uuid(as_uuid=False)
    if k is TypeKind.JSON:
        return postgresql.JSONB() if pg and t.name == "jsonb" else sa.JSON()
    if k is TypeKind.BINARY:
        return sa.LargeBinary()
    if k is TypeKind.ENUM:
        return sa.Enum(*t.labels, name=t.name if pg else None)
    if k is TypeKind.ARRAY and pg and t.item is not None:
        return postgresql.ARRAY(_sa_type(t.item, dialect))
    if k is TypeKind.TSVECTOR and pg:
        return postgresql.TSVECTOR()
    if k is TypeKind.INET and pg:
        return postgresql.INET()
    if k is TypeKind.COMPOSITE and pg:
        return _Named(t.name)
    return sa.Text()


def create_types(conn: Connection, schema: Schema) -> None:
    """On PostgreSQL, the composite types (and the enum types of their fields) that the tables of
    ``schema`` use and the target lacks, before ``CREATE TABLE``; SQLAlchemy creates the enums of
    columns itself."""
    if conn.dialect.name != "postgresql":
        return
    exists = "SELECT to_regtype(:n) IS NOT NULL"
    for t in schema.tables:
        for comp in t.composites:
            if conn.execute(sa.text(exists), {"n": comp.type_name}).scalar():
                continue
            for enum, labels in comp.enums:
                if not conn.execute(sa.text(exists), {"n": enum}).scalar():
                    postgresql.ENUM(*labels, name=enum).create(conn)
            prep = conn.dialect.identifier_preparer
            fields = ", ".join(f"{prep.quote(f)} {sql}" for f, sql in comp.fields)
            conn.exec_driver_sql(f"CREATE TYPE {comp.type_name} AS ({fields})")


def to_metadata(schema: Schema, dialect: str) -> sa.MetaData:
    same = dialect == schema.dialect
    md = sa.MetaData()
    for t in schema.tables:
        args: list[Any] = []
        for c in t.columns:
            kw: dict[str, Any] = {"nullable": c.nullable}
            extra: list[Any] = []
            if c.identity is not None:
                extra.append(sa.Identity(always=c.identity.always, start=c.identity.start,
                                         increment=c.identity.increment))
            if c.generated is not None:
                if not same:
                    continue
                extra.append(sa.Computed(sa.text(c.generated), persisted=True))
            elif c.default is not None and same and c.sequence is None and c.identity is None:
                kw["server_default"] = sa.text(c.default)
            pk = t.primary_key is not None and c.name in t.primary_key.columns
            kw["autoincrement"] = c.autoincrement if pk else False
            if c.sequence is not None and pk and len(t.primary_key.columns) == 1:  # type: ignore[union-attr]
                kw["autoincrement"] = True
            args.append(sa.Column(c.name, _sa_type(c.type, dialect), *extra, primary_key=pk, **kw))
        for fk in t.foreign_keys:
            ref_schema, _, ref_name = fk.referred.rpartition(".")
            prefix = f"{ref_schema}." if ref_schema else ""
            args.append(sa.ForeignKeyConstraint(
                list(fk.columns), [f"{prefix}{ref_name}.{c}" for c in fk.referred_columns],
                name=fk.name, deferrable=fk.deferrable or None,
                initially="DEFERRED" if fk.initially_deferred else None))
        for u in t.uniques:
            if u.where or u.expressions or u.index:
                continue
            args.append(sa.UniqueConstraint(*u.columns, name=u.name))
        if same:
            args += [sa.CheckConstraint(sa.text(c.sqltext), name=c.name)
                     for c in t.checks if c.origin != "partition"]
        table = sa.Table(t.name, md, *args, schema=t.schema)
        for u in t.uniques:
            if not (u.where or u.expressions or u.index):
                continue
            if same and (u.where or u.expressions):
                exprs = [sa.text(e) for e in u.expressions] or [table.c[c] for c in u.columns]
                where: dict[str, Any] = {f"{dialect}_where": sa.text(u.where)} if u.where else {}
                sa.Index(u.name, *exprs, unique=True, _table=table, **where)
            else:
                sa.Index(u.name, *[table.c[c] for c in u.columns], unique=True)
    return md


def losses(schema: Schema, dialect: str) -> list[str]:
    """What :func:`to_metadata` leaves out when it creates ``schema`` in another dialect: generated
    columns, CHECKs, defaults, partial or expression unique indexes, and domains (created as their
    base type) — said aloud, since the rows still follow them but the new tables do not enforce them."""
    if dialect == schema.dialect:
        return []
    out = []
    for t in schema.tables:
        out += [f"{t.key}.{c.name}: generated column" for c in t.columns if c.generated is not None]
        out += [f"{t.key}.{c.name}: default {c.default}" for c in t.columns
                if c.default is not None and c.sequence is None and c.identity is None and c.generated is None]
        out += [f"{t.key}.{c.name}: domain {c.type.domain} (created as {c.type.name})" for c in t.columns
                if c.type.domain]
        out += [f"{t.key}: CHECK {c.name or c.sqltext}" for c in t.checks if c.origin == "table"]
        out += [f"{t.key}: unique index {u.name}" for u in t.uniques if u.where or u.expressions]
        out += [f"{t.key}.{c.column}: composite type {c.type_name} (created as text)" for c in t.composites]
    return out
