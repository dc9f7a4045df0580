"""CHECK constraints parsed with sqlglot into vectorised predicates over a DataFrame.

SQL's three-valued logic is kept: a CHECK passes unless its expression is FALSE, so a NULL operand
passes. An expression this module cannot translate is reported as unsupported rather than guessed at;
the database then has the last word when the rows are written (inside the one transaction).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

import numpy as np
import pandas as pd
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

__all__ = ["Predicate", "Unsupported", "compile_check", "evaluate", "like_to_regex", "similar_to_regex",
           "sql_literal", "sqlglot_dialect", "strip"]

_DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite", "mysql": "mysql", "mariadb": "mysql"}


class Unsupported(Exception):
    """An SQL construct the evaluator does not translate."""


def sqlglot_dialect(dialect: str) -> str:
    return _DIALECTS.get(dialect, dialect)


def strip(node: exp.Expression) -> exp.Expression:
    """Drop the parentheses and casts PostgreSQL adds when it normalises a CHECK's text."""
    while isinstance(node, exp.Paren | exp.Cast):
        node = node.this
    return node


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
        if self.tree is None:
            return False
        try:
            _Evaluator(pd.DataFrame({c: pd.Series([None], dtype=object) for c in self.columns}),
                       dry=True).eval(self.tree)
        except Unsupported:
            return False
        return True

    def violations(self, frame: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows for which the CHECK evaluates to FALSE."""
        assert self.tree is not None
        result = _Evaluator(frame).eval(self.tree)
        passes: np.ndarray = _as_bool(result, len(frame)).fillna(True).to_numpy(dtype=bool)
        return ~passes

    @property
    def label(self) -> str:
        return self.name or self.sqltext


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
    return _Evaluator(frame).eval(tree)


def _as_bool(value: Any, n: int) -> pd.Series:
    if isinstance(value, pd.Series):
        if value.dtype == "boolean":
            return value.reset_index(drop=True)
        return value.astype("boolean").reset_index(drop=True)
    if value is None or value is pd.NA:
        return pd.Series(pd.array([pd.NA] * n, dtype="boolean"))
    return pd.Series(pd.array([bool(value)] * n, dtype="boolean"))


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


class _Evaluator:
    """Evaluates a parsed expression over whole columns; values are Series or Python scalars."""

    def __init__(self, frame: pd.DataFrame, *, dry: bool = False) -> None:
        self.frame = frame.reset_index(drop=True)
        self.n = len(frame)
        self.dry = dry

    def eval(self, node: exp.Expression) -> Any:
        value = self._eval(node)
        if node.args.get("negate"):  # sqlglot's `a IS NOT NULL`, `a NOT LIKE b`
            return ~_as_bool(value, self.n)
        return value

    def _eval(self, node: exp.Expression) -> Any:
        if isinstance(node, exp.Paren):
            return self.eval(node.this)
        if isinstance(node, exp.Column):
            return self.frame[node.name]
        if isinstance(node, exp.Literal):
            if node.is_string:
                return node.this
            text = node.this
            return int(text) if re.fullmatch(r"-?\d+", text) else float(text)
        if isinstance(node, exp.Boolean):
            return bool(node.this)
        if isinstance(node, exp.Null):
            return None
        if isinstance(node, exp.Neg):
            return -self.eval(node.this)
        if isinstance(node, exp.Cast):
            return self._cast(node)
        if isinstance(node, exp.And):
            return _as_bool(self.eval(node.this), self.n) & _as_bool(self.eval(node.expression), self.n)
        if isinstance(node, exp.Or):
            return _as_bool(self.eval(node.this), self.n) | _as_bool(self.eval(node.expression), self.n)
        if isinstance(node, exp.Not):
            return ~_as_bool(self.eval(node.this), self.n)
        if isinstance(node, exp.Is):
            if not isinstance(strip(node.expression), exp.Null):
                raise Unsupported("IS other than IS NULL")
            isna = _isna(self.eval(node.this))
            return _as_bool(isna, self.n)
        if isinstance(node, exp.EQ) and isinstance(node.expression, exp.Any):
            return self._in(node.this, self._array_items(node.expression.this))
        if type(node) in _COMPARE:
            return self._compare(node)
        if type(node) in _ARITH:
            a, b = self._coerce(self.eval(node.this), self.eval(node.expression))
            if isinstance(node, exp.Add | exp.Sub) and _is_datetime(a) and _is_number(b):
                b = pd.to_timedelta(b, unit="D")
            return _ARITH[type(node)](a, b)
        if isinstance(node, exp.In):
            return self._in(node.this, node.expressions)
        if isinstance(node, exp.Between):
            low = exp.GTE(this=node.this, expression=node.args["low"])
            high = exp.LTE(this=node.this, expression=node.args["high"])
            return self.eval(exp.And(this=low, expression=high))
        if isinstance(node, exp.Length):
            return self._str(node.this).str.len()
        if isinstance(node, exp.Lower):
            return self._str(node.this).str.lower()
        if isinstance(node, exp.Upper):
            return self._str(node.this).str.upper()
        if isinstance(node, exp.Trim) and not node.args.get("position"):
            return self._str(node.this).str.strip()
        if isinstance(node, exp.Coalesce):
            values = [self.eval(e) for e in [node.this, *node.expressions]]
            out = values[0] if isinstance(values[0], pd.Series) else pd.Series([values[0]] * self.n)
            for v in values[1:]:
                out = out.where(~out.isna(), v)
            return out
        if isinstance(node, exp.Case):
            return self._case(node)
        if isinstance(node, exp.Extract):
            return self._extract(node)
        if isinstance(node, exp.Interval):
            return self._interval(node)
        if isinstance(node, exp.CurrentDate):
            return pd.Timestamp.now().normalize()
        if isinstance(node, exp.CurrentTimestamp):
            return pd.Timestamp.now(tz="UTC")
        if isinstance(node, exp.Anonymous) and node.name.lower() == "similar_to_escape" and len(node.expressions) == 1:
            pat = self.eval(node.expressions[0])  # how PostgreSQL stores SIMILAR TO: x ~ similar_to_escape(p)
            if not isinstance(pat, str):
                raise Unsupported("non-literal SIMILAR TO pattern")
            return similar_to_regex(pat)
        if isinstance(node, exp.SimilarTo):
            pat = self.eval(node.expression)
            if not isinstance(pat, str):
                raise Unsupported("non-literal SIMILAR TO pattern")
            regex = similar_to_regex(pat)
            values = self._str(node.this)
            if self.dry:
                return values.isna()
            compiled = re.compile(regex, re.S)
            return values.map(lambda v: None if v is None else bool(compiled.match(str(v)))).astype("boolean")
        if isinstance(node, exp.RegexpLike | exp.RegexpILike):
            flags = re.I if isinstance(node, exp.RegexpILike) else 0
            return self._match(node.this, node.expression, flags, like=False)
        if isinstance(node, exp.Like | exp.ILike):
            flags = re.I if isinstance(node, exp.ILike) else 0
            return self._match(node.this, node.expression, flags, like=True)
        raise Unsupported(type(node).__name__)

    def _case(self, node: exp.Case) -> Any:
        """CASE WHEN c1 THEN v1 … ELSE d END, row by row through masks (first true branch wins)."""
        default = node.args.get("default")
        out = self.eval(default) if default is not None else None
        out = out if isinstance(out, pd.Series) else pd.Series([out] * self.n, dtype=object)
        out = out.reset_index(drop=True).astype(object)
        for branch in reversed(node.args.get("ifs") or []):
            cond = _as_bool(self.eval(branch.this), self.n).fillna(False).to_numpy(dtype=bool)
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
            return pd.Series(pd.array([pd.NA] * self.n, dtype="boolean"))
        null = _as_bool(_isna(a), self.n) | _as_bool(_isna(b), self.n)
        a = a.reset_index(drop=True) if isinstance(a, pd.Series) else a
        b = b.reset_index(drop=True) if isinstance(b, pd.Series) else b
        with np.errstate(invalid="ignore"):
            result = _COMPARE[type(node)](a, b)
        out = _as_bool(result, self.n)
        out[null.to_numpy(dtype=bool)] = pd.NA
        return out


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
