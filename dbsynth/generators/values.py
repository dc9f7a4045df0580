"""Type-correct column values, vectorised: one call makes all ``n`` values of one column.

Each maker respects the column's type bounds (varchar length, numeric precision/scale, integer
width), the :class:`ColumnDomain` its CHECK constraints imply, and a sensible default range chosen
from the column's name (``year``, ``age``, ``quantity``, ``price``…).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dbsynth.errors import ConstraintError
from dbsynth.generators.providers import Providers
from dbsynth.generators.regex import Unsupported, matching
from dbsynth.rules.domains import ColumnDomain
from dbsynth.schema.model import Column, ColumnType, TypeKind
from dbsynth.semantics import Semantic, tokens

__all__ = ["ValueSpec", "make_values"]

log = logging.getLogger(__name__)
_EPOCH_LOW = np.datetime64("2016-01-01T00:00:00", "s")
_EPOCH_HIGH = np.datetime64("2026-01-01T00:00:00", "s")
_BIRTH_LOW = np.datetime64("1950-01-01T00:00:00", "s")
_BIRTH_HIGH = np.datetime64("2005-12-31T00:00:00", "s")
_HEX = np.array([f"{i:02x}" for i in range(256)], dtype=object)


@dataclass(frozen=True)
class ValueSpec:
    """Everything needed to make one column's values."""

    column: Column
    domain: ColumnDomain
    unique: bool = False
    semantic: Semantic | None = None
    null_rate: float = 0.0
    owner: str = ""

    def empty(self, low: object, high: object) -> ConstraintError:
        return ConstraintError(
            f"{self.owner or self.column.name}: its CHECK constraints and type allow no value "
            f"(it must be >= {low} and <= {high}); fix the constraint")


def make_values(spec: ValueSpec, n: int, rng: np.random.Generator, providers: Providers) -> pd.Series:
    """``n`` values for ``spec``; NULLs at ``spec.null_rate`` unless the domain forbids them."""
    t = spec.column.type
    maker = _MAKERS[t.kind]
    values = _choices(spec, n, rng) if spec.domain.choices is not None else _formatted(spec, n, rng)
    if values is None:
        try:
            values = maker(spec, t, n, rng, providers)
        except ConstraintError:
            if not spec.column.nullable:
                raise
            # a CHECK no value satisfies is still satisfied by NULL (it evaluates to unknown)
            log.warning("%s: its CHECK constraints allow no value; the nullable column is left NULL",
                        spec.owner or spec.column.name)
            return pd.Series([None] * n, dtype=object)
    if spec.null_rate > 0 and not spec.domain.not_null:
        nulls = rng.random(n) < spec.null_rate
        if nulls.any():
            values = values.astype(object) if values.dtype.kind in "iub" else values
            values = values.mask(nulls)
    return values


def _formatted(spec: ValueSpec, n: int, rng: np.random.Generator) -> pd.Series | None:
    """Strings matching the column's format (a regex, LIKE or SIMILAR TO pattern its CHECKs or rules
    give), or ``None`` when it has none or it is one strings are not generated for."""
    if spec.domain.pattern is None or spec.column.type.kind is not TypeKind.STRING:
        return None
    try:
        return matching(spec.domain.pattern, n, rng)
    except Unsupported:
        return None


def _choices(spec: ValueSpec, n: int, rng: np.random.Generator) -> pd.Series:
    pool = [c for c in spec.domain.choices or () if _within(spec.domain, c)]
    if not pool:
        pool = list(spec.domain.choices or ())
    if spec.column.type.kind is TypeKind.ENUM and spec.column.type.labels:
        pool = [c for c in pool if c in spec.column.type.labels] or pool
    idx = rng.integers(0, len(pool), n)
    return pd.Series(np.array(pool, dtype=object)[idx], dtype=object)


def _within(d: ColumnDomain, v: Any) -> bool:
    try:
        if d.low is not None and (v < d.low or (d.low_strict and v == d.low)):
            return False
        return not (d.high is not None and (v > d.high or (d.high_strict and v == d.high)))
    except TypeError:
        return True


def _name_range(col: Column, kind: TypeKind) -> tuple[float, float]:
    toks = tokens(col.name)
    if "year" in toks:
        return 1990, 2025
    if "age" in toks:
        return 18, 90
    if any(t in toks for t in ("quantity", "qty", "count", "number", "num", "seats", "guests", "level")):
        return 1, 20
    if any(t in toks for t in ("price", "amount", "total", "cost", "rate", "fee", "salary", "balance")):
        return (1, 500) if kind is TypeKind.DECIMAL or kind is TypeKind.FLOAT else (1, 1000)
    if any(t in toks for t in ("duration", "length", "minutes", "seconds", "days", "milliseconds")):
        return 1, 600
    if any(t in toks for t in ("bytes", "size")):
        return 1_000, 10_000_000
    if any(t in toks for t in ("percent", "percentage", "pct", "progress")):
        return 0, 100
    return 0, 1000


