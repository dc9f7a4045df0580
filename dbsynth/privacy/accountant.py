"""One zero-concentrated-DP (zCDP) accountant per fit, and its ledger.

zCDP composes by adding ρ, and converts to (ε, δ)-DP by ε = ρ + 2·√(ρ·ln(1/δ)) (Bun & Steinke 2016,
Prop. 1.3). The requested (ε, δ) is turned into a total ρ once; every mechanism draws its share from
the accountant, which refuses to overspend and records what was released, with which mechanism and
at what noise scale, in the ledger that the model file carries.

A category domain is released by thresholding noisy counts of the values present, so a value only
one unit holds may pass the threshold: that release is (ρ, δ_t)-approximately zCDP, and the δ_t add
up beside the conversion's δ (approximate zCDP composes ρ and δ by addition). When a fit plans
``thresholds`` such releases, half of δ converts ρ to ε and the other half is shared equally by them;
the whole δ requested is never exceeded.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from dbsynth.errors import DbsynthError

__all__ = ["ORDERS", "Accountant", "LedgerEntry", "eps_from_rho", "rho_from_eps"]

DEFAULT_EPSILON = 1.0
DEFAULT_DELTA = 1e-6
# the Rényi orders a release with an RDP curve (DP-SGD) is kept at: Opacus' default orders
ORDERS = tuple([1 + x / 10 for x in range(1, 100)] + list(range(12, 64)))


def rho_from_eps(epsilon: float, delta: float) -> float:
    """The largest ρ whose (ε, δ) conversion stays within ``epsilon``."""
    if epsilon <= 0 or not 0 < delta < 1:
        raise DbsynthError(f"need epsilon > 0 and 0 < delta < 1 (got {epsilon}, {delta})")
    if math.isinf(epsilon):
        return math.inf
    log = math.log(1 / delta)
    return (math.sqrt(log + epsilon) - math.sqrt(log)) ** 2


def eps_from_rho(rho: float, delta: float) -> float:
    if math.isinf(rho):
        return math.inf
    return rho + 2 * math.sqrt(rho * math.log(1 / delta))


@dataclass(frozen=True)
class LedgerEntry:
    """One release: what (``table``/``component``), how (``mechanism``, ``scale`` of its noise, the
    per-unit ``sensitivity``) and for how much ρ."""

    table: str
    component: str
    mechanism: str
    rho: float
    sensitivity: float
    scale: float
    delta: float = 0.0  # δ_t of a thresholded release (0 for the others)
    orders: tuple[float, ...] = ()  # a release accounted by its RDP curve (DP-SGD): ε(α) at these orders
    rdp: tuple[float, ...] = ()
    epsilon: float | None = None  # that release's own ε at the conversion δ, as its accountant gives it
    sample_rate: float = 0.0  # DP-SGD: the rate a person is sampled at per step, and the steps taken
    steps: int = 0


@dataclass
class Accountant:
    """``thresholds``: how many thresholded releases the fit plans (see the module docstring)."""

    epsilon: float
    delta: float
    entries: list[LedgerEntry] = field(default_factory=list)
    thresholds: int = 0

    @property
    def conversion_delta(self) -> float:
        """The part of δ that converts ρ to ε."""
        return self.delta / 2 if self.thresholds else self.delta

    @property
    def threshold_delta(self) -> float:
        """δ_t of each planned thresholded release."""
        return self.delta / (2 * self.thresholds) if self.thresholds else 0.0

    @property
    def total_rho(self) -> float:
        return rho_from_eps(self.epsilon, self.conversion_delta)

    @property
    def spent_rho(self) -> float:
        return sum(e.rho for e in self.entries)

    @property
    def conversion_order(self) -> float:
        """The Rényi order at which the whole ρ converts to the fit's ε (Bun & Steinke's optimum)."""
        return 1 + math.sqrt(math.log(1 / self.conversion_delta) / self.total_rho)

    @property
    def spent_epsilon(self) -> float:
        """ε of every release composed: zCDP's conversion, or, with releases kept as RDP curves, the
        best order of ρ·α plus their curves plus ln(1/δ)/(α − 1) (Mironov 2017, Prop. 3)."""
        if not self.entries:
            return 0.0
        curves = [e for e in self.entries if e.rdp]
        if not curves:
            return eps_from_rho(self.spent_rho, self.conversion_delta)
        zcdp = sum(e.rho for e in self.entries if not e.rdp)
        log = math.log(1 / self.conversion_delta)
        orders = sorted(set.intersection(*(set(e.orders) for e in curves)))
        return min(zcdp * a + sum(e.rdp[e.orders.index(a)] for e in curves) + log / (a - 1) for a in orders)

    @property
    def spent_delta(self) -> float:
        return self.conversion_delta + sum(e.delta for e in self.entries) if self.entries else 0.0

    def spend(self, table: str, component: str, mechanism: str, rho: float, *, sensitivity: float,
              scale: float, delta: float = 0.0) -> None:
        if rho <= 0:
            raise DbsynthError(f"internal: non-positive ρ for {table}/{component}")
        if self.spent_rho + rho > self.total_rho * (1 + 1e-9):
            raise DbsynthError(f"privacy budget exhausted at {table}/{component}: spent ρ={self.spent_rho:.4g} "
                               f"of {self.total_rho:.4g}")
        if delta and sum(e.delta for e in self.entries) + delta > (self.delta - self.conversion_delta) * (1 + 1e-9):
            raise DbsynthError(f"internal: δ exhausted at {table}/{component} (more thresholded releases than "
                               f"the {self.thresholds} planned)")
        self.entries.append(LedgerEntry(table, component, mechanism, rho, sensitivity, scale, delta))

    def spend_rdp(self, table: str, component: str, mechanism: str, orders: list[float], rdp: list[float], *,
                  sensitivity: float, scale: float, epsilon: float, sample_rate: float, steps: int) -> None:
        """A release accounted by its RDP curve, ``orders[-1]`` being :attr:`conversion_order`: it takes
        ρ = ε(α)/α at that order from the budget, so the fit's ε is never exceeded there."""
        if not math.isclose(orders[-1], self.conversion_order):
            raise DbsynthError(f"internal: {table}/{component} not kept at the conversion order")
        self.spend(table, component, mechanism, rdp[-1] / orders[-1], sensitivity=sensitivity, scale=scale)
        self.entries[-1] = replace(self.entries[-1], orders=tuple(orders), rdp=tuple(rdp), epsilon=epsilon,
                                   sample_rate=sample_rate, steps=steps)

    def to_json(self) -> dict[str, Any]:
        return {"epsilon": "inf" if math.isinf(self.epsilon) else self.epsilon, "delta": self.delta,
                "thresholds": self.thresholds,
                "total_rho": None if math.isinf(self.total_rho) else self.total_rho,
                "spent_rho": self.spent_rho, "spent_epsilon": self.spent_epsilon, "spent_delta": self.spent_delta,
                "entries": [asdict(e) for e in self.entries]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Accountant:
        eps = math.inf if data["epsilon"] == "inf" else float(data["epsilon"])
        entries = [LedgerEntry(**{**e, "orders": tuple(e.get("orders", ())), "rdp": tuple(e.get("rdp", ()))})
                   for e in data["entries"]]
        return cls(eps, float(data["delta"]), entries, int(data.get("thresholds", 0)))
