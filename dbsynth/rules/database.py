"""CHECK constraints dbsynth cannot translate, evaluated by the target database itself.

A CHECK that calls a user function (``CHECK (is_valid_isbn(isbn))``) or syntax the vectorised
evaluator does not cover is not skipped: before anything is written, the generated values of its
columns go into a temporary table of the same column types, one ``SELECT`` returns the rows for
which the expression is FALSE, and enforcement resamples those rows like any other failure. The
run report lists the rule as checked by the database. Without a target database (``--to-dir``) or
before its tables exist (``--create-schema``) the constraint is left to the database at write time.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection, Engine

from dbsynth.copy_text import to_text
from dbsynth.rules.checks import Predicate
from dbsynth.schema.model import Table
from dbsynth.schema.reflect import has_table

__all__ = ["DatabaseChecker", "DatabasePredicate"]

ROW = "dbsynth_row"


@dataclass(frozen=True)
class DatabasePredicate(Predicate):
    """A :class:`Predicate` whose violations the target database computes."""

    checker: Any = None
    table: Table | None = None

    @property
    def supported(self) -> bool:  # type: ignore[override]
        return True

    @property
    def label(self) -> str:
        return f"{self.name or self.sqltext} (checked by the database)"

    def violations(self, frame: pd.DataFrame) -> np.ndarray:
        assert self.table is not None
        return self.checker.violations(self.table, self, frame)  # type: ignore[no-any-return]


class DatabaseChecker:
    """Holds one connection to the target for the run; a temporary table per checked CHECK."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conn: Connection | None = None
        self.temp: dict[tuple[str, str], str] = {}

    def wrap(self, table: Table, predicates: list[Predicate]) -> list[Predicate]:
        """``predicates`` with every untranslatable one made a :class:`DatabasePredicate`, when the
        table exists in the target."""
        if all(p.supported for p in predicates) or not has_table(self._connection(), table.name,
                                                                   schema=table.schema):
            return predicates
        names = [c.name for c in table.writable_columns]
        # a CHECK on a composite's fields needs the composite value, which only the write assembles:
        # the database checks it then
        fields = {c for comp in table.composites for c in comp.columns} | {comp.column for comp in table.composites}
        return [p if p.supported or _mentioned(p.sqltext, sorted(fields)) else DatabasePredicate(
            p.name, p.sqltext, p.tree, p.columns or frozenset(_mentioned(p.sqltext, names)), checker=self,
            table=table) for p in predicates]

    def violations(self, table: Table, predicate: Predicate, frame: pd.DataFrame) -> np.ndarray:
        conn = self._connection()
        cols = [table.column(c) for c in sorted(predicate.columns)]
        key = (table.key, predicate.sqltext)
        prep = conn.dialect.identifier_preparer
        source = (prep.quote(table.schema) + "." if table.schema else "") + prep.quote(table.name)
        col_sql = ", ".join(prep.quote(c.name) for c in cols)
        if key not in self.temp:
            name = f"dbsynth_check_{len(self.temp)}"
            conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} AS SELECT {col_sql} FROM {source} WHERE 1 = 0")
            conn.exec_driver_sql(f"ALTER TABLE {name} ADD COLUMN {ROW} INTEGER")
            self.temp[key] = name
        name = self.temp[key]
        conn.exec_driver_sql(f"DELETE FROM {name}")
        text = pd.DataFrame({c.name: to_text(c, frame[c.name]) for c in cols})
        text[ROW] = np.arange(len(frame))
        _insert(conn, name, [*[c.name for c in cols], ROW], text)
        # a CHECK fails only when FALSE: NULL passes, as in the database
        cur = conn.connection.cursor()  # the DB-API cursor, no parameters: a '%' in the CHECK stays text
        try:
            cur.execute(f"SELECT {ROW} FROM {name} WHERE ({predicate.sqltext}) = FALSE")
            bad = cur.fetchall()
        finally:
            cur.close()
        mask = np.zeros(len(frame), dtype=bool)
        mask[[r[0] for r in bad]] = True
        return mask

    def _connection(self) -> Connection:
        if self.conn is None:
            self.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()  # temporary tables go with the session
            self.conn = None


def _mentioned(sqltext: str, columns: list[str]) -> list[str]:
    """Columns whose names appear as words in a CHECK that did not parse."""
    return [c for c in columns if re.search(rf"(?<![\w$]){re.escape(c)}(?![\w$])", sqltext, flags=re.I)]


def _insert(conn: Connection, name: str, columns: list[str], text: pd.DataFrame) -> None:
    prep = conn.dialect.identifier_preparer
    col_sql = ", ".join(prep.quote(c) for c in columns)
    if conn.dialect.name == "postgresql":
        buf = io.StringIO()
        text.to_csv(buf, header=False, index=False, na_rep="\\N")
        raw: Any = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {name} ({col_sql}) FROM STDIN (FORMAT csv, NULL '\\N')") as copy:
            copy.write(buf.getvalue())
        return
    rows = [tuple(None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v for v in row)
            for row in text.astype(object).itertuples(index=False, name=None)]
    marks = ", ".join("?" if conn.dialect.paramstyle == "qmark" else "%s" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {name} ({col_sql}) VALUES ({marks})", rows)
