"""Map SQLAlchemy's reflected type objects onto :class:`ColumnType`, once, for every dialect."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.engine import Dialect

from dbsynth.schema.model import ColumnType, TypeKind

__all__ = ["convert_type", "parse_type_name"]

_INT_BITS: tuple[tuple[type[Any], int], ...] = (
    (mysql.TINYINT, 8),
    (mysql.MEDIUMINT, 24),
    (sa.SmallInteger, 16),
    (sa.BigInteger, 64),
    (sa.Integer, 32),
)


def _type_name(t: Any) -> str:
    try:
        return str(t.compile()).lower()
    except Exception:  # a type with no generic compilation (TSVECTOR, NullType): use its class
        return type(t).__name__.lower()


def convert_type(t: Any, *, domain: str | None = None) -> ColumnType:
    """Convert one SQLAlchemy type instance. Unknown types become ``TypeKind.UNKNOWN``."""
    name = _type_name(t)
    if isinstance(t, sa.Enum):
        return ColumnType(TypeKind.ENUM, getattr(t, "name", None) or "enum", labels=tuple(t.enums),
                          domain=domain)
    if isinstance(t, sa.ARRAY):
        return ColumnType(TypeKind.ARRAY, name, item=convert_type(t.item_type), domain=domain)
    if isinstance(t, sa.Boolean) or (
        isinstance(t, mysql.TINYINT) and getattr(t, "display_width", None) == 1
    ):
        return ColumnType(TypeKind.BOOLEAN, name, domain=domain)
    if isinstance(t, sa.Integer):
        bits = next(b for cls, b in _INT_BITS if isinstance(t, cls))
        return ColumnType(TypeKind.INTEGER, name, bits=bits, domain=domain)
    if isinstance(t, sa.Float | postgresql.DOUBLE_PRECISION | postgresql.REAL):
        return ColumnType(TypeKind.FLOAT, name, domain=domain)
    if isinstance(t, sa.Numeric):
        return ColumnType(TypeKind.DECIMAL, name, precision=t.precision, scale=t.scale, domain=domain)
    if isinstance(t, sa.DateTime):
        return ColumnType(TypeKind.DATETIME, name, timezone=bool(t.timezone), domain=domain)
    if isinstance(t, sa.Date):
        return ColumnType(TypeKind.DATE, name, domain=domain)
    if isinstance(t, sa.Time):
        return ColumnType(TypeKind.TIME, name, domain=domain)
    if isinstance(t, sa.Interval | postgresql.INTERVAL):
        return ColumnType(TypeKind.INTERVAL, name, domain=domain)
    if isinstance(t, sa.Uuid):
        return ColumnType(TypeKind.UUID, name, domain=domain)
    if isinstance(t, sa.JSON):
        return ColumnType(TypeKind.JSON, name, domain=domain)
    if isinstance(t, postgresql.TSVECTOR):
        return ColumnType(TypeKind.TSVECTOR, name, domain=domain)
    if isinstance(t, postgresql.INET | postgresql.CIDR):
        return ColumnType(TypeKind.INET, name, domain=domain)
    if isinstance(t, sa.LargeBinary | sa.types._Binary):
        return ColumnType(TypeKind.BINARY, name, length=getattr(t, "length", None), domain=domain)
    if isinstance(t, sa.String):
        fixed = isinstance(t, sa.CHAR | sa.NCHAR)
        return ColumnType(TypeKind.STRING, name, length=t.length, fixed_length=fixed, domain=domain)
    return ColumnType(TypeKind.UNKNOWN, name, domain=domain)


_TYPE_RE = re.compile(r"^(?P<name>[a-z_ ]+?)\s*(?:\((?P<args>[\d,\s]+)\))?(?P<tz> with time zone)?"
                      r"(?P<array>(\[\])+)?$")


def parse_type_name(text: str, dialect: Dialect) -> Any:
    """A SQLAlchemy type for a catalog spelling such as ``numeric(5,2)`` or ``character varying(10)``
    (PostgreSQL's ``format_type``), used for domain base types, which SQLAlchemy reflects without
    their length, precision and scale."""
    m = _TYPE_RE.match(text.strip().lower())
    names: dict[str, Any] = getattr(dialect, "ischema_names", {})
    if not m:
        return sa.types.NULLTYPE
    base = m.group("name").strip()
    if base.startswith("timestamp") or base.startswith("time"):
        tz = bool(m.group("tz")) or base.endswith("with time zone")
        base = base.replace(" without time zone", "").replace(" with time zone", "")
        cls = names.get(base)
        t = cls(timezone=tz) if cls is not None else sa.types.NULLTYPE
    else:
        cls = names.get(base)
        args = [int(a) for a in (m.group("args") or "").split(",") if a.strip()]
        t = sa.types.NULLTYPE if cls is None else (cls(*args) if args else cls())
    if m.group("array"):
        t = postgresql.ARRAY(t)
    return t
