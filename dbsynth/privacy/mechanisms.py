"""The noise mechanisms, implemented once, on OpenDP's samplers: the discrete Gaussian for counts and
Gumbel noisy-max for the exponential mechanism.

Each takes the sensitivity of what it releases for one privacy unit and the budget in the unit the
accountant uses (ρ of zCDP): a Gaussian with noise σ on an L2-sensitivity Δ costs ρ = Δ²/(2σ²) — the
discrete Gaussian on integer counts as the continuous one does (Canonne, Kamath & Steinke 2020) —
and the exponential mechanism at ε costs ρ = ε²/8 (Cesar & Rogers 2021).

Why OpenDP and not numpy's generator: the noise has to be secret and exact. A numpy generator seeded
from ``--seed`` (which the model file records) lets anyone who holds the model file draw the same
noise again and subtract it, and floating-point Gaussian samplers leak low-order bits of the value
they perturb (Mironov 2012). OpenDP draws from the operating system's cryptographic generator with
exact arithmetic. The price is that a fit under DP is no longer reproducible from ``--seed``; the
seed still decides everything that is not noise (which children capping keeps, the holdout split).
Speed: about 10 µs per noisy count (a fit of Pagila releases a few tens of thousands).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["exponential", "gaussian", "gaussian_sigma"]


def gaussian_sigma(sensitivity: float, rho: float) -> float:
    """σ = Δ₂/√(2ρ)."""
    return sensitivity / math.sqrt(2 * rho)


def _opendp() -> Any:
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


def gaussian(counts: np.ndarray, sensitivity: float, rho: float) -> np.ndarray:
    """``counts`` (whole numbers) plus discrete Gaussian noise of σ = Δ/√(2ρ), as floats."""
    dp = _opendp()
    values = np.rint(np.asarray(counts, dtype=float)).astype(np.int64)
    if values.size == 0:
        return values.astype(float)
    measurement = dp.m.make_gaussian(dp.vector_domain(dp.atom_domain(T="i64")), dp.l2_distance(T="i64"),
                                     scale=gaussian_sigma(sensitivity, rho))
    return np.asarray(measurement(values.ravel().tolist()), dtype=float).reshape(values.shape)


def exponential(scores: np.ndarray, sensitivity: float, rho: float) -> int:
    """Index chosen with probability ∝ exp(ε·score / (2Δ)), ε = √(8ρ): Gumbel noise of scale 2Δ/ε on
    every score, the largest reported."""
    dp = _opendp()
    eps = math.sqrt(8 * rho)
    measurement = dp.m.make_noisy_max(dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.linf_distance(T=float),
                                      dp.zero_concentrated_divergence(), scale=2 * sensitivity / eps)
    return int(measurement([float(s) for s in np.asarray(scores, dtype=float)]))
