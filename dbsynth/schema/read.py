"""Read a reflected table's rows into a DataFrame (for learning and for reports)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dbsynth.schema.model import Table, TypeKind

__all__ = ["array_literal", "read_table"]


def read_table(engine: Engine, table: Table) -> pd.DataFrame:
    """Every column of ``table``; a composite's field column as ``(column).field``; an array as its
    PostgreSQL literal (``{"Trailers","Deleted Scenes"}``), the text dbsynth writes arrays as, so a
    source's arrays can be counted as categories and compared with generated ones."""
    prep = engine.dialect.identifier_preparer
    cols: list[Any] = []
    for c in table.columns:
        field = table.field_of(c.name)
        cols.append(sa.column(c.name) if field is None else
                    sa.literal_column(f"({prep.quote(field[0].column)}).{prep.quote(field[1])}").label(c.name))
    stmt = sa.select(*cols).select_from(sa.table(table.name, schema=table.schema))
    with engine.connect() as conn:
        frame = pd.read_sql(stmt, conn)
    for c in table.columns:
        if c.type.kind is TypeKind.ARRAY and c.name in frame.columns:
            frame[c.name] = frame[c.name].map(lambda v: array_literal(v) if isinstance(v, list | tuple) else v)
    return frame


def array_literal(items: list[Any] | tuple[Any, ...]) -> str:
    """A PostgreSQL array literal with every element quoted (NULL for None)."""
    def one(v: Any) -> str:
        if v is None:
            return "NULL"
        if isinstance(v, list | tuple):
            return array_literal(v)
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "{" + ",".join(one(v) for v in items) + "}"
