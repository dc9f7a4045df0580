"""Differentially private releases used by learning: row counts, column domains (thresholded
categories, DP-quantile bins, fixed count bins), structure choices and noisy CPTs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dbsynth.generators.discretize import Discretizer, _numeric
from dbsynth.privacy.budget import TableBudget
from dbsynth.privacy.mechanisms import exponential, gaussian, gaussian_sigma

__all__ = ["COUNT_EDGES", "dp_count", "dp_cpt", "dp_discretizer", "mi_sensitivity", "pick"]

COUNT_EDGES = (0, 1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000, 1001)
DP_BINS = 8


def dp_count(n: float, budget: TableBudget, sensitivity: float, label: str, parts: int) -> float:
    """A noisy, non-negative count (a row count, a number of NULLs) from the table's scalar share."""
    rho = budget.part("scalars", parts)
    noisy = gaussian(np.array([float(n)]), sensitivity, rho, budget.rng)[0]
    budget.accountant.spend(budget.table, label, "gaussian", rho, sensitivity=sensitivity,
                            scale=gaussian_sigma(sensitivity, rho))
    return max(float(noisy), 0.0)


def _floor(cells: int, false_cells: float = 0.05) -> float:
    """z with P(N(0, 1) > z) = false_cells / cells (bisection on erfc; no scipy needed)."""
    target, lo, hi = false_cells / cells, 0.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if 0.5 * math.erfc(mid / math.sqrt(2)) > target else (lo, mid)
    return (lo + hi) / 2


def _grid(unit: str) -> np.ndarray:
    """Data-independent bin boundaries: quarters 1900–2100 for dates, a signed 1-1.5-2-3-5-7 series
    for numbers."""
    if unit.startswith("datetime") or unit == "date":
        quarters = pd.date_range("1900-01-01", "2100-01-01", freq="QS")
        return quarters.to_numpy(dtype="datetime64[s]").astype("int64").astype(float)
    steps = np.array([1, 1.5, 2, 3, 5, 7])
    pos = np.concatenate([steps * 10.0**k for k in range(-3, 13)])
    return np.unique(np.concatenate([-pos, [0.0], pos]))


def dp_discretizer(series: pd.Series, unit: str | None, *, labels: tuple[object, ...] | None, node: str,
                   budget: TableBudget, parts: int) -> Discretizer:
    """A discretiser whose every data-dependent part is released under DP.

    - Public domains (enum labels, booleans) need no budget; children-per-parent counts use fixed
      bins up to their public bound (``count:<bound>``).
    - Categories: a noisy count per value; only values clearing 3Δ + σ·√(2·ln(1/δ)) are released,
      so a value held by a handful of rows never appears.
    - Numbers and datetimes: a noisy histogram over a whole data-independent grid; the cells above
      the noise floor, merged by the noisy counts' quantiles, become the bins — never the exact min
      or max. The floor is σ·z with z such that an empty grid expects ≤ 0.05 cells above it (z ≈ 3.9
      for the 800 quarters of the date grid): with a plain 3σ one empty cell in the 800 passed about
      once a fit, and a small table's dates came out in 1957.
    A column with nothing above the threshold gets an empty domain and is generated schema-only.
    """
    if unit is not None and unit.startswith("count:"):
        bound = int(unit.split(":")[1])
        edges = [float(e) for e in COUNT_EDGES if e <= bound] + [bound + 1.0]
        return Discretizer("bins", edges=tuple(dict.fromkeys(edges)), unit="int", has_null=True)
    if labels is not None:
        return Discretizer("values", values=tuple(labels), has_null=True)
    sens = budget.node_sensitivity[node]
    rho = budget.part("domain", parts)
    sigma = gaussian_sigma(sens, rho)
    tau = 3 * sens + sigma * math.sqrt(2 * math.log(1 / budget.accountant.delta))
    present = series.dropna()
    if unit is None:
        counts = present.astype(object).map(lambda v: v.item() if isinstance(v, np.generic) else v).value_counts()
        noisy = gaussian(counts.to_numpy(dtype=float), sens, rho, budget.rng)
        budget.accountant.spend(budget.table, f"domain {node}", "gaussian, thresholded", rho, sensitivity=sens,
                                scale=sigma)
        kept = sorted((v for v, c in zip(counts.index, noisy, strict=True) if c > tau), key=lambda v: (str(type(v)), v))
        return Discretizer("values", values=tuple(kept) or (None,), has_null=True)
    grid = _grid(unit)
    x = _numeric(present, unit)
    cells = np.bincount(np.clip(np.searchsorted(grid, x, side="right") - 1, 0, len(grid) - 2),
                        minlength=len(grid) - 1).astype(float)
    # every cell of the public grid gets noise (empty ones too), so no stability argument is needed;
    # keeping cells above the floor is post-processing that cuts the noise
    noisy = gaussian(cells, sens, rho, budget.rng)
    budget.accountant.spend(budget.table, f"domain {node}", "gaussian histogram", rho, sensitivity=sens,
                            scale=sigma)
    keep = np.flatnonzero(noisy > sigma * _floor(len(cells)))
    if len(keep) == 0:
        return Discretizer("values", values=(None,), has_null=True)
    weights = np.clip(noisy[keep], 0, None)
    cum = np.cumsum(weights) / weights.sum()
    cuts = np.unique(np.searchsorted(cum, np.linspace(0, 1, DP_BINS + 1)[1:-1]))
    groups = np.split(keep, cuts[(cuts > 0) & (cuts < len(keep))])
    edges = [grid[g[0]] for g in groups] + [grid[keep[-1] + 1]]
    return Discretizer("bins", edges=tuple(float(e) for e in edges), unit=unit, has_null=True)


def mi_sensitivity(n: int) -> float:
    """Sensitivity of mutual information to one row (PrivBayes, Zhang et al. 2017, Lemma 4.1)."""
    n = max(n, 3)
    return (2 / n) * math.log((n + 1) / 2) + ((n - 1) / n) * math.log((n + 1) / (n - 1))


def pick(scores: list[float], sensitivity: float, budget: TableBudget, label: str, parts: int) -> int:
    rho = budget.part("structure", parts)
    budget.accountant.spend(budget.table, label, "exponential", rho, sensitivity=sensitivity,
                            scale=math.sqrt(8 * rho))
    return exponential(np.asarray(scores), sensitivity, rho, budget.rng)


def dp_cpt(counts: np.ndarray, sensitivity: float, budget: TableBudget, label: str, parts: int) -> np.ndarray:
    """Noisy joint counts → a CPT: Gaussian noise, negatives clipped, rows normalised; a parent
    configuration left empty falls back to the node's (noisy) marginal, so rows stay consistent."""
    rho = budget.part("cpt", parts)
    noisy = np.clip(gaussian(counts, sensitivity, rho, budget.rng), 0, None)
    budget.accountant.spend(budget.table, label, "gaussian", rho, sensitivity=sensitivity,
                            scale=gaussian_sigma(sensitivity, rho))
    marginal = noisy.sum(axis=0)
    marginal = marginal / marginal.sum() if marginal.sum() > 0 else np.full(counts.shape[1], 1 / counts.shape[1])
    totals = noisy.sum(axis=1, keepdims=True)
    return np.where(totals > 0, noisy / np.maximum(totals, 1e-12), marginal)
