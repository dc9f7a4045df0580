"""Quality, privacy and validity metrics comparing a real database with a synthetic one."""

from dbsynth.report.fidelity import FidelityReport, fidelity_report

__all__ = ["FidelityReport", "fidelity_report"]
