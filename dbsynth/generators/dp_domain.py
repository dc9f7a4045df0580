"""Column domains released under differential privacy: the discretiser of a private node, every
data-dependent part of it (categories kept, where numbers and dates lie) released through the table's
budget. Lives beside the discretisers it builds; the mechanisms and the threshold come from
:mod:`dbsynth.privacy`."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from dbsynth.errors import DbsynthError
from dbsynth.generators.discretize import MAX_BINS, Discretizer, _numeric
from dbsynth.generators.values import check_bounds, type_range
from dbsynth.privacy.budget import TableBudget
from dbsynth.privacy.mechanisms import gaussian, gaussian_sigma
from dbsynth.privacy.release import threshold, upper_z
from dbsynth.rules.domains import ColumnDomain
from dbsynth.schema.model import Table, TypeKind

__all__ = ["COUNT_EDGES", "dp_discretizer", "schema_bounds"]

# children-per-parent bins: a count decodes uniformly inside its bin, so a wide one biases the mean
# (Pagila's 27 payments a customer, 20-30 and 30-50 bins: 29.2 with no noise at all; these: 26.8,
# and at σ = 48, 10 % off in one fit of ten, against four in ten)
COUNT_EDGES = (0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 35, 40, 50, 75, 100, 150, 200, 300, 500, 1000, 1001)
DP_BINS = 8
SPIKY = 0.7  # a number or date column whose released values hold this share of its rows keeps them as values
# (0.8 with a noisy count of 599 ± 77 against 0.8 × a noisy 599 ± 27 missed a constant date one fit in 15)


MYSQL_TIMESTAMP = (1.0, 2**31 - 1.0)  # 1970-01-01 00:00:01 to 2038-01-19 03:14:07 UTC, in seconds


def schema_bounds(table: Table, dialect: str, domains: Mapping[str, ColumnDomain]
                  ) -> dict[str, tuple[float, float, float]]:
    """Per number or date column, the lowest and highest value its type and its CHECKs allow, and the
    step, in the discretisers' units (seconds since 1970 for dates): what the schema already says,
    so a release under DP never spends on, nor produces, a value outside it (a MySQL ``timestamp``
    holds 1970–2038; a noise-born bin in 1907 failed the write)."""
    out = {}
    for col in table.columns:
        t = col.type
        if t.kind in (TypeKind.INTEGER, TypeKind.DECIMAL, TypeKind.FLOAT):
            lo, hi, step = type_range(t)
        elif t.kind in (TypeKind.DATE, TypeKind.DATETIME):
            mysql = dialect in ("mysql", "mariadb") and t.name == "timestamp"
            lo, hi = MYSQL_TIMESTAMP if mysql else (-np.inf, np.inf)
            step = 86400.0 if t.kind is TypeKind.DATE else 1.0
        else:
            continue
        d_lo, d_hi = check_bounds(domains.get(col.name, ColumnDomain()), t.kind, step)
        if d_lo is not None:
            lo = max(lo, d_lo)
        if d_hi is not None:
            hi = min(hi, d_hi)
        if lo <= hi and (np.isfinite(lo) or np.isfinite(hi)):
            out[col.name] = (lo, hi, step)
    return out


def _floor(cells: int, false_cells: float = 0.05) -> float:
    """z with P(N(0, 1) > z) = false_cells / cells."""
    return upper_z(false_cells / cells)


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
                   budget: TableBudget, parts: int, bounds: tuple[float, float, float] | None = None,
                   rows: float | None = None) -> Discretizer:
    """A discretiser whose every data-dependent part is released under DP.

    - Public domains (enum labels, booleans) need no budget; children-per-parent counts use fixed
      bins up to their public bound (``count:<bound>``).
    - Categories: a noisy count per value; only values clearing :func:`threshold` are released, so a
      value held by a handful of rows never appears; each such release spends a δ_t beside its ρ.
    - Numbers and datetimes: a noisy histogram over a whole data-independent grid finds where the
      values lie; for decimals a second one, over ~50 finer cells inside each kept cell (down to a
      cent), finds their spacing — a price column keeps 0.99 and 2.99 instead of spreading values
      over [0.7, 1) and [2, 3). Never the exact min or max. Cells are kept above a floor σ·z with z
      such that an empty histogram expects ≤ 0.05 cells above it (z ≈ 3.9 for the 800 quarters of
      the date grid): with a plain 3σ one empty cell in the 800 passed about once a fit, and a small
      table's dates came out in 1957.
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
    present = series.dropna()
    if unit is None:
        kept, _ = _thresholded(present, sens, rho, budget, node, f"domain {node}")
        return Discretizer("values", values=tuple(kept) or (None,), has_null=True)
    dates = unit.startswith("datetime") or unit == "date"
    if rows and (unit == "int" or unit.startswith("decimal:") or dates):
        # few values hold the rows (a rental duration of 3 to 7 days, prices at 0.99, 2.99, 4.99, a
        # last_update stamped once for every row): released as values, like categories, they come
        # back exact, where the grid's bins spread them (Pagila's film at ε = 1: column shapes 0.61;
        # a constant date spread over its quarter, 0.49); half the domain share, the grid the rest
        values = pd.Series(_numeric(present, unit)) if dates else present
        kept, held = _thresholded(values, sens, rho / 2, budget, node, f"domain {node} (values)")
        if kept and held >= SPIKY * rows:
            budget.unspent(rho / 2)  # the grid's half
            if dates:
                return _points(sorted(float(v) for v in kept), unit)
            cast = int if unit == "int" else float
            return Discretizer("values", values=tuple(sorted(cast(v) for v in kept)), has_null=True)
        rho /= 2
    grid = _grid(unit) if bounds is None else _bounded_grid(_grid(unit), bounds)
    x = _numeric(present, unit)
    # the public grid finds where the values lie. A decimal column's values repeat at its scale's
    # precision (prices at 0.99, 2.99): a second histogram over ~50 finer cells inside each kept cell
    # finds them, a value's whole count in one cent-wide cell; it gets 1/4 of the column's ρ. Dates
    # and other numbers spread over the fine cells, where splitting ρ cost more than the finer
    # shape gained (Pagila at ε = 1: column shapes 0.81 refined against 0.86 not).
    refine = unit.startswith("decimal:")
    coarse, coarse_mass = _noisy_cells(x, grid, sens, rho * 3 / 4 if refine else rho, budget, f"domain {node}")
    if len(coarse) == 0:
        if refine:
            budget.unspent(rho / 4)  # the refinement's quarter
        return Discretizer("values", values=(None,), has_null=True)
    if not refine:
        return _binned(grid, coarse, coarse_mass, unit)
    fine = np.unique(np.concatenate([_subdivide(grid[i], grid[i + 1], unit) for i in coarse]))
    cells, mass = _noisy_cells(x, fine, sens, rho / 4, budget, f"domain {node} (refined)",
                               within=_inside(fine, grid, coarse))
    if len(cells) == 0:  # too little signal at the finer level: bins from the coarse cells
        return _binned(grid, coarse, coarse_mass, unit)
    return _binned(fine, cells, mass, unit)


