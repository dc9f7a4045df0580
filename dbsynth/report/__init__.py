"""Quality, privacy and validity metrics comparing a real database with a synthetic one.

Imported on first use (PEP 562): scipy.stats, which the metrics need, is 62 MB of a process, and
``dbsynth generate`` (which imports :mod:`dbsynth.report.gate` for its options) needs none of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbsynth.report.fidelity import FidelityReport, fidelity_report

__all__ = ["FidelityReport", "fidelity_report"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from dbsynth.report import fidelity
        return getattr(fidelity, name)
    raise AttributeError(f"module 'dbsynth.report' has no attribute {name!r}")
