"""Reflect a live database into a :class:`Schema` through SQLAlchemy's inspector.

One code path serves PostgreSQL, SQLite and MySQL/MariaDB; the few PostgreSQL facts the inspector
does not give (partitions, domain base types) come from :mod:`dbsynth.schema.postgres`.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from dbsynth.connect import redact
from dbsynth.errors import UsageError
from dbsynth.schema import mysql, sqlite
from dbsynth.schema import postgres as pg
from dbsynth.schema.model import (
    Check,
    Column,
    ColumnType,
    Composite,
    ForeignKey,
    Identity,
    PrimaryKey,
    Schema,
    Table,
    TypeKind,
    Unique,
)
from dbsynth.schema.types import convert_type, parse_type_name

__all__ = ["has_table", "reflect"]

log = logging.getLogger(__name__)
_NEXTVAL = re.compile(r"nextval\('(?P<seq>[^']+)'(?:::regclass)?\)", re.I)
_VALUE = re.compile(r"\bVALUE\b")
_UNRECOGNISED = re.compile(r"Did not recognize type '([^']+)' of column '([^']+)'")


def reflect(engine: Engine, *, schemas: Sequence[str] | None = None, require_tables: bool = True) -> Schema:
    """Reflect the tables of ``schemas``: by default every user schema on PostgreSQL (as pg_dump
    does; tables outside the default schema are keyed ``schema.table``), the URL's database on
    MySQL/MariaDB and the main database on SQLite.

    Views, materialized views and partitions are left out; a partitioned table is kept with the FKs
    its partitions declare and a CHECK that holds the partition bounds. With ``require_tables``,
    finding no table is a :class:`UsageError` that names the schemas where tables are.
    """
    with engine.connect() as conn:
        insp = sa.inspect(conn)
        default = insp.default_schema_name
        is_pg = conn.dialect.name == "postgresql"
        holding = pg.table_schemas(conn) if is_pg else []
        wanted = list(schemas) if schemas else holding if is_pg else [default]
        parts = pg.partitions(conn) if is_pg else []
        doms = pg.domains(conn) if is_pg else {}
        comps = pg.composites(conn) if is_pg else {}
        tables: list[Table] = []
        for schema in wanted:
            if schema not in insp.get_schema_names() and schema != default:
                raise UsageError(f"schema {schema!r} does not exist in the database; it has "
                                 f"{', '.join(insp.get_schema_names())}")
            tables += _reflect_schema(conn, insp, schema, default, parts, doms, comps)
    if not tables and require_tables:
        where = f"schema(s) {', '.join(map(str, wanted))} of " if schemas else ""
        found = [s for s in holding if s not in wanted]
        raise UsageError(f"found no table in {where}{redact(engine.url)}: "
                         + (f"tables exist in schema(s) {', '.join(found)} (pass --schema)" if found
                            else "create the tables first (run the migrations), or read the schema from another "
                                 "database with --schema-from"))
    skipped = tuple(_key(p.schema, p.name, default) for p in parts if p.schema in wanted)
    return Schema(conn.dialect.name, tuple(sorted(tables, key=lambda t: t.key)), default, skipped)


def has_table(conn: Connection, name: str, *, schema: str | None = None) -> bool:
    """Whether the database behind ``conn`` has table ``name`` (in ``schema``): the sinks' and the
    checker's question, asked here so that reflection stays the one caller of ``sqlalchemy.inspect``."""
    return bool(sa.inspect(conn).has_table(name, schema=schema))


def _key(schema: str | None, name: str, default: str | None) -> str:
    return name if schema in (None, default) else f"{schema}.{name}"


