"""Rules learned from the source: invariants that hold in every source row.

Order between two numeric or datetime columns of one table (``return_date >= rental_date``) and
equality of a child column with its parent's (``invoice_line.unit_price = track.unit_price``). They
are stored in the model as SQL text, listed by ``dbsynth rules``, and enforced at generation like
CHECK constraints (with the swap repair for orderings).

Under differential privacy a rule is a statistic of the data, released through the table's budget:
the candidates are fixed by the schema alone (same-kind column pairs, at most :data:`MAX_DP_PAIRS`;
equalities only between equally named columns), each candidate costs one noisy count of the rows that
break it, and a rule is kept when that count is within three noise standard deviations of zero. The
"ranges overlap" test uses the columns' released bin edges (post-processing, no budget).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from dbsynth.numbers import as_numbers, is_datetime_like

__all__ = ["MAX_DP_PAIRS", "dp_equality_rules", "dp_order_rules", "equality_rules", "order_candidates",
           "order_rules"]

MAX_DP_PAIRS = 6
NoisyCount = Callable[[float, str], float]


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


def order_candidates(dated: Mapping[str, bool]) -> list[tuple[str, str]]:
    """Column pairs of the same kind (``dated``: column → is a date/time), date pairs first, at most
    :data:`MAX_DP_PAIRS`: the candidates a DP fit tests, chosen from the schema only."""
    pairs = [(a, b) for a, b in itertools.combinations(dated, 2) if dated[a] == dated[b]]
    pairs.sort(key=lambda p: not dated[p[0]])
    return pairs[:MAX_DP_PAIRS]


def dp_order_rules(frame: pd.DataFrame, pairs: list[tuple[str, str]], count: NoisyCount, threshold: float,
                   ranges: Mapping[str, tuple[float, float]]) -> list[str]:
    """``b >= a`` where the noisy number of rows with ``a > b`` is at most ``threshold`` and the noisy
    number with ``b > a`` above it (the rule says something), and the released ranges overlap."""
    rules = []
    for a, b in pairs:
        x, y = as_numbers(frame[a], unit="us"), as_numbers(frame[b], unit="us")
        over = {(a, b): count(float(np.sum(x > y)), f"rule test {a} > {b}"),
                (b, a): count(float(np.sum(y > x)), f"rule test {b} > {a}")}
        for lo, hi in ((a, b), (b, a)):
            overlap = lo not in ranges or hi not in ranges or ranges[hi][0] <= ranges[lo][1]
            if over[(lo, hi)] <= threshold < over[(hi, lo)] and overlap:
                rules.append(f"{_quote(hi)} >= {_quote(lo)}")
    return rules


def dp_equality_rules(child: pd.DataFrame, joined: pd.DataFrame, pairs: list[tuple[str, str]], count: NoisyCount,
                      threshold: float) -> list[tuple[str, str]]:
    """``(child column, parent column)`` pairs where the noisy number of child rows whose value
    differs from their parent row's is at most ``threshold``."""
    out = []
    for c, p in pairs:
        x, y = child[c].reset_index(drop=True), joined[p].reset_index(drop=True)
        both = (x.notna() & y.notna()).to_numpy()
        differ = (x.astype(str) != y.astype(str)).to_numpy() & both
        if count(float(differ.sum()), f"rule test {c} = parent {p}") <= threshold:
            out.append((c, p))
    return out
