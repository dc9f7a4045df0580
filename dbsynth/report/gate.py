"""A quality gate for CI: ``dbsynth report … --fail-under quality=0.85,pairs=0.8 --max mia_auc=0.6``
fails the run (exit code 5) when a figure crosses its limit, naming every figure that did.

The figures are the report's: the overall ``quality`` and its four properties (``shapes``, ``pairs``,
``cardinality``, ``inter_table``), with ``--ml``/``--target-column`` the lowest ``tstr_ratio`` (TSTR
over TRTR), and with ``--model`` the privacy figures over the private tables: the highest
``mia_auc`` and ``exact_match`` rate, the lowest ``dcr_ratio``. A limit on a figure the run did not
compute (``mia_auc`` without ``--model``) fails too: a gate that silently passes is no gate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dbsynth.errors import DbsynthError, UsageError

if TYPE_CHECKING:
    from dbsynth.report.fidelity import FidelityReport
    from dbsynth.report.privacy import TablePrivacy

__all__ = ["CEILINGS", "FLOORS", "Gate", "GateError", "figures", "parse_limits"]

FLOORS = ("quality", "shapes", "pairs", "cardinality", "inter_table", "tstr_ratio", "dcr_ratio")  # --fail-under
CEILINGS = ("mia_auc", "exact_match")  # --max


class GateError(DbsynthError):
    """A figure crossed its limit (exit code 5)."""


@dataclass(frozen=True)
class Gate:
    floors: Mapping[str, float]
    ceilings: Mapping[str, float]

    def failures(self, found: Mapping[str, float | None]) -> list[str]:
        """``figure value < limit`` (or ``> limit``) for each figure past its limit, or not computed."""
        out = []
        for name, limit in self.floors.items():
            value = found.get(name)
            if value is None or value < limit:
                out.append(f"{name} {_shown(value)} < {limit:g}")
        for name, limit in self.ceilings.items():
            value = found.get(name)
            if value is None or value > limit:
                out.append(f"{name} {_shown(value)} > {limit:g}")
        return out


def _shown(value: float | None) -> str:
    return "not computed" if value is None else f"{value:.3f}"


def parse_limits(spec: str | None, option: str, known: Sequence[str]) -> dict[str, float]:
    """``a=0.8,b=0.6`` → ``{"a": 0.8, "b": 0.6}``; a name outside ``known`` or a bad number is a
    usage error naming the option."""
    out: dict[str, float] = {}
    for item in (spec or "").split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        if name not in known or not sep:
            raise UsageError(f"{option} {item.strip()!r}: expected NAME=NUMBER with NAME one of {', '.join(known)}")
        try:
            out[name] = float(value)
        except ValueError:
            raise UsageError(f"{option} {item.strip()!r}: {value!r} is not a number") from None
    return out


def figures(rep: FidelityReport, privacy: Sequence[TablePrivacy] | None) -> dict[str, float | None]:
    """Every figure a limit can name (None where the run did not compute it)."""
    overall = rep.overall()
    ratios = [u.tstr / u.trtr for u in rep.utility if u.trtr > 0]
    private = list(privacy or [])
    return {
        "quality": overall["score"], "shapes": overall["column_shapes"], "pairs": overall["pair_trends"],
        "cardinality": overall["cardinality"], "inter_table": overall["inter_table_trends"],
        "tstr_ratio": min(ratios) if ratios else None,
        "dcr_ratio": min(p.dcr_ratio for p in private) if private else None,
        "mia_auc": max(p.mia_auc for p in private) if private else None,
        "exact_match": max(p.exact_match_rate for p in private) if private else None,
    }
