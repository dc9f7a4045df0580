"""Read a reflected table's rows into a DataFrame (for learning and for reports)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dbsynth.schema.model import Table

__all__ = ["read_table"]


def read_table(engine: Engine, table: Table) -> pd.DataFrame:
    """Every column of ``table``; a composite's field column as ``(column).field``."""
    prep = engine.dialect.identifier_preparer
    cols: list[Any] = []
    for c in table.columns:
        field = table.field_of(c.name)
        cols.append(sa.column(c.name) if field is None else
                    sa.literal_column(f"({prep.quote(field[0].column)}).{prep.quote(field[1])}").label(c.name))
    stmt = sa.select(*cols).select_from(sa.table(table.name, schema=table.schema))
    with engine.connect() as conn:
        return pd.read_sql(stmt, conn)