def _points(stamps: list[float], unit: str) -> Discretizer:
    """Bins that each decode to one released instant (a span of width 0): dates kept as values
    while the model file stores numbers, as it does for every date bin."""
    edges = [stamps[0], *((a + b) / 2 for a, b in itertools.pairwise(stamps)), stamps[-1] + 1.0]
    return Discretizer("bins", edges=tuple(edges), unit=unit, has_null=True, spans=tuple((t, t) for t in stamps))


def _thresholded(present: pd.Series, sens: float, rho: float, budget: TableBudget, node: str, label: str
                 ) -> tuple[list[Any], float]:
    """The values whose noisy count clears :func:`threshold` (a δ_t release), and their noisy rows."""
    sigma = gaussian_sigma(sens, rho)
    delta_t = budget.accountant.threshold_delta
    if delta_t <= 0:
        raise DbsynthError(f"internal: thresholded release of {budget.table}.{node} was not planned")
    tau = threshold(sens, sigma, delta_t)
    counts = present.astype(object).map(lambda v: v.item() if isinstance(v, np.generic) else v).value_counts()
    noisy = gaussian(counts.to_numpy(dtype=float), sens, rho)
    budget.accountant.spend(budget.table, label, "gaussian, thresholded", rho, sensitivity=sens, scale=sigma,
                            delta=delta_t)
    kept = [(v, c) for v, c in zip(counts.index, noisy, strict=True) if c > tau]
    return sorted((v for v, _ in kept), key=lambda v: (str(type(v)), v)), float(sum(c for _, c in kept))


def _bounded_grid(grid: np.ndarray, bounds: tuple[float, float, float]) -> np.ndarray:
    """The grid cut to what the schema allows, ``[low, high + step)``: the cells outside are dropped
    and the two that straddle a bound end at it, so no cell a value cannot take is released (a
    smallint's noise-born cell at -10⁸ and a MySQL timestamp's in 1907 failed writes) and a value at
    a bound keeps its cell (CHECK (rating BETWEEN 1 AND 5) keeps its 5s). A range inside one grid
    cell is one cell."""
    low, high, step = bounds
    top = high + step
    inner = grid[(grid > low) & (grid < top)]
    return np.concatenate([[low] if np.isfinite(low) else grid[grid <= low][-1:], inner,
                           [top] if np.isfinite(top) else grid[grid >= top][:1]])


