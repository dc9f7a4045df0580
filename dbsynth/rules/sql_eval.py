"""SQL expressions evaluated over whole DataFrame columns: the vectorised engine behind CHECK
constraints, learned and user rules (:mod:`dbsynth.rules.checks` compiles them). SQL's three-valued
logic is kept; a construct it does not translate raises :class:`Unsupported` instead of a guess.

One handler per sqlglot node type (:data:`_HANDLERS`), found through the node's class hierarchy
as an ``isinstance`` chain would; comparisons and arithmetic share one handler each."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sqlglot import exp

__all__ = ["Evaluator", "Unsupported", "as_bool", "like_to_regex", "similar_to_regex", "strip"]


class Unsupported(Exception):
    """An SQL construct the evaluator does not translate."""


def strip(node: exp.Expression) -> exp.Expression:
    """Drop the parentheses and casts PostgreSQL adds when it normalises a CHECK's text."""
    while isinstance(node, exp.Paren | exp.Cast):
        node = node.this
    return node


def as_bool(value: Any, n: int) -> pd.Series:
    """``value`` (a column, a result, a scalar) as ``n`` nullable booleans, through numpy: pandas'
    own astype("boolean") checks an object column value by value."""
    if isinstance(value, pd.Series):
        if value.dtype == "boolean":
            return value.reset_index(drop=True)
        mask = value.isna().to_numpy(dtype=bool)
        data = np.zeros(len(value), dtype=bool)
        data[~mask] = value.to_numpy()[~mask].astype(bool)
        return pd.Series(pd.arrays.BooleanArray(data, mask))
    if value is None or value is pd.NA:
        return _unknown(n)
    return pd.Series(pd.arrays.BooleanArray(np.full(n, bool(value)), np.zeros(n, dtype=bool)))


def _unknown(n: int) -> pd.Series:
    """``n`` NULL booleans (SQL's unknown)."""
    return pd.Series(pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool)))


def _isna(value: Any) -> Any:
    if isinstance(value, pd.Series):
        return value.isna()
    return value is None or value is pd.NA


def similar_to_regex(pattern: str) -> str:
    """SQL SIMILAR TO → Python regex: ``%``/``_`` as in LIKE, the regex operators SIMILAR TO shares
    (``| * + ? {} () []``) kept, everything else literal; the whole value must match."""
    out = []
    for ch in pattern:
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        elif ch in "|*+?{}()[]-,0123456789":
            out.append(ch)
        else:
            out.append(re.escape(ch))
    return "^(?:" + "".join(out) + ")$"


def like_to_regex(pattern: str) -> str:
    """SQL LIKE → an anchored Python regex: ``%`` any text, ``_`` one character."""
    out = []
    for ch in pattern:
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return "^" + "".join(out) + "$"


_COMPARE: dict[type[exp.Expression], Callable[[Any, Any], Any]] = {
    exp.EQ: lambda a, b: a == b,
    exp.NEQ: lambda a, b: a != b,
    exp.GT: lambda a, b: a > b,
    exp.GTE: lambda a, b: a >= b,
    exp.LT: lambda a, b: a < b,
    exp.LTE: lambda a, b: a <= b,
}
_ARITH: dict[type[exp.Expression], Callable[[Any, Any], Any]] = {
    exp.Add: lambda a, b: a + b,
    exp.Sub: lambda a, b: a - b,
    exp.Mul: lambda a, b: a * b,
    exp.Div: lambda a, b: a / b,
    exp.Mod: lambda a, b: a % b,
}


