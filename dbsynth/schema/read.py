"""Read a reflected table's rows into a DataFrame (for learning and for reports)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dbsynth.schema.model import Table

__all__ = ["read_table"]


def read_table(engine: Engine, table: Table) -> pd.DataFrame:
    cols: list[sa.ColumnClause[Any]] = [sa.column(c.name) for c in table.columns]
    stmt = sa.select(*cols).select_from(sa.table(table.name, schema=table.schema))
    with engine.connect() as conn:
        return pd.read_sql(stmt, conn)
