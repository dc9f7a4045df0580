"""Rules learned from the source: invariants that hold in every source row.

Order between two numeric or datetime columns of one table (``return_date >= rental_date``) and
equality of a child column with its parent's (``invoice_line.unit_price = track.unit_price``). They
are typed data (:mod:`dbsynth.rules.invariants`), stored as such in the model file, listed by
``dbsynth rules`` and enforced at generation like CHECK constraints (with the swap repair for
orderings).

Under differential privacy a rule is a statistic of the data, released through the table's budget:
the candidates are fixed by the schema alone (same-kind column pairs, at most :data:`MAX_DP_PAIRS`;
equalities only between equally named columns), each candidate costs one noisy count of the rows that
break it, and a rule is kept when that count is within three noise standard deviations of zero. The
"ranges overlap" test uses the columns' released bin edges (post-processing, no budget).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dbsynth.numbers import as_numbers, is_datetime_like
from dbsynth.rules.invariants import LearnedRule, NullWhen, Order, quote

__all__ = [
    "MAX_DP_PAIRS",
    "add_gap",
    "aggregate_rules",
    "dp_equality_rules",
    "dp_order_rules",
    "equality_rules",
    "functional_dependencies",
    "gap_seconds",
    "learned_gaps",
    "null_rules",
    "order_candidates",
    "order_rules",
]

MAX_DP_PAIRS = 6
NoisyCount = Callable[[float, str], float]


def learned_gaps(rules: Sequence[LearnedRule], columns: set[str]) -> list[tuple[str, str]]:
    """``(later, earlier)`` date columns whose ordering is learned as the gap between them, the way
    SDV's Inequality constraint does: the model learns ``return_date - rental_date`` (seconds, never
    negative) instead of ``return_date``, and generation adds it back — so the ordering holds by
    construction and the gap keeps its learned shape, where resampling or swapping two independently
    drawn dates would spread returns over the whole quarter. A column is a gap once, over a column
    that is not itself one."""
    out: list[tuple[str, str]] = []
    for rule in rules:
        if not isinstance(rule, Order):
            continue
        hi, lo = rule.later, rule.earlier
        taken = {c for pair in out for c in pair}
        if hi in columns and lo in columns and hi not in taken and lo not in {h for h, _ in out}:
            out.append((hi, lo))
    return out


def gap_seconds(later: pd.Series, earlier: pd.Series) -> pd.Series:
    """``later - earlier`` in seconds (NaN where either is NULL)."""
    return pd.Series(as_numbers(later, unit="s") - as_numbers(earlier, unit="s"), index=later.index)


MAX_GAP = 200 * 365.25 * 86400.0  # seconds: no two dates of the DP date grid (1900-2100) lie further apart


def add_gap(earlier: pd.Series, seconds: pd.Series, *, whole_days: bool = False) -> pd.Series:
    """``earlier`` plus a gap in seconds (0 to MAX_GAP), as dates again (whole days for ``date``)."""
    gap = pd.to_timedelta(np.clip(pd.to_numeric(seconds, errors="coerce").to_numpy(dtype=float), 0, MAX_GAP),
                          unit="s")
    base = earlier if pd.api.types.is_datetime64_any_dtype(earlier.dtype) else pd.to_datetime(earlier)
    out = base.reset_index(drop=True) + pd.Series(gap).reset_index(drop=True)
    out.index = earlier.index
    return out.dt.floor("D") if whole_days else out


def order_rules(frame: pd.DataFrame, columns: list[str], *, min_rows: int = 20) -> list[LearnedRule]:
    """``b >= a`` (or ``b > a``) for every pair of ``columns`` of the same kind (dates with dates,
    numbers with numbers) ordered that way in every row where both are set — when at least
    ``min_rows`` such rows exist and the two columns' ranges overlap, so that the rule says more
    than their marginals already do (``length > rental_rate`` holds only because minutes exceed
    dollars)."""
    rules: list[LearnedRule] = []
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
                rules.append(Order(hi, lo, strict=bool((hi_v > lo_v).all())))
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
                   ranges: Mapping[str, tuple[float, float]], most: float = 0.0) -> list[LearnedRule]:
    """``b >= a`` where the noisy number of rows with ``a > b`` is at most ``threshold`` and the noisy
    number with ``b > a`` above it and above ``most`` (the rule says something, of most rows), and
    the released ranges overlap."""
    rules: list[LearnedRule] = []
    for a, b in pairs:
        x, y = as_numbers(frame[a], unit="us"), as_numbers(frame[b], unit="us")
        over = {(a, b): count(float(np.sum(x > y)), f"rule test {a} > {b}"),
                (b, a): count(float(np.sum(y > x)), f"rule test {b} > {a}")}
        for lo, hi in ((a, b), (b, a)):
            overlap = lo not in ranges or hi not in ranges or ranges[hi][0] <= ranges[lo][1]
            if over[(lo, hi)] <= threshold < over[(hi, lo)] and over[(hi, lo)] > most and overlap:
                rules.append(Order(hi, lo))
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


MAX_NULL_RULES = 10  # per table


def null_rules(frame: pd.DataFrame, categories: list[str], nullable: list[str], *, min_rows: int = 20,
               max_values: int = 30) -> list[LearnedRule]:
    """Conditional nullness: ``k NOT IN (v, …) OR c IS NOT NULL`` (``k = v`` ⇒ ``c`` set) when ``c``
    is set in every one of at least ``min_rows`` rows with ``k = v`` but NULL in some other rows — a
    shipped order has a ship date — and ``… OR c IS NULL`` the other way round. ``k`` is a category
    column with at most ``max_values`` values; at most :data:`MAX_NULL_RULES` rules per table."""
    rules: list[LearnedRule] = []
    for c in nullable:
        null = frame[c].isna()
        if not null.any() or null.all():
            continue
        for k in categories:
            if k == c or frame[k].nunique(dropna=True) > max_values:
                continue
            sides: dict[str, list[object]] = {"NOT NULL": [], "NULL": []}
            for v, rows in frame.groupby(k, dropna=True)[c]:
                share = rows.isna().mean()
                if len(rows) >= min_rows and share in (0.0, 1.0):
                    sides["NOT NULL" if share == 0.0 else "NULL"].append(v)
            for side, values in sides.items():
                if values:
                    plain = tuple(v.item() if isinstance(v, np.generic) else v for v in sorted(values, key=str))
                    rules.append(NullWhen(k, plain, c, side == "NULL"))
            if len(rules) >= MAX_NULL_RULES:
                return rules[:MAX_NULL_RULES]
    return rules


MAX_DEPENDENCIES = 5  # per table


def functional_dependencies(frame: pd.DataFrame, categories: list[str], *, min_rows: int = 20,
                            max_values: int = 500) -> list[tuple[str, str, dict[Any, Any]]]:
    """``(a, b, mapping)``: each value of category column ``a`` goes with one value of ``b`` (NULL
    counting as a value of ``b``) in every row where ``a`` is set — ``state`` → ``country`` — where
    ``a`` takes at least two values, ``b`` varies, the rows number at least ``min_rows`` and two per
    value of ``a``. Generation derives ``b`` from ``a``. A pair that determines each other is kept
    once (the side with more values decides); a derived column never determines another. At most
    :data:`MAX_DEPENDENCIES` per table."""
    if len(frame) < min_rows:
        return []
    out: list[tuple[str, str, dict[Any, Any]]] = []
    values = {c: frame[c].astype(object).where(frame[c].notna(), None) for c in categories}
    distinct = {c: values[c].nunique(dropna=False) for c in categories}
    ranked = sorted(categories, key=lambda c: -distinct[c])
    derived: set[str] = set()
    for a in ranked:
        if a in derived or not 2 <= distinct[a] <= max_values:
            continue
        keys = values[a].map(_plain_key)
        for b in ranked:
            if b == a or b in derived or distinct[b] < 2 or any(x == b for x, _, _ in out):
                continue
            pairs = pd.DataFrame({"a": keys, "b": values[b].map(_plain_key)})[values[a].notna().to_numpy()]
            per = pairs.drop_duplicates()
            # a value of a seen once determines anything: ask for two rows per value on average
            if per["a"].duplicated().any() or len(pairs) < max(min_rows, 2 * len(per)):
                continue
            if distinct[b] == distinct[a] and any(x == b and y == a for x, y, _ in out):
                continue
            out.append((a, b, dict(zip(per["a"], per["b"], strict=True))))
            derived.add(b)
            if len(out) >= MAX_DEPENDENCIES:
                return out
    return out


def _plain_key(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def aggregate_rules(parent: pd.DataFrame, child: pd.DataFrame, parent_cols: list[str], child_cols: list[str],
                    keys: list[str], referred: list[str], *, min_rows: int = 20) -> list[tuple[str, str]]:
    """``(parent column, aggregate)`` where the parent column equals, in every parent row, ``count(*)``,
    ``sum(c)`` or ``sum(c1 * c2)`` over its child rows (``keys`` → ``referred``) to within a cent —
    ``invoice.total = sum(unit_price * quantity)``. The aggregate is SQL over the child's columns."""
    if len(parent) < min_rows:
        return []
    key = child.loc[:, keys].astype(object)
    key.columns = referred
    candidates: dict[str, np.ndarray] = {"count(*)": np.ones(len(child))}
    values = {c: pd.to_numeric(child[c], errors="coerce").to_numpy(dtype=float) for c in child_cols}
    for c in child_cols:
        candidates[f"sum({quote(c)})"] = values[c]
    for a, b in itertools.combinations(child_cols, 2):
        candidates[f"sum({quote(a)} * {quote(b)})"] = values[a] * values[b]
    sums = pd.concat([key.reset_index(drop=True), pd.DataFrame(candidates)], axis=1) \
        .groupby(referred, dropna=True).sum()
    index = pd.MultiIndex.from_frame(parent.loc[:, referred].astype(object)) if len(referred) > 1 \
        else pd.Index(parent[referred[0]].astype(object))
    aligned = sums.reindex(index).fillna(0.0)
    out = []
    for p in parent_cols:
        target = pd.to_numeric(parent[p], errors="coerce").to_numpy(dtype=float)
        present = ~np.isnan(target)
        if present.sum() < min_rows or np.nanstd(target) == 0:
            continue
        for expr in candidates:
            got = aligned[expr].to_numpy(dtype=float)
            if np.all(np.abs(got[present] - target[present]) <= 0.005 + 1e-9 * np.abs(target[present])):
                out.append((p, expr))
                break
    return out
