"""CHECK constraints parsed with sqlglot into vectorised predicates over a DataFrame.

SQL's three-valued logic is kept: a CHECK passes unless its expression is FALSE, so a NULL operand
passes. An expression this module cannot translate is reported as unsupported rather than guessed at;
the database then has the last word when the rows are written (inside the one transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, cast

import numpy as np
import pandas as pd
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from dbsynth.rules.sql_eval import Evaluator, Unsupported, as_bool

__all__ = ["Predicate", "compile_check", "evaluate", "sql_literal", "sqlglot_dialect"]

_DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite", "mysql": "mysql", "mariadb": "mysql"}


def sqlglot_dialect(dialect: str) -> str:
    return _DIALECTS.get(dialect, dialect)


@dataclass(frozen=True)
class Predicate:
    """One CHECK, compiled. ``tree`` is ``None`` when the text did not parse."""

    name: str | None
    sqltext: str
    tree: exp.Expression | None
    columns: frozenset[str]
    learned: bool = False  # an invariant of the source rows, not a constraint: never stops a run

    @cached_property
    def supported(self) -> bool:
        return self.tree is not None and _supported(self.tree, self.columns)

    def violations(self, frame: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows for which the CHECK evaluates to FALSE."""
        assert self.tree is not None
        result = Evaluator(frame).eval(self.tree)
        passes: np.ndarray = as_bool(result, len(frame)).fillna(True).to_numpy(dtype=bool)
        return ~passes

    @property
    def label(self) -> str:
        return self.name or self.sqltext


@lru_cache(maxsize=4096)
def _supported(tree: exp.Expression, columns: frozenset[str]) -> bool:
    """Whether the evaluator knows every part of ``tree``: a dry run over one row of NULLs (4 ms),
    remembered, because every partition of a run compiles its tables' CHECKs again."""
    try:
        Evaluator(pd.DataFrame({c: pd.Series([None], dtype=object) for c in columns}), dry=True).eval(tree)
    except Unsupported:
        return False
    return True


def compile_check(name: str | None, sqltext: str, *, dialect: str, columns: list[str]) -> Predicate:
    """Parse ``sqltext`` in ``dialect``; column names are resolved against ``columns``."""
    try:
        tree = cast(exp.Expression, sqlglot.parse_one(sqltext, read=sqlglot_dialect(dialect)))
    except (ParseError, ValueError):
        return Predicate(name, sqltext, None, frozenset())
    lookup = {c.lower(): c for c in columns} | {c: c for c in columns}
    used = set()
    for col in tree.find_all(exp.Column):
        real = lookup.get(col.name) or lookup.get(col.name.lower())
        if real is None:
            return Predicate(name, sqltext, None, frozenset())
        col.set("this", exp.to_identifier(real, quoted=True))
        col.set("table", None)
        used.add(real)
    return Predicate(name, sqltext, tree, frozenset(used))


def evaluate(sql: str, frame: pd.DataFrame, *, dialect: str = "postgresql") -> Any:
    """Evaluate an SQL expression over ``frame``'s columns (a Series or a scalar)."""
    tree = cast(exp.Expression, sqlglot.parse_one(sql, read=sqlglot_dialect(dialect)))
    return Evaluator(frame).eval(tree)


def sql_literal(v: object) -> str:
    """A Python (or numpy) value as an SQL literal: booleans TRUE/FALSE, numbers as they are, anything
    else a quoted string."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | float):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