class Evaluator:
    """Evaluates a parsed expression over whole columns; values are Series or Python scalars."""

    def __init__(self, frame: pd.DataFrame, *, dry: bool = False) -> None:
        self.frame = frame.reset_index(drop=True)
        self.n = len(frame)
        self.dry = dry

    def eval(self, node: exp.Expression) -> Any:
        value = self._eval(node)
        if node.args.get("negate"):  # sqlglot's `a IS NOT NULL`, `a NOT LIKE b`
            return ~as_bool(value, self.n)
        return value

    def _eval(self, node: exp.Expression) -> Any:
        for kind in type(node).__mro__:  # the most specific handler, as an isinstance chain would find it
            handler = _HANDLERS.get(kind)
            if handler is not None:
                return handler(self, node)
        if type(node) in _COMPARE:
            return self._compare(node)
        if type(node) in _ARITH:
            return self._arith(node)
        raise Unsupported(type(node).__name__)

    def _literal(self, node: exp.Literal) -> Any:
        if node.is_string:
            return node.this
        text = node.this
        return int(text) if re.fullmatch(r"-?\d+", text) else float(text)

    def _logic(self, node: exp.Expression) -> pd.Series:
        a = as_bool(self.eval(node.this), self.n)
        if isinstance(node, exp.Not):
            return ~a
        b = as_bool(self.eval(node.expression), self.n)
        return a & b if isinstance(node, exp.And) else a | b

    def _is(self, node: exp.Is) -> pd.Series:
        if not isinstance(strip(node.expression), exp.Null):
            raise Unsupported("IS other than IS NULL")
        return as_bool(_isna(self.eval(node.this)), self.n)

    def _eq(self, node: exp.EQ) -> pd.Series:
        if isinstance(node.expression, exp.Any):  # x = ANY (ARRAY[…]), PostgreSQL's form of IN
            return self._in(node.this, self._array_items(node.expression.this))
        return self._compare(node)

    def _arith(self, node: exp.Expression) -> Any:
        a, b = self._coerce(self.eval(node.this), self.eval(node.expression))
        if isinstance(node, exp.Add | exp.Sub) and _is_datetime(a) and _is_number(b):
            b = pd.to_timedelta(b, unit="D")
        return _ARITH[type(node)](a, b)

    def _between(self, node: exp.Between) -> pd.Series:
        low = exp.GTE(this=node.this, expression=node.args["low"])
        high = exp.LTE(this=node.this, expression=node.args["high"])
        return self.eval(exp.And(this=low, expression=high))

    def _text(self, node: exp.Expression) -> pd.Series:
        """length, lower, upper and trim (without a position) of a text value."""
        values = self._str(node.this).str
        if isinstance(node, exp.Trim):
            if node.args.get("position"):
                raise Unsupported("TRIM with a position")
            return values.strip()
        return values.len() if isinstance(node, exp.Length) else \
            values.lower() if isinstance(node, exp.Lower) else values.upper()

    def _coalesce(self, node: exp.Coalesce) -> Any:
        values = [self.eval(e) for e in [node.this, *node.expressions]]
        out = values[0] if isinstance(values[0], pd.Series) else pd.Series([values[0]] * self.n)
        for v in values[1:]:
            out = out.where(~out.isna(), v)
        return out

    def _anonymous(self, node: exp.Anonymous) -> str:
        """``similar_to_escape(p)``: how PostgreSQL stores SIMILAR TO (``x ~ similar_to_escape(p)``)."""
        if node.name.lower() != "similar_to_escape" or len(node.expressions) != 1:
            raise Unsupported(f"function {node.name}")
        pat = self.eval(node.expressions[0])
        if not isinstance(pat, str):
            raise Unsupported("non-literal SIMILAR TO pattern")
        return similar_to_regex(pat)

    def _similar(self, node: exp.SimilarTo) -> Any:
        pat = self.eval(node.expression)
        if not isinstance(pat, str):
            raise Unsupported("non-literal SIMILAR TO pattern")
        values = self._str(node.this)
        if self.dry:
            return values.isna()
        compiled = re.compile(similar_to_regex(pat), re.S)
        return values.map(lambda v: None if v is None else bool(compiled.match(str(v)))).astype("boolean")

    def _pattern(self, node: exp.Expression) -> Any:
        """``~``, ``~*``, LIKE and ILIKE."""
        flags = re.I if isinstance(node, exp.RegexpILike | exp.ILike) else 0
        return self._match(node.this, node.expression, flags, like=isinstance(node, exp.Like | exp.ILike))

    def _case(self, node: exp.Case) -> Any:
        """CASE WHEN c1 THEN v1 … ELSE d END, row by row through masks (first true branch wins)."""
        default = node.args.get("default")
        out = self.eval(default) if default is not None else None
        out = out if isinstance(out, pd.Series) else pd.Series([out] * self.n, dtype=object)
        out = out.reset_index(drop=True).astype(object)
        for branch in reversed(node.args.get("ifs") or []):
            cond = as_bool(self.eval(branch.this), self.n).fillna(False).to_numpy(dtype=bool)
            value = self.eval(branch.args["true"])
            value = value.reset_index(drop=True) if isinstance(value, pd.Series) else pd.Series([value] * self.n)
            out = out.where(~cond, value.astype(object))
        if out.map(lambda v: isinstance(v, bool | np.bool_) or v is None or v is pd.NA).all():
            return out.astype("boolean")
        return out

    def _extract(self, node: exp.Extract) -> Any:
        part = str(node.this.name if hasattr(node.this, "name") else node.this).upper()
        value = self.eval(node.expression)
        if self.dry:
            return pd.Series([None] * self.n, dtype=object)
        if not _is_datetime(value):
            raise Unsupported("EXTRACT from a non-date")
        if part not in _EXTRACT_FIELDS:
            raise Unsupported(f"EXTRACT({part})")
        fields = {"YEAR": "year", "MONTH": "month", "DAY": "day", "HOUR": "hour", "MINUTE": "minute",
                  "DOW": "dayofweek", "DOY": "dayofyear", "QUARTER": "quarter"}
        if part not in fields:
            raise Unsupported(f"EXTRACT({part})")
        out = getattr(value.dt, fields[part])
        return ((out + 1) % 7) if part == "DOW" else out  # PostgreSQL: Sunday is 0

    def _interval(self, node: exp.Interval) -> pd.Timedelta:
        amount = self.eval(node.this)
        unit_node = node.args.get("unit")
        unit = str(unit_node.name if unit_node is not None else "").lower().rstrip("s")
        text = str(amount).strip()
        if not unit:  # '30 days' written as one string
            number, _, unit = text.partition(" ")
            text, unit = number, unit.lower().rstrip("s")
        units = {"day": "D", "hour": "h", "minute": "min", "second": "s", "week": "W"}
        if unit not in units:
            raise Unsupported(f"INTERVAL in {unit or 'unknown units'}")
        return pd.to_timedelta(float(text), unit=units[unit])

    def _cast(self, node: exp.Cast) -> Any:
        value = self.eval(node.this)
        to = node.to.this
        if isinstance(value, str):
            if to in exp.DataType.NUMERIC_TYPES:
                return float(value) if "." in value else int(value)
            if to in exp.DataType.TEMPORAL_TYPES:
                return pd.Timestamp(value)
        return value

    def _str(self, node: exp.Expression) -> pd.Series:
        value = self.eval(node)
        if not isinstance(value, pd.Series):
            return pd.Series([value] * self.n, dtype=object)
        return value.astype(object).where(value.notna(), None)

    def _match(self, this: exp.Expression, pattern: exp.Expression, flags: int, *, like: bool) -> Any:
        pat = self.eval(pattern)
        if not isinstance(pat, str):
            raise Unsupported("non-literal pattern")
        regex = re.compile(like_to_regex(pat) if like else pat, flags | (re.S if like else 0))
        values = self._str(this)
        if self.dry:
            return values.isna()
        matched = values.map(lambda v: None if v is None else bool(regex.search(str(v))))
        return matched.astype("boolean")

    def _array_items(self, node: exp.Expression) -> list[exp.Expression]:
        node = strip(node)
        if isinstance(node, exp.Array):
            return list(node.expressions)
        raise Unsupported("ANY over a non-literal array")

    def _in(self, this: exp.Expression, items: list[exp.Expression]) -> pd.Series:
        value = self.eval(this)
        literals = [self.eval(i) for i in items]
        if any(isinstance(v, pd.Series) for v in literals):
            raise Unsupported("IN with column items")
        has_null = any(v is None for v in literals)
        literals = [v for v in literals if v is not None]
        series = value if isinstance(value, pd.Series) else pd.Series([value] * self.n)
        if _is_datetime(series):
            literals = [_to_ts(series, v) for v in literals]
        out = pd.Series(series.isin(literals).to_numpy(), dtype="boolean")
        out[series.isna().to_numpy()] = pd.NA
        if has_null:
            out[~out.fillna(False).to_numpy(dtype=bool)] = pd.NA
        return out

    def _coerce(self, a: Any, b: Any) -> tuple[Any, Any]:
        if _is_datetime(a) and isinstance(b, str | pd.Timestamp):
            b = _to_ts(a, b)
        elif _is_datetime(b) and isinstance(a, str | pd.Timestamp):
            a = _to_ts(b, a)
        return a, b

    def _compare(self, node: exp.Expression) -> pd.Series:
        a, b = self._coerce(self.eval(node.this), self.eval(node.expression))
        if self.dry:
            return _unknown(self.n)
        null = as_bool(_isna(a), self.n) | as_bool(_isna(b), self.n)
        a = a.reset_index(drop=True) if isinstance(a, pd.Series) else a
        b = b.reset_index(drop=True) if isinstance(b, pd.Series) else b
        with np.errstate(invalid="ignore"):
            result = _COMPARE[type(node)](a, b)
        out = as_bool(result, self.n)
        out[null.to_numpy(dtype=bool)] = pd.NA
        return out