def _inside(fine: np.ndarray, grid: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """Which fine cells ``[fine[j], fine[j+1])`` lie inside one of the kept coarse cells."""
    cell = np.searchsorted(grid, (fine[:-1] + fine[1:]) / 2, side="right") - 1
    return np.isin(cell, coarse)


def _noisy_cells(x: np.ndarray, edges: np.ndarray, sens: float, rho: float, budget: TableBudget, label: str,
                 within: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The cells ``[edges[j], edges[j+1])`` whose noisy count clears the floor, and those counts.
    Every cell (``within`` the mask, if given) gets noise, empty ones too, so no stability argument
    is needed; the floor keeps all empty cells out with probability ≥ 95%."""
    sigma = gaussian_sigma(sens, rho)
    cells = np.bincount(np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2),
                        minlength=len(edges) - 1).astype(float)
    inside = np.ones(len(cells), dtype=bool) if within is None else within
    noisy = gaussian(cells, sens, rho)
    budget.accountant.spend(budget.table, label, "gaussian histogram", rho, sensitivity=sens, scale=sigma)
    kept = np.flatnonzero(inside & (noisy > sigma * _floor(int(inside.sum()))))
    return kept, noisy[kept]


def _subdivide(lo: float, hi: float, unit: str) -> np.ndarray:
    """About 50 cells across ``[lo, hi)`` at a round step no finer than the unit's resolution (a
    cent for ``decimal:2``, 1 for integers, a day for dates)."""
    if unit.startswith("datetime") or unit == "date":
        finest = 86400.0
    elif unit == "int":
        finest = 1.0
    elif unit.startswith("decimal:"):
        finest = 10.0 ** -int(unit.split(":")[1])
    else:
        finest = 0.0
    raw = (hi - lo) / 50
    step = 10.0 ** math.floor(math.log10(raw))
    step = next(step * m for m in (1, 2, 5, 10) if step * m >= raw)
    step = max(step, finest)
    # multiples of the step, rounded: 0.7 + 29 × 0.01 must be the float 0.99, or a price of 0.99
    # lands in the cell below
    return np.append(np.round(lo + step * np.arange(math.ceil((hi - lo) / step - 1e-9)), 9), hi)


def _binned(edges: np.ndarray, kept: np.ndarray, mass: np.ndarray, unit: str) -> Discretizer:
    """Bins from the kept cells. Runs of adjacent cells are the places values lie: several runs
    (prices at 0.99, 2.99 …) each become a bin — the closest merged while more than ``MAX_BINS`` —
    and a few long runs (dates over a season) are cut at their noisy mass quantiles into about
    ``DP_BINS`` bins. A bin decodes inside its span, never in the gaps between runs. Up to
    ``MAX_BINS`` cells of a number or date grid each keep their own bin: every kept cell cleared the
    noise floor, and a grid cell (1-1.5-2-3-5-7) decodes over a span in proportion to its values,
    where a merged tail bin of a track's milliseconds (500,000 to 7,000,000) spread its few long
    tracks evenly over it."""
    runs: list[list[int]] = []
    for j in kept:
        if runs and runs[-1][-1] == j - 1:
            runs[-1].append(int(j))
        else:
            runs.append([int(j)])
    weight = dict(zip(kept.tolist(), np.clip(mass, 1e-9, None).tolist(), strict=True))
    if len(runs) < DP_BINS and len(kept) <= MAX_BINS and not unit.startswith("decimal:"):
        runs = [[int(j)] for j in kept]  # few cells: each its own bin
    if len(runs) >= DP_BINS or len(runs) == len(kept):
        while len(runs) > MAX_BINS:
            gaps = [edges[b[0]] - edges[a[-1] + 1] for a, b in itertools.pairwise(runs)]
            i = int(np.argmin(gaps))
            runs[i:i + 2] = [runs[i] + runs[i + 1]]
        pieces = runs
    else:
        total = sum(weight.values())
        pieces = []
        for run in runs:
            share = sum(weight[j] for j in run) / total
            n = max(1, min(len(run), round(share * DP_BINS)))
            cum = np.cumsum([weight[j] for j in run]) / sum(weight[j] for j in run)
            cuts = np.unique(np.searchsorted(cum, np.linspace(0, 1, n + 1)[1:-1]) + 1)
            pieces += [list(p) for p in np.split(np.asarray(run), cuts[(cuts > 0) & (cuts < len(run))]) if len(p)]
    spans = [(float(edges[p[0]]), float(edges[p[-1] + 1])) for p in pieces]
    bounds = [spans[0][0], *[(a[1] + b[0]) / 2 for a, b in itertools.pairwise(spans)], spans[-1][1]]
    return Discretizer("bins", edges=tuple(bounds), unit=unit, has_null=True, spans=tuple(spans))
