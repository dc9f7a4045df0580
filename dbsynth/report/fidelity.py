"""The fidelity report: the four properties of SDMetrics' multi-table Quality Report (0.32), computed
with its rules so that its figures and SDMetrics' agree (a test holds them within 0.02):

- column shapes: KSComplement (numbers, dates: 1 − the two-sample KS statistic, NULLs dropped) or
  TVComplement (categories, booleans: 1 − total variation distance, NULLs dropped);
- column pair trends: CorrelationSimilarity for two numbers (1 − |Δ Pearson r| / 2, rows with both
  set; none when either side is constant), else ContingencySimilarity (1 − TVD of the joint counts,
  NULL a value of its own) with a number cut into 10 equal-width bins over each side's own range
  (dates in nanoseconds, whose bins over one instant are too fine to exist: no score). A pair counts
  only where the real data shows a trend: |r| > 0.5, or Cramér's V > 0.3 (SDMetrics' defaults);
- cardinality: KSComplement of the children-per-parent counts, per relationship;
- inter-table trends: pair trends between a parent's columns and its children's on the two tables
  joined through the relationship.

Each property is the mean over all its scores (every column, pair, relationship of every table
pooled) and the score the mean of the properties. A relationship is an FK of one column to its
parent's one-column primary key, as SDMetrics' metadata can say. Scored are the columns a user of
SDMetrics would declare: keys are ``id`` and a name, address, e-mail or phone is contact data, both
unscored like text whose values are mostly distinct; :attr:`FidelityReport.unscored` says why for each.

Beside them, what no SDMetrics property catches: for every two FK paths of a table that reach the
same ancestor table (see :mod:`dbsynth.meetings`), the share of rows whose paths end on the same
ancestor row, real and synthetic ("path agreement": a payment's customer and its rental's customer).
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from dbsynth.graph import plan
from dbsynth.meetings import agreeing, candidates, fk_index
from dbsynth.numbers import as_numbers
from dbsynth.relational import children_per_parent, fk_id, parent_positions
from dbsynth.schema.model import ForeignKey, Schema, Table, TypeKind
from dbsynth.semantics import ColumnKind, schema_kind

__all__ = ["CONTACT", "FidelityReport", "fidelity_report", "ks_similarity", "relationships", "scored_values",
           "sdtypes", "tvd_similarity"]

# contact data by name: unscored for every system alike (what is generated, never learned)
CONTACT = re.compile(r"(^|_)(first|last|full|given|family|sur)_?name$|e_?mail|phone|address|city|postal|zip|street"
                     r"|fax|password|username", re.I)
NEAR_UNIQUE = 0.5  # text with at least this share of distinct values is not a category
REAL_CORRELATION = 0.5  # a pair of numbers is scored where the real |r| exceeds this
REAL_ASSOCIATION = 0.3  # ... any other pair where the real Cramér's V does
CONTINUOUS = ("numerical", "datetime")


def ks_similarity(real: np.ndarray, synth: np.ndarray) -> float:
    """1 − the two-sample Kolmogorov–Smirnov statistic, NaNs dropped (SDMetrics' KSComplement)."""
    a, b = real[~np.isnan(real)], synth[~np.isnan(synth)]
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    with warnings.catch_warnings():  # only the statistic is used: its p-value's warnings for tiny samples are not
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(1.0 - stats.ks_2samp(a, b, method="asymp").statistic)


def _tv_complement(p: pd.Series, q: pd.Series) -> float:
    """1 − the TVD of two normalised frequency tables, at least 0: disjoint tables summed to
    -7e-17, which the demo printed as a score of -0.000."""
    idx = p.index.union(q.index)
    return max(0.0, float(1.0 - 0.5 * np.abs(p.reindex(idx, fill_value=0) - q.reindex(idx, fill_value=0)).sum()))


def tvd_similarity(real: pd.Series, synth: pd.Series) -> float:
    """1 − the total variation distance of the non-NULL values (SDMetrics' TVComplement)."""
    p, q = real.dropna().value_counts(normalize=True), synth.dropna().value_counts(normalize=True)
    if not len(p) or not len(q):
        return float("nan")
    return _tv_complement(p, q)


def _canon(values: pd.Series) -> pd.Series:
    """A category column as comparable text: 2006, 2006.0 and "2006" are one value; NULL stays NULL."""
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().sum() == values.notna().sum():
        return numbers.map(lambda v: None if pd.isna(v) else repr(round(float(v), 6))).astype(object)
    return values.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)).astype(object)


