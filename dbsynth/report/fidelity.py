"""The fidelity report: the four properties of SDMetrics' multi-table Quality Report, so users can
compare dbsynth with SDV side by side.

- column shapes: 1 − KS statistic (numeric, datetime) or 1 − total-variation distance (categorical);
- column pair trends: correlation similarity (numeric pairs, 1 − |Δr|/2) or contingency similarity
  (1 − TVD of the joint distribution, numerics binned by the real data's deciles);
- cardinality: 1 − KS between the real and synthetic children-per-parent distributions, per FK;
- inter-table trends: pair trends between a parent's columns and its children's, across each FK.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from dbsynth.numbers import as_numbers
from dbsynth.relational import children_per_parent, fk_id, join_parent
from dbsynth.schema.model import ForeignKey, Schema, Table
from dbsynth.semantics import ColumnKind, column_kind

__all__ = ["FidelityReport", "fidelity_report", "ks_similarity", "tvd_similarity"]

SCORED = {ColumnKind.NUMERIC, ColumnKind.DATETIME, ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN}


def ks_similarity(real: np.ndarray, synth: np.ndarray) -> float:
    """1 − the two-sample Kolmogorov–Smirnov statistic (scipy's, NaNs ignored), as SDMetrics'
    KSComplement."""
    a, b = real[~np.isnan(real)], synth[~np.isnan(synth)]
    if len(a) == 0 or len(b) == 0:
        return 1.0 if len(a) == len(b) else 0.0
    with warnings.catch_warnings():  # only the statistic is used: its p-value's warnings for tiny samples are not
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(1.0 - stats.ks_2samp(a, b, method="asymp").statistic)


def _freq(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "<NULL>").astype(str).value_counts(normalize=True)


def tvd_similarity(real: pd.Series, synth: pd.Series) -> float:
    p, q = _freq(real), _freq(synth)
    idx = p.index.union(q.index)
    return float(1.0 - 0.5 * np.abs(p.reindex(idx, fill_value=0) - q.reindex(idx, fill_value=0)).sum())


def _binned(real: pd.Series, synth: pd.Series, kind: ColumnKind) -> tuple[pd.Series, pd.Series]:
    if kind not in (ColumnKind.NUMERIC, ColumnKind.DATETIME):
        return real.astype(object).astype(str), synth.astype(object).astype(str)
    r, s = as_numbers(real), as_numbers(synth)
    edges = np.unique(np.nanquantile(r, np.linspace(0, 1, 11))) if np.isfinite(r).any() else np.array([0.0])
    inner = edges[1:-1]

    def cut(x: np.ndarray) -> pd.Series:
        codes = np.searchsorted(inner, np.nan_to_num(x), side="right").astype(str).astype(object)
        codes[np.isnan(x)] = "<NULL>"
        return pd.Series(codes)

    return cut(r), cut(s)


def pair_similarity(real: pd.DataFrame, synth: pd.DataFrame, a: str, b: str, ka: ColumnKind, kb: ColumnKind) -> float:
    numeric = {ColumnKind.NUMERIC, ColumnKind.DATETIME}
    if ka in numeric and kb in numeric:
        rr = pd.DataFrame({"a": as_numbers(real[a]), "b": as_numbers(real[b])}).dropna()
        ss = pd.DataFrame({"a": as_numbers(synth[a]), "b": as_numbers(synth[b])}).dropna()
        if len(rr) > 2 and len(ss) > 2 and rr["a"].std() > 0 and rr["b"].std() > 0 \
                and ss["a"].std() > 0 and ss["b"].std() > 0:
            return float(1.0 - abs(rr["a"].corr(rr["b"]) - ss["a"].corr(ss["b"])) / 2.0)
    ra, sa_ = _binned(real[a], synth[a], ka)
    rb, sb = _binned(real[b], synth[b], kb)
    joint_r = (ra.reset_index(drop=True) + "|" + rb.reset_index(drop=True))
    joint_s = (sa_.reset_index(drop=True) + "|" + sb.reset_index(drop=True))
    return tvd_similarity(joint_r, joint_s)


@dataclass
class FidelityReport:
    column_shapes: dict[str, dict[str, float]] = field(default_factory=dict)
    pair_trends: dict[str, dict[str, float]] = field(default_factory=dict)
    cardinality: dict[str, float] = field(default_factory=dict)
    inter_table: dict[str, float] = field(default_factory=dict)

    @staticmethod
    def _mean(values: list[float]) -> float | None:
        return float(np.mean(values)) if values else None

    def table_scores(self) -> dict[str, dict[str, float | None]]:
        return {t: {"column_shapes": self._mean(list(self.column_shapes.get(t, {}).values())),
                    "pair_trends": self._mean(list(self.pair_trends.get(t, {}).values()))}
                for t in sorted(set(self.column_shapes) | set(self.pair_trends))}

    def overall(self) -> dict[str, float | None]:
        shapes = [v for cols in self.column_shapes.values() for v in cols.values()]
        pairs = [v for cols in self.pair_trends.values() for v in cols.values()]
        parts = {
            "column_shapes": self._mean(shapes),
            "pair_trends": self._mean(pairs),
            "cardinality": self._mean(list(self.cardinality.values())),
            "inter_table_trends": self._mean(list(self.inter_table.values())),
        }
        present = [v for v in parts.values() if v is not None]
        return {"score": self._mean(present), **parts}

    def to_json(self) -> dict[str, Any]:
        return {"overall": self.overall(), "tables": self.table_scores(), "columns": self.column_shapes,
                "pairs": self.pair_trends, "cardinality": self.cardinality, "inter_table_trends": self.inter_table}


def _kinds(table: Table, real: pd.DataFrame) -> dict[str, ColumnKind]:
    out = {}
    for c in table.writable_columns:
        if c.name in real.columns:
            kind = column_kind(table, c, real[c.name])
            if kind in SCORED:
                out[c.name] = kind
    return out


def fidelity_report(schema: Schema, real: Mapping[str, pd.DataFrame], synth: Mapping[str, pd.DataFrame]
                    ) -> FidelityReport:
    rep = FidelityReport()
    kinds = {t.key: _kinds(t, real[t.key]) for t in schema.tables if t.key in real and t.key in synth}
    for t in schema.tables:
        if t.key not in kinds:
            continue
        r, s, ks = real[t.key], synth[t.key], kinds[t.key]
        shapes = {}
        for col, kind in ks.items():
            if kind in (ColumnKind.NUMERIC, ColumnKind.DATETIME):
                shapes[col] = ks_similarity(as_numbers(r[col]), as_numbers(s[col]))
            else:
                shapes[col] = tvd_similarity(r[col], s[col])
        rep.column_shapes[t.key] = shapes
        rep.pair_trends[t.key] = {f"{a} ~ {b}": pair_similarity(r, s, a, b, ks[a], ks[b])
                                  for a, b in itertools.combinations(ks, 2)}
        for fk in t.foreign_keys:
            p = fk.referred
            if p not in kinds or p == t.key:
                continue
            name = fk_id(t.key, fk)
            rep.cardinality[name] = ks_similarity(
                children_per_parent(real[p], r, fk).astype(float), children_per_parent(synth[p], s, fk).astype(float))
            pairs = []
            jr, js = _join(r, real[p], fk), _join(s, synth[p], fk)
            for pc, pk in kinds[p].items():
                for cc, ck in ks.items():
                    pairs.append(pair_similarity(jr, js, "^" + pc, cc, pk, ck))
            if pairs:
                rep.inter_table[name] = float(np.mean(pairs))
    return rep


def _join(child: pd.DataFrame, parent: pd.DataFrame, fk: ForeignKey) -> pd.DataFrame:
    """``child`` with its parent row's other columns as ``^column``."""
    others = [c for c in parent.columns if c not in fk.referred_columns]
    return pd.concat([child.reset_index(drop=True), join_parent(child, parent, fk, others).add_prefix("^")], axis=1)