def _reflect_schema(
    conn: Connection,
    insp: Any,
    schema: str | None,
    default: str | None,
    parts: list[pg.PartitionInfo],
    doms: dict[tuple[str, str], pg.DomainInfo],
    comps: dict[str, tuple[pg.CompositeField, ...]],
) -> list[Table]:
    sch = None if schema == default else schema
    part_of = {(p.schema, p.name): p for p in parts}
    children: dict[str, list[pg.PartitionInfo]] = defaultdict(list)
    for p in parts:
        if p.parent_schema == schema:
            children[p.parent].append(p)
    names = [n for n in insp.get_table_names(schema=sch) if (schema, n) not in part_of]
    if not names:
        return []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", sa.exc.SAWarning)
        cols = insp.get_multi_columns(schema=sch)
    unknown = {m.group(2): m.group(1) for w in caught
               if (m := _UNRECOGNISED.search(str(w.message)))}
    pks = insp.get_multi_pk_constraint(schema=sch)
    fks = insp.get_multi_foreign_keys(schema=sch)
    uqs = insp.get_multi_unique_constraints(schema=sch)
    ixs = insp.get_multi_indexes(schema=sch)
    cks = insp.get_multi_check_constraints(schema=sch)
    out = []
    for name in names:
        k = (sch, name)
        columns, dom_checks, composites = _columns(cols.get(k, []), conn, doms, schema, unknown, comps)
        fk_list = [_fk(f, sch, default) for f in fks.get(k, [])]
        partitions = sorted(children.get(name, []), key=lambda p: p.name)
        for p in partitions:
            pk_ = (None if p.schema == default else p.schema, p.name)
            fk_list += [_fk(f, p.schema, default) for f in insp.get_foreign_keys(pk_[1], schema=pk_[0])]
        checks = _checks(conn, sch, name, cks.get(k, []), partitions) + dom_checks
        pk = pks.get(k) or {}
        fields = {c.column: c.columns for c in composites}

        def expand(names: tuple[str, ...], fields: dict[str, tuple[str, ...]] = fields) -> tuple[str, ...]:
            return tuple(n for c in names for n in fields.get(c, (c,)))  # a key over a composite: its fields

        out.append(Table(
            schema=sch,
            name=name,
            columns=tuple(columns),
            primary_key=PrimaryKey(pk.get("name"), expand(tuple(pk["constrained_columns"])))
            if pk.get("constrained_columns") else None,
            foreign_keys=tuple(replace(f, columns=expand(f.columns)) for f in _dedupe_fks(fk_list)),
            uniques=tuple(replace(u, columns=expand(u.columns)) for u in
                          _uniques(uqs.get(k, []) + _sqlite_uniques(conn, name), ixs.get(k, []), columns)),
            checks=tuple(checks),
            partitions=tuple(_key(p.schema, p.name, default) for p in partitions),
            composites=tuple(composites),
        ))
    return out


def _checks(conn: Connection, sch: str | None, name: str, reflected: list[dict[str, Any]],
            partitions: list[pg.PartitionInfo]) -> list[Check]:
    """The table's CHECKs (MySQL/MariaDB read from information_schema), and a partitioned table's
    partition bounds as one more."""
    raw = mysql.check_constraints(conn, sch, name) if conn.dialect.name in ("mysql", "mariadb") else reflected
    checks = [Check(c.get("name"), c["sqltext"]) for c in raw]
    if partitions:
        bound = pg.partition_check(partitions[0].parent_key, [p.bound for p in partitions])
        if bound:
            checks.append(Check(f"{name}_partition_bounds", bound, origin="partition"))
    return checks


def _columns(
    raw: list[dict[str, Any]],
    conn: Connection,
    doms: dict[tuple[str, str], pg.DomainInfo],
    schema: str | None,
    unknown: dict[str, str],
    comps: dict[str, tuple[pg.CompositeField, ...]],
) -> tuple[list[Column], list[Check], list[Composite]]:
    columns: list[Column] = []
    checks: list[Check] = []
    composites: list[Composite] = []
    for c in raw:
        t = c["type"]
        domain_checks: list[Check] = []
        if isinstance(t, postgresql.DOMAIN):
            info = doms.get((t.schema or schema or "public", str(t.name))) or doms.get(("public", str(t.name)))
            if info is not None:
                ctype, domain_checks = _domain(info, _quote(c["name"]), conn)
            else:
                ctype = convert_type(t.data_type, domain=t.name)
        else:
            ctype = convert_type(t)
        if ctype.kind is TypeKind.UNKNOWN and unknown.get(c["name"]) in comps:
            comp, fields, field_checks = _composite(c["name"], unknown[c["name"]], comps[unknown[c["name"]]],
                                                    bool(c["nullable"]), doms, conn)
            composites.append(comp)
            columns += fields
            checks += field_checks
            continue
        if ctype.kind is TypeKind.UNKNOWN and c["name"] in unknown:
            ctype = ColumnType(TypeKind.UNKNOWN, unknown[c["name"]])
        default = c.get("default")
        ident = c.get("identity")
        seq = _NEXTVAL.search(default or "")
        computed = c.get("computed")
        columns.append(Column(
            name=c["name"],
            type=ctype,
            nullable=bool(c["nullable"]),
            default=None if default is None else str(default),
            identity=Identity(bool(ident.get("always")), int(ident.get("start") or 1),
                              int(ident.get("increment") or 1)) if ident else None,
            autoincrement=c.get("autoincrement") is True,
            sequence=seq.group("seq") if seq else None,
            generated=str(computed["sqltext"]) if computed else None,
        ))
        checks += domain_checks
    return columns, checks, composites


