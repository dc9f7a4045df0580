"""Frozen dataclasses that describe a reflected database schema, independent of its dialect.

Everything after reflection reads these objects, never SQLAlchemy's dialect-specific dicts: the
conversion happens once, in :mod:`dbsynth.schema.reflect`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from dbsynth.errors import UsageError

__all__ = [
    "Check",
    "Column",
    "ColumnType",
    "Composite",
    "ForeignKey",
    "Identity",
    "PrimaryKey",
    "Schema",
    "Table",
    "TypeKind",
    "Unique",
    "field_references",
    "unquote_identifier",
]


class TypeKind(enum.StrEnum):
    """What a column holds, as far as generating a value is concerned."""

    INTEGER = "integer"
    DECIMAL = "decimal"
    FLOAT = "float"
    BOOLEAN = "boolean"
    STRING = "string"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    INTERVAL = "interval"
    UUID = "uuid"
    JSON = "json"
    BINARY = "binary"
    ENUM = "enum"
    ARRAY = "array"
    TSVECTOR = "tsvector"
    INET = "inet"
    COMPOSITE = "composite"  # only in :meth:`Table.physical`; generation sees one column per field
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ColumnType:
    """A column's type: its kind plus the parameters that bound its values.

    ``name`` is the database's own spelling (``varchar``, ``mpaa_rating``) for messages;
    ``bits`` is the width of an integer type; ``domain`` names a PostgreSQL domain the type came from.
    """

    kind: TypeKind
    name: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    bits: int | None = None
    timezone: bool = False
    fixed_length: bool = False
    labels: tuple[str, ...] = ()
    item: ColumnType | None = None
    domain: str | None = None


@dataclass(frozen=True)
class Identity:
    """An identity column (``GENERATED {ALWAYS|BY DEFAULT} AS IDENTITY``)."""

    always: bool
    start: int = 1
    increment: int = 1


@dataclass(frozen=True)
class Column:
    """One column. ``generated`` holds the expression of a generated column, which is never written;
    ``sequence`` names the sequence behind a serial/``nextval`` default, to reset after a load."""

    name: str
    type: ColumnType
    nullable: bool
    default: str | None = None
    identity: Identity | None = None
    autoincrement: bool = False
    sequence: str | None = None
    generated: str | None = None

    @property
    def writable(self) -> bool:
        return self.generated is None


@dataclass(frozen=True)
class PrimaryKey:
    name: str | None
    columns: tuple[str, ...]


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key; ``referred`` is the key (see :attr:`Table.key`) of the referenced table."""

    name: str | None
    columns: tuple[str, ...]
    referred: str
    referred_columns: tuple[str, ...]
    deferrable: bool = False
    initially_deferred: bool = False

    def describe(self, table: str) -> str:
        return f"{table}({', '.join(self.columns)}) -> {self.referred}({', '.join(self.referred_columns)})"


@dataclass(frozen=True)
class Unique:
    """A UNIQUE constraint or unique index.

    ``where`` is the predicate of a partial index and ``expressions`` the expressions of an expression
    index. Generation treats both conservatively: it keeps ``columns`` unique over *all* rows.
    """

    name: str | None
    columns: tuple[str, ...]
    index: bool = False
    where: str | None = None
    expressions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """A CHECK constraint's SQL text, in the source dialect. ``origin`` is ``table``, ``domain`` (a
    domain's check rewritten onto its column) or ``partition`` (the bounds of a partitioned table)."""

    name: str | None
    sqltext: str
    origin: str = "table"


@dataclass(frozen=True)
class Composite:
    """A column of a composite (row) type: ``coordinates geocoord`` with ``CREATE TYPE geocoord AS
    (latitude numeric, longitude numeric)``.

    Reflection gives the table one column per field, named ``coordinates.latitude``: learning,
    generation, CHECKs (``(coordinates).latitude BETWEEN -90 AND 90``, see :func:`field_references`)
    and reports all work on plain columns, and only the write puts the composite value back together
    (:meth:`Table.physical`). ``fields`` pairs each field with its SQL type and ``enums`` lists the
    enum types those use with their labels, to create the type in a target that lacks it.
    """

    column: str
    type_name: str
    fields: tuple[tuple[str, str], ...]
    nullable: bool
    enums: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def sub(self, field: str) -> str:
        """The name of the column that holds ``field``."""
        return f"{self.column}.{field}"

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.sub(f) for f, _ in self.fields)


_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
_FIELD_REF = re.compile(rf"\(\s*({_IDENT})\s*\)\s*\.\s*({_IDENT})")