def type_range(t: ColumnType) -> tuple[float, float, float]:
    """The lowest and highest value the type holds, and its step (integer width, numeric precision)."""
    if t.kind is TypeKind.INTEGER:
        bits = t.bits or 32
        return float(-(2 ** (bits - 1))), float(2 ** (bits - 1) - 1), 1.0
    if t.kind is TypeKind.DECIMAL and t.precision:
        scale = t.scale or 0
        type_hi = 10.0 ** (t.precision - scale) - 10.0 ** -scale
        return -type_hi, type_hi, 10.0 ** -scale
    return -1e15, 1e15, 10.0 ** -(t.scale or 2)


def check_bounds(d: ColumnDomain, kind: TypeKind, step: float) -> tuple[float | None, float | None]:
    """The lowest and highest value a column's CHECK domain allows, a strict bound moved in by one
    ``step``, as numbers (dates as seconds since 1970); None where it sets none or is not readable."""
    low, high = _in_units(d.low, kind), _in_units(d.high, kind)
    return (None if low is None else low + (step if d.low_strict else 0.0),
            None if high is None else high - (step if d.high_strict else 0.0))


def _in_units(value: Any, kind: TypeKind) -> float | None:
    """A CHECK bound as a number in the discretisers' units; None when it is none or not readable."""
    if value is None:
        return None
    try:
        if kind in (TypeKind.DATE, TypeKind.DATETIME):
            stamp = pd.Timestamp(value)
            return float((stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp).value / 1e9)
        return float(value)
    except (TypeError, ValueError):
        return None


def _numeric_bounds(spec: ValueSpec, t: ColumnType, n: int) -> tuple[float, float]:
    """The range to draw from: the name's range met with the CHECK domain, inside the type."""
    type_lo, type_hi, step = type_range(t)
    lo, hi = _name_range(spec.column, t.kind)
    if spec.unique and t.kind is TypeKind.INTEGER:
        hi = max(hi, lo + 20 * n)
    lo, hi = max(lo, type_lo), min(hi, type_hi)
    if lo > hi:  # the name suggests more than the type holds (price numeric(1,1)): use the type
        lo, hi = max(type_lo, 0.0), type_hi
    d_lo, d_hi = check_bounds(spec.domain, t.kind, step)
    if d_lo is not None and d_hi is not None:
        lo, hi = (max(lo, d_lo), min(hi, d_hi)) if max(lo, d_lo) <= min(hi, d_hi) else (d_lo, d_hi)
    elif d_lo is not None:
        lo, hi = (max(lo, d_lo), hi) if d_lo <= hi else (d_lo, d_lo + (hi - lo))
    elif d_hi is not None:
        lo, hi = (lo, min(hi, d_hi)) if d_hi >= lo else (d_hi - (hi - lo), d_hi)
    lo, hi = max(lo, type_lo), min(hi, type_hi)
    if lo > hi:
        raise spec.empty(lo, hi)
    return lo, hi


def _integers(spec: ValueSpec, t: ColumnType, n: int, rng: np.random.Generator, _: Providers) -> pd.Series:
    lo, hi = _numeric_bounds(spec, t, n)
    lo_i, hi_i = int(np.ceil(lo)), int(np.floor(hi))
    if lo_i > hi_i:
        raise spec.empty(lo, hi)
    if spec.unique and hi_i - lo_i + 1 >= n:
        values = rng.choice(hi_i - lo_i + 1, size=n, replace=False) + lo_i
    else:
        values = rng.integers(lo_i, hi_i, size=n, endpoint=True)
    return pd.Series(values.astype(np.int64))


def _decimals(spec: ValueSpec, t: ColumnType, n: int, rng: np.random.Generator, _: Providers) -> pd.Series:
    lo, hi = _numeric_bounds(spec, t, n)
    scale = t.scale if t.scale is not None else 2
    unit = 10.0**-scale
    lo_u, hi_u = int(np.ceil(round(lo / unit, 6))), int(np.floor(round(hi / unit, 6)))
    values = rng.integers(lo_u, max(lo_u, hi_u), size=n, endpoint=True) * unit
    return pd.Series(np.round(values, scale))


def _floats(spec: ValueSpec, t: ColumnType, n: int, rng: np.random.Generator, _: Providers) -> pd.Series:
    lo, hi = _numeric_bounds(spec, t, n)
    return pd.Series(np.round(rng.uniform(lo, hi, size=n), 4))


