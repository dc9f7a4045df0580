"""Rules learned from the source: invariants that hold in every source row.

So far: order between two numeric or datetime columns of one table (``return_date >= rental_date``).
They are stored in the model as SQL text, listed by ``dbsynth rules``, and enforced at generation
like CHECK constraints (with the swap repair for orderings). Under differential privacy a rule is a
statistic of the data, so it is only learned for public tables until rules get their own budget.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from dbsynth.numbers import as_numbers, is_datetime_like

__all__ = ["order_rules"]


def _quote(name: str) -> str:
    return name if name.isidentifier() and name.islower() else '"' + name.replace('"', '""') + '"'


def order_rules(frame: pd.DataFrame, columns: list[str], *, min_rows: int = 20) -> list[str]:
    """``b >= a`` (or ``b > a``) for every pair of ``columns`` of the same kind (dates with dates,
    numbers with numbers) ordered that way in every row where both are set — when at least
    ``min_rows`` such rows exist and the two columns' ranges overlap, so that the rule says more
    than their marginals already do (``length > rental_rate`` holds only because minutes exceed
    dollars)."""
    rules = []
    values = {c: as_numbers(frame[c], unit="us") for c in columns}
    dated = {c: is_datetime_like(frame[c]) for c in columns}
    for a, b in itertools.combinations(columns, 2):
        if dated[a] != dated[b]:
            continue
        x, y = values[a], values[b]
        both = ~np.isnan(x) & ~np.isnan(y)
        if both.sum() < min_rows:
            continue
        dx, dy = x[both], y[both]
        for lo, hi, lo_v, hi_v in ((a, b, dx, dy), (b, a, dy, dx)):
            if (hi_v >= lo_v).all() and (hi_v > lo_v).any() and hi_v.min() <= lo_v.max():
                op = ">" if (hi_v > lo_v).all() else ">="
                rules.append(f"{_quote(hi)} {op} {_quote(lo)}")
                break
    return rules


def equality_rules(child: pd.DataFrame, parent: pd.DataFrame, joined: pd.DataFrame, child_cols: list[str],
                   parent_cols: list[str], *, min_rows: int = 20) -> list[tuple[str, str]]:
    """``(child column, parent column)`` pairs equal in every child row that has a parent
    (``invoice_line.unit_price = track.unit_price``); ``joined`` holds each child row's parent row."""
    out = []
    for c in child_cols:
        for p in parent_cols:
            if p not in joined.columns:
                continue
            x, y = child[c].reset_index(drop=True), joined[p].reset_index(drop=True)
            both = x.notna() & y.notna()
            if both.sum() < min_rows or x[both].nunique() < 2:
                continue
            try:
                equal = (pd.to_numeric(x[both]) == pd.to_numeric(y[both])).all() \
                    if pd.api.types.is_numeric_dtype(x.dtype) and pd.api.types.is_numeric_dtype(y.dtype) \
                    else (x[both].astype(str) == y[both].astype(str)).all()
            except (TypeError, ValueError):
                continue
            if equal:
                out.append((c, p))
                break
    return out
