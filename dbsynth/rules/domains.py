"""What simple CHECK forms say about single columns, so generators can aim inside them.

From each CHECK's top-level AND chain we read ``col op constant``, ``BETWEEN``, ``IN`` lists,
``IS NOT NULL`` and formats (``~``, ``LIKE``, ``SIMILAR TO`` with a constant pattern); a top-level
OR of ranges over one column gives their hull (the gaps are left to the enforcement loop).
``col op col`` comparisons are returned as :class:`Order` pairs that a repair step can fix by
swapping the two values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
from sqlglot import exp

from dbsynth.rules.checks import Predicate
from dbsynth.rules.sql_eval import like_to_regex, similar_to_regex, strip

__all__ = ["ColumnDomain", "Order", "Window", "column_domains", "order_pairs", "windows"]


@dataclass(frozen=True)
class ColumnDomain:
    """Bounds for one column; ``None`` means unbounded. Strict bounds exclude the value itself."""

    low: Any = None
    high: Any = None
    low_strict: bool = False
    high_strict: bool = False
    choices: tuple[Any, ...] | None = None
    not_null: bool = False
    pattern: str | None = None  # a Python regex the values must contain a match of

    def meet(self, other: ColumnDomain) -> ColumnDomain:
        low, low_strict = self.low, self.low_strict
        if other.low is not None and (low is None or _gt(other.low, low)
                                      or (other.low == low and other.low_strict)):
            low, low_strict = other.low, other.low_strict
        high, high_strict = self.high, self.high_strict
        if other.high is not None and (high is None or _gt(high, other.high)
                                       or (other.high == high and other.high_strict)):
            high, high_strict = other.high, other.high_strict
        choices = self.choices
        if other.choices is not None:
            choices = other.choices if choices is None else tuple(c for c in choices if c in other.choices)
        return ColumnDomain(low, high, low_strict, high_strict, choices, self.not_null or other.not_null,
                            self.pattern or other.pattern)  # a second pattern is left to enforcement

    def hull(self, other: ColumnDomain) -> ColumnDomain:
        """The smallest domain containing both (used for OR)."""
        low = None if self.low is None or other.low is None else min(self.low, other.low, key=_key)
        high = None if self.high is None or other.high is None else max(self.high, other.high, key=_key)
        choices = None
        if self.choices is not None and other.choices is not None:
            choices = tuple(dict.fromkeys(self.choices + other.choices))
        pattern = self.pattern if self.pattern == other.pattern else None
        return ColumnDomain(low, high, False, False, choices, self.not_null and other.not_null, pattern)


@dataclass(frozen=True)
class Order:
    """``low_col < high_col`` (or ``<=`` when not strict) must hold in every row."""

    low: str
    high: str
    strict: bool
    rule: str = ""  # the label of the predicate it came from


def _key(v: Any) -> Any:
    return pd.Timestamp(v) if isinstance(v, str) else v


def _gt(a: Any, b: Any) -> bool:
    try:
        return bool(_key(a) > _key(b))
    except (TypeError, ValueError):
        return False


_NEGATED: dict[type[exp.Expression], type[exp.Expression]] = {
    exp.LT: exp.GTE, exp.LTE: exp.GT, exp.GT: exp.LTE, exp.GTE: exp.LT}


def _conjuncts(node: exp.Expression) -> Iterator[exp.Expression]:
    """The AND-ed parts of ``node``; ``NOT (a OR b)`` counts as ``NOT a AND NOT b`` and a negated
    comparison as its opposite (``NOT x < 1`` is ``x >= 1``)."""
    node = strip(node)
    if isinstance(node, exp.And):
        yield from _conjuncts(node.this)
        yield from _conjuncts(node.expression)
    elif isinstance(node, exp.Not):
        inner = strip(node.this)
        if isinstance(inner, exp.Or):
            for part in (inner.this, inner.expression):
                yield from _conjuncts(exp.Not(this=part))
        elif type(inner) in _NEGATED:
            yield _NEGATED[type(inner)](this=inner.this, expression=inner.expression)
        else:
            yield node
    else:
        yield node


def _disjuncts(node: exp.Expression) -> Iterator[exp.Expression]:
    node = strip(node)
    if isinstance(node, exp.Or):
        yield from _disjuncts(node.this)
        yield from _disjuncts(node.expression)
    else:
        yield node


def _constant(node: exp.Expression) -> tuple[bool, Any]:
    node = strip(node)
    if isinstance(node, exp.Neg):
        ok, v = _constant(node.this)
        return ok and isinstance(v, int | float), -v if ok and isinstance(v, int | float) else None
    if isinstance(node, exp.Literal):
        if node.is_string:
            return True, node.this
        return True, int(node.this) if node.this.lstrip("-").isdigit() else float(node.this)
    return False, None


def _column(node: exp.Expression) -> str | None:
    node = strip(node)
    return node.name if isinstance(node, exp.Column) else None


_FLIP: dict[type[exp.Expression], type[exp.Expression]] = {
    exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE, exp.EQ: exp.EQ}


def _atom(node: exp.Expression) -> dict[str, ColumnDomain] | None:
    """The domain one conjunct implies, or ``None`` when it says nothing we model."""
    if isinstance(node, exp.Is) and node.args.get("negate") and isinstance(strip(node.expression), exp.Null):
        col = _column(node.this)
        return {col: ColumnDomain(not_null=True)} if col else None
    if isinstance(node, exp.Between):
        col = _column(node.this)
        (ok1, lo), (ok2, hi) = _constant(node.args["low"]), _constant(node.args["high"])
        return {col: ColumnDomain(low=lo, high=hi, not_null=True)} if col and ok1 and ok2 else None
    if isinstance(node, exp.In) or (isinstance(node, exp.EQ) and isinstance(node.expression, exp.Any)):
        col = _column(node.this)
        items = node.expressions if isinstance(node, exp.In) else strip(node.expression.this).expressions
        values = [_constant(i) for i in items]
        if col and values and all(ok for ok, _ in values):
            return {col: ColumnDomain(choices=tuple(v for _, v in values), not_null=True)}
        return None
    if isinstance(node, exp.RegexpLike | exp.RegexpILike | exp.Like | exp.ILike | exp.SimilarTo):
        col, pattern = _column(node.this), strip(node.expression)
        escaped = isinstance(pattern, exp.Anonymous) and pattern.name.lower() == "similar_to_escape"
        ok, text = _constant(pattern.expressions[0] if escaped else pattern)
        if not (col and ok and isinstance(text, str)):
            return None
        if escaped or isinstance(node, exp.SimilarTo):  # PostgreSQL stores SIMILAR TO as ~ similar_to_escape()
            regex = similar_to_regex(text)
        else:
            regex = text if isinstance(node, exp.RegexpLike | exp.RegexpILike) else like_to_regex(text)
        return {col: ColumnDomain(pattern=regex, not_null=True)}
    kind: type[exp.Expression] = type(node)
    if kind in _FLIP:
        col, (ok, value) = _column(node.this), _constant(node.expression)
        if not (col and ok):
            col, (ok, value) = _column(node.expression), _constant(node.this)
            kind = _FLIP[kind]
        if not (col and ok):
            return None
        if kind is exp.EQ:
            return {col: ColumnDomain(choices=(value,), not_null=True)}
        if kind in (exp.GT, exp.GTE):
            return {col: ColumnDomain(low=value, low_strict=kind is exp.GT, not_null=True)}
        return {col: ColumnDomain(high=value, high_strict=kind is exp.LT, not_null=True)}
    return None


def _domain_of(node: exp.Expression) -> dict[str, ColumnDomain]:
    out: dict[str, ColumnDomain] = {}
    for conj in _conjuncts(node):
        found = _atom(conj)
        if found is None:
            if not isinstance(conj, exp.Or):
                continue
            parts = [_domain_of(d) for d in _disjuncts(conj)]
            if len(parts) > 1 and all(len(p) == 1 for p in parts) and len({next(iter(p)) for p in parts}) == 1:
                col = next(iter(parts[0]))
                dom = parts[0][col]
                for p in parts[1:]:
                    dom = dom.hull(p[col])
                found = {col: replace(dom, not_null=False)}
            else:
                continue
        for col, dom in found.items():
            out[col] = out[col].meet(dom) if col in out else dom
    return out


def column_domains(predicates: Iterable[Predicate]) -> dict[str, ColumnDomain]:
    """The intersection of what every predicate implies for each column."""
    out: dict[str, ColumnDomain] = {}
    for p in predicates:
        if p.tree is None:
            continue
        for col, dom in _domain_of(p.tree).items():
            out[col] = out[col].meet(dom) if col in out else dom
    return out


def order_pairs(predicates: Iterable[Predicate]) -> list[Order]:
    """``col < col`` style conjuncts, normalised to low/high."""
    out = []
    for p in predicates:
        if p.tree is None:
            continue
        for conj in _conjuncts(p.tree):
            kind = type(conj)
            if kind not in (exp.GT, exp.GTE, exp.LT, exp.LTE):
                continue
            a, b = _column(conj.this), _column(conj.expression)
            if a and b:
                low, high = (a, b) if kind in (exp.LT, exp.LTE) else (b, a)
                out.append(Order(low, high, strict=kind in (exp.LT, exp.GT), rule=p.label))
    return out


@dataclass(frozen=True)
class Window:
    """``column`` must lie within ``[other + low, other + high]`` (either side may be open, not both);
    offsets are numbers (days for dates, as in PostgreSQL's ``date + integer``)."""

    column: str
    other: str
    low: float | None
    high: float | None

    @property
    def ordering(self) -> bool:
        """A plain ``column >= other`` (or ``<=``): one side open, no offset."""
        return (self.low is None) != (self.high is None) and (self.low or self.high or 0.0) == 0.0


def _offset(node: exp.Expression) -> tuple[str, float] | None:
    """``col``, ``col + k`` or ``col - k`` → (col, ±k)."""
    node = strip(node)
    if isinstance(node, exp.Column):
        return node.name, 0.0
    if isinstance(node, exp.Add | exp.Sub):
        col, (ok, k) = _column(node.this), _constant(node.expression)
        if col and ok and isinstance(k, int | float):
            return col, float(k) if isinstance(node, exp.Add) else -float(k)
    return None


def windows(predicates: Iterable[Predicate]) -> list[Window]:
    """Per predicate, the conjuncts ``a op b ± k`` gathered into one window for ``a`` around ``b``."""
    out = []
    for p in predicates:
        if p.tree is None:
            continue
        bounds: dict[tuple[str, str], list[float | None]] = {}
        for conj in _conjuncts(p.tree):
            kind = type(conj)
            if kind not in (exp.GT, exp.GTE, exp.LT, exp.LTE):
                continue
            left, right = _offset(conj.this), _offset(conj.expression)
            if not left or not right or left[0] == right[0]:
                continue
            (a, ka), (b, kb) = left, right
            # a + ka  op  b + kb   →   a  op  b + (kb - ka)
            lo_hi = bounds.setdefault((a, b), [None, None])
            if kind in (exp.LT, exp.LTE):
                lo_hi[1] = kb - ka
            else:
                lo_hi[0] = kb - ka
        out += [Window(a, b, lo, hi) for (a, b), (lo, hi) in bounds.items() if lo is not None or hi is not None]
    return out