def sdtypes(schema: Schema, real: Mapping[str, pd.DataFrame]) -> tuple[dict[str, dict[str, str]],
                                                                         dict[str, dict[str, str]]]:
    """Each table's scored columns with their SDMetrics sdtype (``numerical``, ``datetime``,
    ``boolean``, ``categorical``), and its unscored ones with the reason."""
    scored: dict[str, dict[str, str]] = {}
    unscored: dict[str, dict[str, str]] = {}
    for t in schema.tables:
        if t.key not in real:
            continue
        scored[t.key], unscored[t.key] = {}, {}
        keys = _keys(t)
        for c in t.columns:
            if c.name not in real[t.key].columns:
                continue
            kind, why = _sdtype(t, c.name, keys, real[t.key][c.name])
            if kind is None:
                unscored[t.key][c.name] = why
            else:
                scored[t.key][c.name] = kind
    return scored, unscored


def _keys(t: Table) -> set[str]:
    """FK columns, one-column keys, and the whole-number columns of a composite primary key (a
    partitioned table's ``(payment_date, payment_id)``)."""
    pk = list(t.primary_key.columns) if t.primary_key else []
    return {c for fk in t.foreign_keys for c in fk.columns} | {
        cols[0] for cols in [pk, *(u.columns for u in t.uniques)] if len(cols) == 1} | {
        c for c in pk if t.column(c).type.kind is TypeKind.INTEGER}


def _sdtype(t: Table, name: str, keys: set[str], values: pd.Series) -> tuple[str | None, str]:
    col = t.column(name)
    if name in keys:
        return None, "key"
    if CONTACT.search(name) or schema_kind(t, col) is ColumnKind.PII:  # a person's name by table and column
        return None, "contact data"
    kind = col.type.kind
    if kind in (TypeKind.INTEGER, TypeKind.DECIMAL, TypeKind.FLOAT):
        return "numerical", ""
    if kind in (TypeKind.DATE, TypeKind.DATETIME):
        return "datetime", ""
    if kind is TypeKind.BOOLEAN:
        return "boolean", ""
    text = values.dropna().astype(str)
    if len(text) == 0:
        return None, "no values"
    if text.nunique() >= NEAR_UNIQUE * len(text):
        return None, "near-unique text"
    return "categorical", ""


def relationships(schema: Schema) -> list[tuple[Table, ForeignKey]]:
    """The FKs SDMetrics' metadata can hold: one column, to the parent's one-column primary key."""
    out = []
    for t in schema.tables:
        for fk in t.foreign_keys:
            if fk.referred == t.key or fk.referred not in schema or len(fk.columns) != 1:
                continue
            pk = schema.table(fk.referred).primary_key
            if pk is not None and tuple(pk.columns) == tuple(fk.referred_columns):
                out.append((t, fk))
    return out