def unquote_identifier(name: str) -> str:
    """``"Post code"`` → ``Post code``; an unquoted name as it is."""
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def field_references(sqltext: str, composites: tuple[Composite, ...]) -> str:
    """``sqltext`` with every ``(column).field`` of a composite column written as the quoted name of
    its field column, ``"column.field"``, so that CHECKs on fields parse and evaluate like any other."""
    if not composites:
        return sqltext
    known = {(c.column, f): c.sub(f) for c in composites for f, _ in c.fields}

    def swap(m: re.Match[str]) -> str:
        name = known.get((unquote_identifier(m.group(1)), unquote_identifier(m.group(2))))
        return m.group(0) if name is None else '"' + name.replace('"', '""') + '"'

    return _FIELD_REF.sub(swap, sqltext)


@dataclass(frozen=True)
class Table:
    """One writable table. ``schema`` is ``None`` for the connection's default schema."""

    schema: str | None
    name: str
    columns: tuple[Column, ...]
    primary_key: PrimaryKey | None = None
    foreign_keys: tuple[ForeignKey, ...] = ()
    uniques: tuple[Unique, ...] = ()
    checks: tuple[Check, ...] = ()
    partitions: tuple[str, ...] = ()
    composites: tuple[Composite, ...] = ()

    @property
    def key(self) -> str:
        """The name used everywhere else: ``name`` or ``schema.name``."""
        return self.name if self.schema is None else f"{self.schema}.{self.name}"

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.key} has no column {name!r}")

    @property
    def writable_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.writable)

    def field_of(self, name: str) -> tuple[Composite, str] | None:
        """The composite column and field that column ``name`` holds, if it is a field column."""
        for comp in self.composites:
            for f, _ in comp.fields:
                if comp.sub(f) == name:
                    return comp, f
        return None

    def physical(self) -> Table:
        """The table as the database has it: each composite's field columns replaced, where the
        first of them stood, by the composite column itself (kind ``COMPOSITE``); keys named by it."""
        owner = {sub: comp for comp in self.composites for sub in comp.columns}
        if not any(c.name in owner for c in self.columns):
            return self
        cols: list[Column] = []
        for c in self.columns:
            comp = owner.get(c.name)
            if comp is None:
                cols.append(c)
            elif c.name == comp.columns[0]:
                cols.append(Column(comp.column, ColumnType(TypeKind.COMPOSITE, comp.type_name), comp.nullable))

        def names(columns: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(owner[c].column if c in owner else c for c in columns))

        return replace(
            self, columns=tuple(cols),
            primary_key=None if self.primary_key is None else replace(self.primary_key,
                                                                      columns=names(self.primary_key.columns)),
            foreign_keys=tuple(replace(fk, columns=names(fk.columns)) for fk in self.foreign_keys),
            uniques=tuple(replace(u, columns=names(u.columns)) for u in self.uniques))

    def unique_sets(self) -> Iterator[tuple[str, ...]]:
        """Every column set that must be unique: the primary key first, then UNIQUEs, deduplicated."""
        seen: set[tuple[str, ...]] = set()
        sets = [self.primary_key.columns] if self.primary_key else []
        sets += [u.columns for u in self.uniques if u.columns]
        for cols in sets:
            if cols not in seen:
                seen.add(cols)
                yield cols


@dataclass(frozen=True)
class Schema:
    """A reflected database: its dialect name and its writable tables (views and partitions excluded)."""

    dialect: str
    tables: tuple[Table, ...]
    default_schema: str | None = None
    skipped: tuple[str, ...] = field(default=())

    def table(self, key: str) -> Table:
        for t in self.tables:
            if t.key == key:
                return t
        raise KeyError(key)

    def physical(self) -> Schema:
        """The schema as the database has it (see :meth:`Table.physical`), for writing."""
        return replace(self, tables=tuple(t.physical() for t in self.tables))

    def __contains__(self, key: object) -> bool:
        return any(t.key == key for t in self.tables)

    def resolve(self, name: str, *, option: str = "--rows") -> str:
        """The key of the table a user named: ``name`` as keyed, ``schema.name`` for a table of the
        default schema too; a bare name that two schemas share is ambiguous, never a silent pick."""
        if self.default_schema and name.startswith(f"{self.default_schema}.") and name not in self:
            bare = name[len(self.default_schema) + 1:]
            if bare in self:
                return bare
        same = [t.key for t in self.tables if t.name == name and t.key != name]
        if name in self and same:
            raise UsageError(f"{option} {name}: ambiguous, {' and '.join([f'{self.default_schema}.{name}', *same])} "
                             "both exist; name the schema")
        if name not in self:
            if len(same) == 1:
                return same[0]
            raise UsageError(f"{option} names unknown table {name!r}; tables are: "
                             f"{', '.join(t.key for t in self.tables)}")
        return name