def _booleans(spec: ValueSpec, t: ColumnType, n: int, rng: np.random.Generator, _: Providers) -> pd.Series:
    return pd.Series(rng.random(n) < 0.5, dtype=object)


def _time_bounds(spec: ValueSpec) -> tuple[np.datetime64, np.datetime64]:
    toks = tokens(spec.column.name)
    birth = any(t in toks for t in ("birth", "dob", "birthday", "born"))
    lo, hi = (_BIRTH_LOW, _BIRTH_HIGH) if birth else (_EPOCH_LOW, _EPOCH_HIGH)
    d = spec.domain
    second = np.timedelta64(1, "s") if spec.column.type.kind is TypeKind.DATETIME else np.timedelta64(1, "D")

    def conv(v: Any) -> np.datetime64:
        ts = pd.Timestamp(v)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return np.datetime64(ts.to_datetime64(), "s")

    d_lo = None if d.low is None else conv(d.low) + (second if d.low_strict else np.timedelta64(0, "s"))
    d_hi = None if d.high is None else conv(d.high) - (second if d.high_strict else np.timedelta64(0, "s"))
    if d_lo is not None and d_hi is not None:
        return (max(lo, d_lo), min(hi, d_hi)) if max(lo, d_lo) <= min(hi, d_hi) else (d_lo, d_hi)
    if d_lo is not None:
        return (max(lo, d_lo), hi) if d_lo <= hi else (d_lo, d_lo + (hi - lo))
    if d_hi is not None:
        return (lo, min(hi, d_hi)) if d_hi >= lo else (d_hi - (hi - lo), d_hi)
    return lo, hi


def _datetimes(spec: ValueSpec, t: ColumnType, n: int, rng: np.random.Generator, _: Providers) -> pd.Series:
    lo, hi = _time_bounds(spec)
    if lo > hi:
        raise spec.empty(lo, hi)
    span = int((hi - lo) / np.timedelta64(1, "s"))
    secs = rng.integers(0, max(span, 0), size=n, endpoint=True)
    values = pd.Series((lo + secs.astype("timedelta64[s]")).astype("datetime64[us]"))
    if t.kind is TypeKind.DATE:
        values = values.dt.floor("D")
    if t.timezone:
        values = values.dt.tz_localize("UTC")
    return values


def _times(spec: ValueSpec, t: ColumnType, n: int, rng: np.random.Generator, _: Providers) -> pd.Series:
    secs = rng.integers(0, 86_400, size=n)
    text = pd.Series(pd.to_datetime(secs, unit="s")).dt.strftime("%H:%M:%S")
    return text.astype(object)


def _intervals(spec: ValueSpec, t: ColumnType, n: int, rng: np.random.Generator, _: Providers) -> pd.Series:
    days = rng.integers(0, 365, size=n).astype(str)
    return pd.Series(np.char.add(days.astype("U"), " days"), dtype=object)


def _hex(raw: np.ndarray) -> np.ndarray:
    """Rows of uint8 → hex strings, vectorised through a 256-entry lookup table."""
    parts: np.ndarray = _HEX[raw]
    out: np.ndarray = parts[:, 0].copy()
    for j in range(1, raw.shape[1]):
        out = out + parts[:, j]
    return out


def _uuids(spec: ValueSpec, t: ColumnType, n: int, rng: np.random.Generator, _: Providers) -> pd.Series:
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    h = pd.Series(_hex(raw), dtype=object).str
    return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]


def _json(spec: ValueSpec, t: ColumnType, n: int, rng: np.random.Generator, p: Providers) -> pd.Series:
    words = p.words()
    ids = pd.Series(rng.integers(1, 10_000, size=n).astype(str), dtype=object)
    tags = pd.Series(words[rng.integers(0, len(words), size=n)], dtype=object)
    flags = pd.Series(np.where(rng.random(n) < 0.5, "true", "false"), dtype=object)
    return '{"id": ' + ids + ', "tag": ' + tags.map(json.dumps) + ', "active": ' + flags + "}"


def _binary(spec: ValueSpec, t: ColumnType, n: int, rng: np.random.Generator, _: Providers) -> pd.Series:
    size = min(t.length or 32, 32)
    raw = rng.integers(0, 256, size=(n, size), dtype=np.uint8)
    return pd.Series([row.tobytes() for row in raw], dtype=object)


def _enums(spec: ValueSpec, t: ColumnType, n: int, rng: np.random.Generator, _: Providers) -> pd.Series:
    labels = np.array(t.labels, dtype=object)
    return pd.Series(labels[rng.integers(0, len(labels), size=n)], dtype=object)