def scored_values(frame: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
    """The scored columns as SDMetrics reads them: numbers and dates (in ns) as floats, categories as text."""
    out = {}
    for col, kind in kinds.items():
        values = frame[col]
        if kind in CONTINUOUS:
            out[col] = as_numbers(values, unit="ns")
        elif kind == "boolean":
            out[col] = values.map(lambda v: None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
                                  else bool(v)).astype(object)
        else:
            out[col] = _canon(values)
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _digitize(x: np.ndarray) -> np.ndarray | None:
    """10 equal-width bins over the column's own range, NaN past the last (numpy's digitize); None
    where numpy cannot make them (a date column of one instant, in nanoseconds)."""
    present = x[~np.isnan(x)]
    try:
        edges = np.histogram_bin_edges(present)
    except ValueError:
        return None
    return np.digitize(x, edges)


def _text(column: pd.Series) -> pd.Series:
    return column.astype(object).where(column.notna(), "\0NULL").astype(str)


def _contingency(real: pd.DataFrame, synth: pd.DataFrame) -> float:
    """1 − the TVD of two columns' joint frequencies, NULL a value of its own; NaN where the real
    columns' association (Cramér's V) is at most REAL_ASSOCIATION."""
    a, b = real.columns[:2]
    ra, rb, sa, sb = _text(real[a]), _text(real[b]), _text(synth[a]), _text(synth[b])
    table = pd.crosstab(ra, rb).to_numpy()
    if table.sum() == 0 or min(table.shape) < 2 or stats.contingency.association(table) <= REAL_ASSOCIATION:
        return float("nan")
    p, q = (ra + "\x1f" + rb).value_counts(normalize=True), (sa + "\x1f" + sb).value_counts(normalize=True)
    return _tv_complement(p, q)


def pair_similarity(real: pd.DataFrame, synth: pd.DataFrame, a: str, b: str, ka: str, kb: str) -> float:
    """One pair's trend score (see the module docstring); NaN where SDMetrics gives none."""
    if ka in CONTINUOUS and kb in CONTINUOUS:
        if real[[a, b]].nunique().eq(1).any() or synth[[a, b]].nunique().eq(1).any():
            return float("nan")
        r, s = real[[a, b]].dropna(), synth[[a, b]].dropna()
        if len(r) < 2 or len(s) < 2 or r.std().eq(0).any() or s.std().eq(0).any():
            return float("nan")
        r_real = np.corrcoef(r[a], r[b])[0, 1]
        if not abs(r_real) > REAL_CORRELATION:
            return float("nan")
        return float(1.0 - abs(r_real - np.corrcoef(s[a], s[b])[0, 1]) / 2.0)
    if (ka in CONTINUOUS) != (kb in CONTINUOUS):
        cut = []
        for frame in (real[[a, b]], synth[[a, b]]):
            binned = {c: _digitize(frame[c].to_numpy(dtype=float)) for c, k in ((a, ka), (b, kb)) if k in CONTINUOUS}
            if any(v is None for v in binned.values()):
                return float("nan")
            cut.append(frame.assign(**binned))
        return _contingency(cut[0], cut[1])
    return _contingency(real[[a, b]], synth[[a, b]])


@dataclass
class FidelityReport:
    column_shapes: dict[str, dict[str, float]] = field(default_factory=dict)
    pair_trends: dict[str, dict[str, float]] = field(default_factory=dict)
    cardinality: dict[str, float] = field(default_factory=dict)
    inter_table: dict[str, dict[str, float]] = field(default_factory=dict)  # per relationship, per pair
    unscored: dict[str, dict[str, str]] = field(default_factory=dict)  # table → column → why
    path_agreement: dict[str, tuple[float, float]] = field(default_factory=dict)  # "a and b": (real, synthetic)
    utility: list[Any] = field(default_factory=list)  # report.utility.Utility per table, when asked for

    @staticmethod
    def _mean(values: list[float]) -> float | None:
        kept = [v for v in values if not np.isnan(v)]
        return float(np.mean(kept)) if kept else None

    def table_scores(self) -> dict[str, dict[str, float | None]]:
        return {t: {"column_shapes": self._mean(list(self.column_shapes.get(t, {}).values())),
                    "pair_trends": self._mean(list(self.pair_trends.get(t, {}).values()))}
                for t in sorted(set(self.column_shapes) | set(self.pair_trends))}

    def overall(self) -> dict[str, float | None]:
        parts = {
            "column_shapes": self._mean([v for cols in self.column_shapes.values() for v in cols.values()]),
            "pair_trends": self._mean([v for cols in self.pair_trends.values() for v in cols.values()]),
            "cardinality": self._mean(list(self.cardinality.values())),
            "inter_table_trends": self._mean([v for pairs in self.inter_table.values() for v in pairs.values()]),
        }
        present = [v for v in parts.values() if v is not None]
        return {"score": self._mean(present), **parts}

    def to_json(self) -> dict[str, Any]:
        def clean(d: Mapping[str, float]) -> dict[str, float | None]:
            return {k: None if np.isnan(v) else v for k, v in d.items()}

        return {"overall": self.overall(), "tables": self.table_scores(),
                "columns": {t: clean(c) for t, c in self.column_shapes.items()},
                "pairs": {t: clean(p) for t, p in self.pair_trends.items()}, "cardinality": clean(self.cardinality),
                "inter_table_trends": {r: clean(p) for r, p in self.inter_table.items()},
                "unscored": self.unscored,
                "path_agreement": {k: {"real": r, "synthetic": s} for k, (r, s) in self.path_agreement.items()},
                "utility": [asdict(u) for u in self.utility]}


def fidelity_report(schema: Schema, real: Mapping[str, pd.DataFrame], synth: Mapping[str, pd.DataFrame]
                    ) -> FidelityReport:
    kinds, unscored = sdtypes(schema, {k: v for k, v in real.items() if k in synth})
    rep = FidelityReport(unscored=unscored)
    r_ready = {t: scored_values(real[t], ks) for t, ks in kinds.items()}
    s_ready = {t: scored_values(synth[t], ks) for t, ks in kinds.items()}
    for t, ks in kinds.items():
        r, s = r_ready[t], s_ready[t]
        rep.column_shapes[t] = {col: ks_similarity(r[col].to_numpy(dtype=float), s[col].to_numpy(dtype=float))
                                if kind in CONTINUOUS else tvd_similarity(r[col], s[col]) for col, kind in ks.items()}
        rep.pair_trends[t] = {f"{a} ~ {b}": pair_similarity(r, s, a, b, ks[a], ks[b])
                              for a, b in itertools.combinations(ks, 2)}
    for child, fk in relationships(schema):
        p = fk.referred
        if child.key not in kinds or p not in kinds:
            continue
        name = fk_id(child.key, fk)
        rep.cardinality[name] = ks_similarity(
            children_per_parent(real[p], real[child.key], fk).astype(float),
            children_per_parent(synth[p], synth[child.key], fk).astype(float))
        jr, js = (_joined(frames[child.key], ready[child.key], ready[p], frames[p], fk)
                  for frames, ready in ((real, r_ready), (synth, s_ready)))
        both = {**{"^" + c: k for c, k in kinds[p].items()}, **kinds[child.key]}
        rep.inter_table[name] = {f"{p}.{pc} ~ {cc}": pair_similarity(jr, js, "^" + pc, cc, both["^" + pc], both[cc])
                                 for pc in kinds[p] for cc in kinds[child.key]}
    rep.path_agreement = path_agreement(schema, real, synth)
    return rep


def _joined(child: pd.DataFrame, child_ready: pd.DataFrame, parent_ready: pd.DataFrame, parent: pd.DataFrame,
            fk: ForeignKey) -> pd.DataFrame:
    """The child rows that have a parent row, with the parent's scored columns as ``^column`` (an
    inner join, as SDMetrics denormalises)."""
    pos = parent_positions(child, parent, fk)
    keep = pos >= 0
    return pd.concat([child_ready[keep].reset_index(drop=True),
                      parent_ready.iloc[pos[keep]].reset_index(drop=True).add_prefix("^")], axis=1)


def path_agreement(schema: Schema, real: Mapping[str, pd.DataFrame], synth: Mapping[str, pd.DataFrame]
                   ) -> dict[str, tuple[float, float]]:
    """For every two FK paths of a table that meet, the share of rows whose paths reach the same
    ancestor row in ``real`` and in ``synth``."""
    index, the_plan, out = fk_index(schema), plan(schema), {}
    for t in schema.tables:
        for fixed, anchor, _ in candidates(schema, the_plan, t, None):
            tables = {t.key} | {index[f][1].referred for f in (*fixed, *anchor)}
            if all(k in real and k in synth for k in tables):
                r, s = (agreeing(frames, index, t.key, fixed, anchor) / max(len(frames[t.key]), 1)
                        for frames in (real, synth))
                out[f"{' → '.join(anchor)} and {' → '.join(fixed)}"] = (r, s)
    return out