def _domain(info: pg.DomainInfo, column_sql: str, conn: Connection) -> tuple[ColumnType, list[Check]]:
    """A domain's base type, and its CHECKs with ``VALUE`` written as ``column_sql``."""
    ctype = convert_type(parse_type_name(info.base_type, conn.dialect), domain=info.name)
    return ctype, [Check(n, _VALUE.sub(column_sql, text), origin="domain") for n, text in info.checks]


def _composite(
    name: str,
    type_name: str,
    fields: tuple[pg.CompositeField, ...],
    nullable: bool,
    doms: dict[tuple[str, str], pg.DomainInfo],
    conn: Connection,
) -> tuple[Composite, list[Column], list[Check]]:
    """A composite column as one column per field (see :class:`Composite`); a field of a domain type
    brings the domain's CHECKs, on ``(column).field``. A field that is itself a composite stays of
    unknown type (generation says so)."""
    columns, checks, sql_types = [], [], []
    for f in fields:
        ctype = ColumnType(TypeKind.UNKNOWN, f.sql_type)
        sql_type = f.sql_type
        if f.typtype == "e":
            ctype = ColumnType(TypeKind.ENUM, f.type_name, labels=f.labels)
        elif f.typtype == "d" and (f.type_schema, f.type_name) in doms:
            info = doms[(f.type_schema, f.type_name)]
            ctype, field_checks = _domain(info, f"({_quote(name)}).{_quote(f.name)}", conn)
            checks += field_checks
            sql_type = info.base_type
        elif f.typtype == "b":
            ctype = convert_type(parse_type_name(f.sql_type, conn.dialect))
        sql_types.append(sql_type)
        columns.append(Column(name=f"{name}.{f.name}", type=ctype, nullable=nullable))
    enums = tuple(dict.fromkeys((f.sql_type, f.labels) for f in fields if f.typtype == "e"))
    comp = Composite(name, type_name, tuple(zip((f.name for f in fields), sql_types, strict=True)), nullable, enums)
    return comp, columns, checks


def _sqlite_uniques(conn: Connection, table: str) -> list[dict[str, Any]]:
    if conn.dialect.name != "sqlite":
        return []
    return [{"name": None, "column_names": list(cols)} for cols in sqlite.unique_autoindexes(conn, table)]


def _quote(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else '"' + name.replace('"', '""') + '"'


def _fk(f: dict[str, Any], schema: str | None, default: str | None) -> ForeignKey:
    opts = f.get("options") or {}
    ref_schema = f.get("referred_schema")
    return ForeignKey(
        name=f.get("name"),
        columns=tuple(f["constrained_columns"]),
        referred=_key(ref_schema, f["referred_table"], default),
        referred_columns=tuple(f["referred_columns"]),
        deferrable=bool(opts.get("deferrable")),
        initially_deferred=str(opts.get("initially", "")).upper() == "DEFERRED",
    )


def _dedupe_fks(fks: list[ForeignKey]) -> tuple[ForeignKey, ...]:
    """FKs declared on each partition of a table are one FK of the parent."""
    seen: dict[tuple[Any, ...], ForeignKey] = {}
    for f in fks:
        seen.setdefault((f.columns, f.referred, f.referred_columns), f)
    return tuple(seen.values())


def _uniques(uqs: list[dict[str, Any]], ixs: list[dict[str, Any]], columns: list[Column]) -> tuple[Unique, ...]:
    out: list[Unique] = []
    for u in uqs:
        if tuple(u["column_names"]) not in {x.columns for x in out}:
            out.append(Unique(u.get("name"), tuple(u["column_names"])))
    known = {u.columns for u in out}
    names = [c.name for c in columns]
    for ix in ixs:
        if not ix.get("unique") or ix.get("duplicates_constraint"):
            continue
        exprs = tuple(e for e in ix.get("expressions", []) or [] if e)
        cols = [c for c in ix.get("column_names", []) if c]
        # an expression index (lower(email)) keeps the columns it mentions unique, conservatively
        for e in exprs:
            cols += [n for n in names if re.search(rf"\b{re.escape(n)}\b", e) and n not in cols]
        opts = ix.get("dialect_options") or {}
        where = opts.get("postgresql_where") or opts.get("sqlite_where")
        index = Unique(ix.get("name"), tuple(cols), index=True,
                       where=None if where is None else str(where), expressions=exprs)
        if index.columns and (index.columns not in known or index.where or index.expressions):
            out.append(index)
            known.add(index.columns)
    return tuple(out)