_HANDLERS: dict[type[exp.Expression], Callable[[Evaluator, Any], Any]] = {
    exp.Paren: lambda ev, node: ev.eval(node.this),
    exp.Column: lambda ev, node: ev.frame[node.name],
    exp.Literal: Evaluator._literal,
    exp.Boolean: lambda ev, node: bool(node.this),
    exp.Null: lambda ev, node: None,
    exp.Neg: lambda ev, node: -ev.eval(node.this),
    exp.Cast: Evaluator._cast,
    exp.And: Evaluator._logic,
    exp.Or: Evaluator._logic,
    exp.Not: Evaluator._logic,
    exp.Is: Evaluator._is,
    exp.EQ: Evaluator._eq,
    exp.In: lambda ev, node: ev._in(node.this, node.expressions),
    exp.Between: Evaluator._between,
    exp.Length: Evaluator._text,
    exp.Lower: Evaluator._text,
    exp.Upper: Evaluator._text,
    exp.Trim: Evaluator._text,
    exp.Coalesce: Evaluator._coalesce,
    exp.Case: Evaluator._case,
    exp.Extract: Evaluator._extract,
    exp.Interval: Evaluator._interval,
    exp.CurrentDate: lambda ev, node: pd.Timestamp.now().normalize(),
    exp.CurrentTimestamp: lambda ev, node: pd.Timestamp.now(tz="UTC"),
    exp.Anonymous: Evaluator._anonymous,
    exp.SimilarTo: Evaluator._similar,
    exp.RegexpLike: Evaluator._pattern,
    exp.RegexpILike: Evaluator._pattern,
    exp.Like: Evaluator._pattern,
    exp.ILike: Evaluator._pattern,
}


_EXTRACT_FIELDS = frozenset({"YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "DOW", "DOY", "QUARTER"})


def _is_datetime(v: Any) -> bool:
    return isinstance(v, pd.Series) and pd.api.types.is_datetime64_any_dtype(v.dtype)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) or (isinstance(v, pd.Series) and pd.api.types.is_numeric_dtype(v))


def _to_ts(series: pd.Series, value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    tz = getattr(series.dtype, "tz", None)
    if tz is not None and ts.tzinfo is None:
        return ts.tz_localize(tz)
    if tz is None and ts.tzinfo is not None:
        return ts.tz_convert("UTC").tz_localize(None)
    return ts
