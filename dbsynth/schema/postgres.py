"""PostgreSQL catalog facts that SQLAlchemy's inspector does not expose: partitions, their bounds,
domain base types with their length/precision and CHECK constraints, and the fields of composite
types."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = [
    "CompositeField",
    "DomainInfo",
    "PartitionInfo",
    "composites",
    "domains",
    "partition_check",
    "partitions",
    "table_schemas",
]


@dataclass(frozen=True)
class PartitionInfo:
    schema: str
    name: str
    parent_schema: str
    parent: str
    bound: str
    parent_key: str


@dataclass(frozen=True)
class DomainInfo:
    schema: str
    name: str
    base_type: str
    not_null: bool
    checks: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CompositeField:
    """One field of a composite type: its SQL type (``format_type``), the kind of that type (``b``
    base, ``e`` enum, ``d`` domain, ``c`` composite …), its schema and name, and an enum's labels."""

    name: str
    sql_type: str
    typtype: str
    type_schema: str
    type_name: str
    labels: tuple[str, ...]


def composites(conn: Connection) -> dict[str, tuple[CompositeField, ...]]:
    """The fields of every stand-alone composite type (``CREATE TYPE … AS (…)``), keyed by the type's
    name as ``format_type`` spells it (and SQLAlchemy's warning about the unknown type quotes it)."""
    rows = conn.execute(sa.text("""
        SELECT format_type(t.oid, NULL), a.attname, format_type(a.atttypid, a.atttypmod), ft.typtype,
               fn.nspname, ft.typname,
               coalesce((SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
                         FROM pg_enum e WHERE e.enumtypid = ft.oid), '{}')
        FROM pg_type t
        JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        JOIN pg_type ft ON ft.oid = a.atttypid
        JOIN pg_namespace fn ON fn.oid = ft.typnamespace
        WHERE t.typtype = 'c'
        ORDER BY 1, a.attnum"""))
    out: dict[str, list[CompositeField]] = {}
    for type_name, field, sql_type, typtype, schema, name, labels in rows:
        out.setdefault(type_name, []).append(CompositeField(field, sql_type, typtype, schema, name, tuple(labels)))
    return {k: tuple(v) for k, v in out.items()}


def partitions(conn: Connection) -> list[PartitionInfo]:
    rows = conn.execute(sa.text("""
        SELECT cn.nspname, c.relname, pn.nspname, p.relname,
               pg_get_expr(c.relpartbound, c.oid), pg_get_partkeydef(p.oid)
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid AND c.relispartition
        JOIN pg_namespace cn ON cn.oid = c.relnamespace
        JOIN pg_class p ON p.oid = i.inhparent
        JOIN pg_namespace pn ON pn.oid = p.relnamespace
        WHERE c.relkind IN ('r', 'p')
        ORDER BY 1, 2"""))
    return [PartitionInfo(*row) for row in rows]


def domains(conn: Connection) -> dict[tuple[str, str], DomainInfo]:
    rows = conn.execute(sa.text("""
        SELECT n.nspname, t.typname, format_type(t.typbasetype, t.typtypmod), t.typnotnull,
               coalesce(array_agg(c.conname ORDER BY c.conname)
                        FILTER (WHERE c.conname IS NOT NULL), '{}'),
               coalesce(array_agg(pg_get_constraintdef(c.oid) ORDER BY c.conname)
                        FILTER (WHERE c.conname IS NOT NULL), '{}')
        FROM pg_type t
        JOIN pg_namespace n ON n.oid = t.typnamespace
        LEFT JOIN pg_constraint c ON c.contypid = t.oid AND c.contype = 'c'
        WHERE t.typtype = 'd'
        GROUP BY 1, 2, 3, 4"""))
    out = {}
    for schema, name, base, not_null, names, defs in rows:
        checks = tuple((n, _strip_check(d)) for n, d in zip(names, defs, strict=True))
        out[(schema, name)] = DomainInfo(schema, name, base, bool(not_null), checks)
    return out


def _strip_check(definition: str) -> str:
    text = definition.strip()
    text = re.sub(r"\s+NOT VALID$", "", text)
    if text.upper().startswith("CHECK"):
        text = text[5:].strip()
    return text


_RANGE = re.compile(r"FOR VALUES FROM \((?P<lo>.*)\) TO \((?P<hi>.*)\)$", re.S)
_LIST = re.compile(r"FOR VALUES IN \((?P<items>.*)\)$", re.S)


def partition_check(partkey: str, bounds: list[str]) -> str | None:
    """A CHECK-style predicate that holds exactly for rows some partition accepts, or ``None`` when
    every row fits (a DEFAULT or HASH partition, or a key we do not model: several columns or an
    expression). Rows that fit no partition would make PostgreSQL reject the load."""
    m = re.fullmatch(r"(RANGE|LIST) \((\w+)\)", partkey.strip())
    if not m or any(b.strip() == "DEFAULT" for b in bounds):
        return None
    strategy, col = m.groups()
    parts = []
    for bound in bounds:
        if strategy == "RANGE" and (r := _RANGE.match(bound.strip())):
            lo, hi = r.group("lo").strip(), r.group("hi").strip()
            if "," in lo or "," in hi:
                return None
            side = []
            if lo != "MINVALUE":
                side.append(f"{col} >= {lo}")
            if hi != "MAXVALUE":
                side.append(f"{col} < {hi}")
            parts.append("(" + " AND ".join(side or ["TRUE"]) + ")")
        elif strategy == "LIST" and (li := _LIST.match(bound.strip())):
            parts.append(f"({col} IN ({li.group('items')}))")
        else:
            return None
    return " OR ".join(parts) if parts else None


def table_schemas(conn: Connection) -> list[str]:
    """The schemas holding at least one user table, as pg_dump sees them: not the system schemas
    (``pg_catalog``, ``information_schema``, ``pg_toast``, temporary ones) and not tables an
    extension owns (PostGIS' ``spatial_ref_sys``)."""
    rows = conn.execute(sa.text("""
        SELECT DISTINCT n.nspname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY 1""")).scalars().all()
    return list(rows)
