"""Differentially private releases used by learning: counts from a table's scalar share, the
threshold for released categories, structure choices and noisy CPTs. (Column domains are released
by :mod:`dbsynth.generators.dp_domain`, next to the discretisers they build.)"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from dbsynth.privacy.budget import TableBudget
from dbsynth.privacy.mechanisms import exponential, gaussian, gaussian_sigma

__all__ = ["ScalarShare", "dp_count", "dp_cpt", "mi_sensitivity", "pick", "threshold", "upper_z"]



def dp_count(n: float, budget: TableBudget, sensitivity: float, label: str, parts: int) -> float:
    """A noisy, non-negative count (a row count, a number of NULLs) from the table's scalar share."""
    rho = budget.part("scalars", parts)
    noisy = gaussian(np.array([float(n)]), sensitivity, rho)[0]
    budget.accountant.spend(budget.table, label, "gaussian", rho, sensitivity=sensitivity,
                            scale=gaussian_sigma(sensitivity, rho))
    return max(float(noisy), 0.0)


def upper_z(target: float) -> float:
    """z with P(N(0, 1) > z) = ``target``: the normal quantile, taken on the lower tail, where a tiny
    ``target`` (a δ of 1e-12) keeps its precision."""
    return max(-NormalDist().inv_cdf(target), 0.0)


def threshold(sens: float, sigma: float, delta_t: float) -> float:
    """τ = 3Δ + σ·z with P(N(0, 1) > z) = δ_t/Δ. A unit holds at most Δ values no other unit holds,
    with at most Δ rows in all; each passes with probability ≤ P(N(0, σ²) > τ − Δ) ≤ δ_t/Δ, so the
    release is (ρ, δ_t)-approximately zCDP. The extra 2Δ keeps any value held by 3Δ rows or fewer
    out of the output whatever the noise (a value of a handful of rows never appears verbatim)."""
    return 3 * sens + sigma * upper_z(delta_t / max(sens, 1.0))


def mi_sensitivity(n: int) -> float:
    """Sensitivity of mutual information to one row (PrivBayes, Zhang et al. 2017, Lemma 4.1)."""
    n = max(n, 3)
    return (2 / n) * math.log((n + 1) / 2) + ((n - 1) / n) * math.log((n + 1) / (n - 1))


def pick(scores: list[float], sensitivity: float, budget: TableBudget, label: str, parts: int) -> int:
    rho = budget.part("structure", parts)
    budget.accountant.spend(budget.table, label, "exponential", rho, sensitivity=sensitivity,
                            scale=math.sqrt(8 * rho))
    return exponential(np.asarray(scores), sensitivity, rho)


def dp_cpt(counts: np.ndarray, sensitivity: float, budget: TableBudget, label: str, parts: int,
           floor: float = 0.0, lowest: float | None = None) -> np.ndarray:
    """Noisy joint counts → a CPT: Gaussian noise, counts under ``floor`` σ set to zero (negatives
    always), rows normalised; a parent configuration left empty falls back to the node's (noisy)
    marginal, so rows stay consistent. A floor that no count clears steps down to ``lowest`` σ
    (post-processing; count nodes pass 2): with nothing left the node was uniform over its domain,
    and Pagila's payments per customer at ε = 1 (σ = 48, bins of 159, 221 and 141 customers under a
    3σ floor of 145) came out at 15.7 a customer for 26.8 in 2 fits of 32. No lower than 2σ: there
    the highest bin is as likely noise as data (Chinook's 59 customers at ε = 1 drew 0 invoices each
    once in 6 fits at 1σ)."""
    rho = budget.part("cpt", parts)
    noisy = gaussian(counts, sensitivity, rho)
    sigma = gaussian_sigma(sensitivity, rho)
    if lowest is not None and floor > lowest and not (noisy >= floor * sigma).any():
        floor = lowest
    noisy[noisy < max(floor * sigma, 0.0)] = 0.0
    budget.accountant.spend(budget.table, label, "gaussian", rho, sensitivity=sensitivity, scale=sigma)
    marginal = noisy.sum(axis=0)
    marginal = marginal / marginal.sum() if marginal.sum() > 0 else np.full(counts.shape[1], 1 / counts.shape[1])
    totals = noisy.sum(axis=1, keepdims=True)
    return np.where(totals > 0, noisy / np.maximum(totals, 1e-12), marginal)


class ScalarShare:
    """Noisy counts from a table's scalar share, split equally between its ``parts`` releases (NULL
    rates, rule tests …); exact when the table releases nothing private. The row count has its own
    share (see dbsynth.learn._row_counts)."""

    def __init__(self, budget: TableBudget | None, sensitivity: float, parts: int) -> None:
        self.budget, self.sensitivity = budget, sensitivity
        self.parts = max(parts, 1)

    @property
    def sigma(self) -> float:
        """The noise standard deviation of one count other than the row count (0 when exact)."""
        if self.budget is None or self.budget.shares["scalars"] == 0:
            return 0.0
        return gaussian_sigma(self.sensitivity or 1.0, self.budget.part("scalars", self.parts))

    def count(self, value: float, label: str, sensitivity: float | None = None) -> float:
        if self.budget is None:
            return float(value)
        return dp_count(float(value), self.budget, sensitivity or self.sensitivity or 1.0, label, self.parts)

    def rate(self, value: float, n: float, label: str) -> float:
        """A noisy share of ``n`` rows; 0 when the noisy count is within 2σ of none. Clipping a count at
        0 alone biases it upwards by ~0.4σ, and where σ swamps the rows that gave every nullable column
        a random NULL rate, and a nullable primary FK up to 95% of rows without a parent (Chinook at ε =
        5 generated 1,020 customers for 59). Post-processing: no budget."""
        noisy = self.count(value, label)
        return 0.0 if noisy < 2 * self.sigma else min(noisy / max(n, 1.0), 1.0)
