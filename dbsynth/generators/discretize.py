"""Map column values to a small number of states and back, for the Bayesian network.

Categorical columns (and numeric ones with few distinct values) keep their values as states.
Numeric and datetime columns get quantile bins; decoding draws uniformly *inside* the bin, so exact
source values are not simply replayed, and stays within the bin edges (hence within the column's
observed range and type bounds). NULL is a state of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dbsynth.numbers import as_numbers
from dbsynth.schema.model import Column, TypeKind
from dbsynth.semantics import ColumnKind

__all__ = ["Discretizer", "fit_discretizer", "numeric_unit"]

MAX_BINS = 20
EXACT_VALUES = 20


@dataclass(frozen=True)
class Discretizer:
    """``kind``: ``values`` (states are the values themselves) or ``bins`` (numeric edges).

    ``unit`` says how a ``bins`` column decodes: ``int``, ``decimal:<scale>``, ``float``,
    ``datetime``, ``datetime_tz`` or ``date``. ``spans``, when given, hold for each bin the part of
    it where values lie (``[0.99, 1.00)`` inside the bin ``[0.7, 1.5)``): encoding uses the edges,
    decoding draws inside the span — how a DP domain keeps a price at 0.99 without releasing it.
    """

    kind: str
    values: tuple[Any, ...] = ()
    edges: tuple[float, ...] = ()
    unit: str = "float"
    has_null: bool = True
    spans: tuple[tuple[float, float], ...] = ()

    @property
    def cardinality(self) -> int:
        base = len(self.values) if self.kind == "values" else len(self.edges) - 1
        return base + (1 if self.has_null else 0)

    @property
    def null_state(self) -> int:
        return self.cardinality - 1

    def encode(self, series: pd.Series) -> np.ndarray:
        null = series.isna().to_numpy()
        codes = np.zeros(len(series), dtype=np.int64)
        if self.kind == "values":
            index = pd.Index(list(self.values), dtype=object)
            codes = index.get_indexer(series.astype(object)).astype(np.int64)
            unknown = (codes < 0) & ~null
            codes[unknown] = self._nearest(series[unknown]) if unknown.any() else 0
        else:
            x = _numeric(series, self.unit)
            inner = np.asarray(self.edges[1:-1], dtype=float)
            codes = np.searchsorted(inner, np.nan_to_num(x), side="right").astype(np.int64)
        if self.has_null:
            codes[null] = self.null_state
        return codes

    def _nearest(self, series: pd.Series) -> np.ndarray | int:
        """States for values the discretiser does not hold: among numbers the nearest value (a price
        whose count did not clear the DP threshold sits with its neighbour), else the first state."""
        numbers = [v for v in self.values if isinstance(v, int | float) and not isinstance(v, bool)]
        x = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
        if len(numbers) != len(self.values) or np.isnan(x).any():
            return 0
        order = np.argsort(numbers)
        held = np.asarray(numbers, dtype=float)[order]
        right = np.clip(np.searchsorted(held, x), 1, len(held) - 1) if len(held) > 1 else np.zeros(len(x), int)
        left = np.maximum(right - 1, 0)
        pick = np.where(np.abs(x - held[left]) <= np.abs(x - held[right]), left, right)
        return order[pick].astype(np.int64)

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        n = len(codes)
        null = codes == self.null_state if self.has_null else np.zeros(n, dtype=bool)
        if self.kind == "values":
            table = np.array([*list(self.values), None], dtype=object)
            out = pd.Series(table[np.minimum(codes, len(self.values))], dtype=object)
            out[null] = None
            return out
        edges = np.asarray(self.edges, dtype=float)
        k = np.clip(codes, 0, len(edges) - 2)
        if self.spans:
            spans = np.asarray(self.spans, dtype=float)
            lo, hi = spans[k, 0], spans[k, 1]
        else:
            lo, hi = edges[k], edges[k + 1]
        x = lo + (hi - lo) * rng.random(n)
        return _from_numeric(x, null, self.unit)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "values": [_json_value(v) for v in self.values], "edges": list(self.edges),
                "unit": self.unit, "has_null": self.has_null, "spans": [list(s) for s in self.spans]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Discretizer:
        return cls(data["kind"], tuple(data["values"]), tuple(data["edges"]), data["unit"], data["has_null"],
                   tuple((float(a), float(b)) for a, b in data.get("spans", ())))


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def _json_value(v: Any) -> Any:
    v = _plain(v)
    if isinstance(v, float) and v.is_integer():
        return v
    return v


def _numeric(series: pd.Series, unit: str) -> np.ndarray:
    return as_numbers(series, datetimes=unit.startswith("datetime") or unit == "date")


def _from_numeric(x: np.ndarray, null: np.ndarray, unit: str) -> pd.Series:
    if unit == "int":
        out = pd.Series(np.floor(x).astype(np.int64), dtype=object)
    elif unit.startswith("decimal:"):
        scale = int(unit.split(":")[1])
        # the nudge keeps 0.99 (99.999… cents in binary) from flooring to 0.98
        out = pd.Series(np.floor(x * 10**scale + 1e-6) / 10**scale, dtype=object)
    elif unit.startswith("datetime") or unit == "date":
        stamps = x.astype("int64").astype("datetime64[s]")
        series = pd.Series(stamps.astype("datetime64[us]"))
        if unit == "date":
            series = series.dt.floor("D")
        if unit == "datetime_tz":
            series = series.dt.tz_localize("UTC")
        return series.mask(null)
    else:
        out = pd.Series(x, dtype=object)
    out[null] = None
    return out


def fit_discretizer(series: pd.Series, unit: str | None) -> Discretizer:
    """``unit`` ``None`` means categorical; otherwise the numeric decoding unit (see above)."""
    present = series.dropna()
    if unit is None:
        counts = present.map(_plain).value_counts(sort=False)
        values = tuple(sorted(counts.index, key=lambda v: (str(type(v)), v)))
        return Discretizer("values", values=values or (None,), has_null=True)
    x = _numeric(present, unit)
    distinct = np.unique(x)
    if len(distinct) <= EXACT_VALUES or (len(distinct) <= 5 * EXACT_VALUES and len(distinct) <= 0.1 * len(x)):
        values = tuple(_restore(v, unit) for v in distinct)
        return Discretizer("values", values=values or (0,), has_null=True)
    if len(distinct) == 0:
        return Discretizer("values", values=(None,), has_null=True)
    edges = np.unique(np.quantile(x, np.linspace(0, 1, MAX_BINS + 1)))
    if len(edges) < 2:
        edges = np.array([distinct[0], distinct[0] + 1.0])
    if unit == "int" or unit == "date" or unit.startswith("datetime"):
        step = 86400.0 if unit == "date" else 1.0
        edges = edges.copy()
        edges[-1] = edges[-1] + step  # half-open bins [lo, hi): the maximum stays reachable
    elif unit.startswith("decimal:"):
        edges = edges.copy()
        edges[-1] = edges[-1] + 10.0 ** -int(unit.split(":")[1])
    return Discretizer("bins", edges=tuple(float(e) for e in edges), unit=unit, has_null=True)


def _restore(v: float, unit: str) -> Any:
    if unit.startswith("datetime") or unit == "date":
        ts = pd.Timestamp(int(v), unit="s")
        return ts.tz_localize("UTC") if unit == "datetime_tz" else ts
    if unit == "int":
        return int(v)
    if unit.startswith("decimal:"):
        return round(float(v), int(unit.split(":")[1]))
    return float(v)


def numeric_unit(col: Column, kind: ColumnKind) -> str | None:
    """How a learned column is discretised: ``None`` for categories, else the decoding unit."""
    t = col.type
    if kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN, ColumnKind.CONSTANT):
        return None
    if t.kind is TypeKind.INTEGER:
        return "int"
    if t.kind is TypeKind.DECIMAL:
        return f"decimal:{t.scale if t.scale is not None else 2}"
    if t.kind is TypeKind.DATE:
        return "date"
    if t.kind is TypeKind.DATETIME:
        return "datetime_tz" if t.timezone else "datetime"
    return "float"
