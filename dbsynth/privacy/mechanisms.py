"""The noise mechanisms, implemented once: Laplace, Gaussian and exponential.

Each takes the sensitivity of what it releases for one privacy unit, and the budget in the unit the
accountant uses (ρ for zCDP): a pure ε-DP mechanism costs ρ = ε²/2 (Laplace) or ρ = ε²/8 (exponential
mechanism, Cesar & Rogers 2021); a Gaussian with noise σ on an L2-sensitivity Δ costs ρ = Δ²/(2σ²).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["exponential", "gaussian", "gaussian_sigma", "laplace", "laplace_scale"]


def laplace_scale(sensitivity: float, rho: float) -> float:
    """Laplace scale b = Δ₁/ε with ε = √(2ρ)."""
    return sensitivity / math.sqrt(2 * rho)


def laplace(values: np.ndarray, sensitivity: float, rho: float, rng: np.random.Generator) -> np.ndarray:
    return values + rng.laplace(0.0, laplace_scale(sensitivity, rho), size=np.shape(values))


def gaussian_sigma(sensitivity: float, rho: float) -> float:
    """σ = Δ₂/√(2ρ)."""
    return sensitivity / math.sqrt(2 * rho)


def gaussian(values: np.ndarray, sensitivity: float, rho: float, rng: np.random.Generator) -> np.ndarray:
    return values + rng.normal(0.0, gaussian_sigma(sensitivity, rho), size=np.shape(values))


def exponential(scores: np.ndarray, sensitivity: float, rho: float, rng: np.random.Generator) -> int:
    """Index chosen with probability ∝ exp(ε·score / (2Δ)), ε = √(8ρ), via the Gumbel-max trick."""
    eps = math.sqrt(8 * rho)
    logits = eps * np.asarray(scores, dtype=float) / (2 * sensitivity)
    return int(np.argmax(logits + rng.gumbel(size=len(logits))))

