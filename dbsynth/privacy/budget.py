"""A table's share of the privacy budget, and the rule that splits it.

Rule (documented in the README): the total ρ is split equally between the tables that release
anything private (private tables, and public tables that count private children). Inside a table:
10% for scalars (its noisy row count, NULL rates of generated columns, children-per-parent means),
20% for column domains (category thresholds, DP quantiles), 20% for the network structure
(exponential mechanism), 50% for the conditional probability tables — each part split equally
between the releases that need it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dbsynth.privacy.accountant import Accountant

__all__ = ["SHARES", "TableBudget"]

SHARES = {"scalars": 0.10, "domain": 0.20, "structure": 0.20, "cpt": 0.50}


@dataclass
class TableBudget:
    """``rho`` for one table; ``node_sensitivity`` is Δ (rows per unit) of each node, 0 for exact."""

    accountant: Accountant
    table: str
    rho: float
    node_sensitivity: dict[str, float]
    rng: np.random.Generator

    def part(self, name: str, parts: int = 1) -> float:
        return self.rho * SHARES[name] / max(parts, 1)

    def private(self, node: str) -> bool:
        return self.node_sensitivity.get(node, 0.0) > 0
