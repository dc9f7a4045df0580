"""Reflect a live database into frozen dataclasses (the only package that calls ``sqlalchemy.inspect``)."""

from dbsynth.schema.model import (
    Check,
    Column,
    ColumnType,
    ForeignKey,
    Identity,
    PrimaryKey,
    Schema,
    Table,
    TypeKind,
    Unique,
)
from dbsynth.schema.reflect import has_table, reflect

__all__ = [
    "Check",
    "Column",
    "ColumnType",
    "ForeignKey",
    "Identity",
    "PrimaryKey",
    "Schema",
    "Table",
    "TypeKind",
    "Unique",
    "has_table",
    "reflect",
]
