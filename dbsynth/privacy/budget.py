"""A table's share of the privacy budget, and the rule that splits it.

Rule (documented in the README): first 8% of ρ buys the private tables' row counts (half for the
unit table's, see learn._row_counts), and 5% decides the private columns' kinds
(:mod:`dbsynth.privacy.profile`); what is left is split between the tables that release anything
private (private tables, and public tables that count private children) in proportion to their
private nodes (learned columns of a private table, children-per-parent counts with a private side)
times Δ, the rows one person reaches in the table. Inside a table: 10% for scalars (NULL rates,
rule tests), 20% for column domains (category thresholds, noisy grid histograms), 20% for the
network structure (exponential mechanism), 50% for the conditional probability tables —
renormalised over the parts the table uses, each part split equally between the releases that need
it. No share is left unspent by construction: what the kinds do not spend goes to the tables, and
what a column's domain turns out not to need (its values found in half its share) goes to the
table's structure and CPTs, released after every domain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

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
    shares: dict[str, float] = field(default_factory=lambda: dict(SHARES))

    def use(self, parts: Iterable[str]) -> None:
        """Spend the table's ρ on ``parts`` only (renormalising :data:`SHARES` over them)."""
        used = set(parts)
        total = sum(v for k, v in SHARES.items() if k in used)
        self.shares = {k: (v / total if k in used else 0.0) for k, v in SHARES.items()}

    def unspent(self, rho: float) -> None:
        """``rho`` of the domain share that a column's release did not need: it goes to the structure
        and CPT shares (spent after every domain) in proportion to theirs, so that the table spends
        its whole ρ whatever the data decided (Pagila at ε = 5 spent 4.94 when payment.amount's
        values were found in half its domain share). The domain share itself is unchanged: the
        other columns' domains get what was planned. Which path a column took follows from its
        released noisy counts, and the table's total ρ is fixed before any release, so later
        releases' ρ chosen from earlier outputs still compose to it (a Rényi filter at every order,
        ρ·α; Feldman and Zrnic, "Individual privacy accounting via a Rényi filter", 2021)."""
        later = {k: self.shares[k] for k in ("structure", "cpt") if self.shares[k] > 0}
        total = sum(later.values())
        if rho <= 0 or total == 0 or self.rho <= 0:
            return
        for k, v in later.items():
            self.shares[k] += rho / self.rho * v / total

    def part(self, name: str, parts: int = 1) -> float:
        return self.rho * self.shares[name] / max(parts, 1)

    def private(self, node: str) -> bool:
        return self.node_sensitivity.get(node, 0.0) > 0