def _arrays(spec: ValueSpec, t: ColumnType, n: int, rng: np.random.Generator, p: Providers) -> pd.Series:
    """PostgreSQL array literals (``{a,b}``) of 0–3 items of the element type."""
    assert t.item is not None
    item = ValueSpec(Column("item", t.item, nullable=False), ColumnDomain(), semantic=None)
    sizes = rng.integers(0, 4, size=n)
    out = pd.Series(["{}"] * n, dtype=object)
    for k in range(1, 4):
        rows = np.flatnonzero(sizes >= k)
        if not len(rows):
            continue
        vals = _MAKERS[t.item.kind](item, t.item, len(rows), rng, p).astype(str)
        if t.item.kind in (TypeKind.STRING, TypeKind.ENUM, TypeKind.UUID, TypeKind.DATE, TypeKind.DATETIME):
            vals = '"' + vals.str.replace('"', "", regex=False) + '"'
        cur = out.iloc[rows]
        sep = np.where(k == 1, "", ",")
        out.iloc[rows] = (cur.str.slice(0, -1) + sep + vals.to_numpy() + "}").to_numpy()
    return out


def _inet(spec: ValueSpec, t: ColumnType, n: int, rng: np.random.Generator, _: Providers) -> pd.Series:
    octets = rng.integers(1, 255, size=(n, 4)).astype(str)
    s = pd.Series(octets[:, 0], dtype=object)
    for j in range(1, 4):
        s = s + "." + octets[:, j]
    return s


def _strings(spec: ValueSpec, t: ColumnType, n: int, rng: np.random.Generator, p: Providers) -> pd.Series:
    """Text from a pool; unique columns get a distinct base-36 suffix, kept within the length. Short
    columns get random capitals (and digits when unique: a varchar(5) key of words cut to five
    letters has too few values to stay unique, and its clashes redrawn from them never settle)."""
    limit = t.length if t.length is not None else None
    if limit is not None and spec.semantic is None and (limit <= 3 or (spec.unique and limit <= 8)):
        alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ" + ("0123456789" if spec.unique else "")), dtype=object)
        cols = [alphabet[rng.integers(0, len(alphabet), size=n)] for _ in range(limit)]
        out = pd.Series(cols[0], dtype=object)
        for c in cols[1:]:
            out = out + c
        return out
    pool = p.pool(spec.semantic)
    if limit is not None:
        pool = np.array([v[:limit] for v in pool], dtype=object)
    if not spec.unique:
        return pd.Series(pool[rng.integers(0, len(pool), size=n)], dtype=object)
    pool = np.array(sorted(set(pool)), dtype=object)
    if n <= len(pool):
        return pd.Series(rng.permutation(pool)[:n], dtype=object)
    # more rows than distinct pool values: repeats get a random suffix, kept within the length
    values = pd.Series(pool[rng.integers(0, len(pool), size=n)], dtype=object)
    dup = values.duplicated().to_numpy()
    suffix = pd.Series(np.char.mod("%06x", rng.integers(0, 2**24, size=int(dup.sum()))).astype(object),
                       dtype=object)
    base = values[dup].reset_index(drop=True)
    if spec.semantic is Semantic.EMAIL and base.str.contains("@", regex=False).all():
        parts = base.str.split("@")
        fixed = parts.str[0] + "." + suffix + "@" + parts.str[1]
        if limit is not None:
            fixed = fixed.str.slice(-limit)
    else:
        sep = "_" if spec.semantic is Semantic.USERNAME else "-"
        room = None if limit is None else max(limit - 7, 0)
        fixed = ((base if room is None else base.str.slice(0, room)) + sep + suffix).str.lstrip("-_")
        if limit is not None:
            fixed = fixed.str.slice(0, limit)
    values[dup] = fixed.to_numpy()
    return values


def _tsvector(spec: ValueSpec, t: ColumnType, n: int, rng: np.random.Generator, p: Providers) -> pd.Series:
    words = p.words()
    out = pd.Series(words[rng.integers(0, len(words), size=n)], dtype=object)
    for _ in range(2):
        out = out + " " + words[rng.integers(0, len(words), size=n)]
    return out


_MAKERS = {
    TypeKind.INTEGER: _integers,
    TypeKind.DECIMAL: _decimals,
    TypeKind.FLOAT: _floats,
    TypeKind.BOOLEAN: _booleans,
    TypeKind.STRING: _strings,
    TypeKind.DATE: _datetimes,
    TypeKind.DATETIME: _datetimes,
    TypeKind.TIME: _times,
    TypeKind.INTERVAL: _intervals,
    TypeKind.UUID: _uuids,
    TypeKind.JSON: _json,
    TypeKind.BINARY: _binary,
    TypeKind.ENUM: _enums,
    TypeKind.ARRAY: _arrays,
    TypeKind.TSVECTOR: _tsvector,
    TypeKind.INET: _inet,
}
