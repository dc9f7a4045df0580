"""dbsynth's fidelity report and SDMetrics' multi-table QualityReport, on the same real/synthetic
pair, give the same four properties (within 0.02): SDMetrics runs in its own virtual environment,
made on first use (``benchmarks/.sdmetrics-venv``; it pins pandas < 3)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

import dbsynth
from dbsynth.report import fidelity_report
from tests.conftest import ROOT, read_frames

sys.path.insert(0, str(ROOT / "benchmarks"))
from _sdmetrics import quality

PROPERTIES = {"Column Shapes": "column_shapes", "Column Pair Trends": "pair_trends",
              "Cardinality": "cardinality", "Intertable Trends": "inter_table_trends"}


@pytest.mark.parametrize("name", ["pagila", "chinook"])
def test_every_property_agrees_with_sdmetrics(name: str, source_databases: dict[str, str], tmp_path: Path) -> None:
    """At ε = ∞ and at ε = 1 (a rougher copy, so agreement is not only at the top of the scale)."""
    real = read_frames(source_databases[name])
    runs = []
    for epsilon in (math.inf, 1.0):
        model = dbsynth.fit(source_databases[name], epsilon=epsilon)
        runs.append((model.schema, dbsynth.sample(model, seed=2)))
    schema = runs[0][0]
    theirs = quality(schema, real, [frames for _, frames in runs], tmp_path)
    for (_, frames), them in zip(runs, theirs, strict=True):
        ours = fidelity_report(schema, real, frames).overall()
        for prop, key in PROPERTIES.items():
            if them["properties"][prop] is None:
                assert ours[key] is None, (prop, ours)
            else:
                assert ours[key] == pytest.approx(them["properties"][prop], abs=0.02), (prop, ours, them)
        assert ours["score"] == pytest.approx(them["quality"], abs=0.02)
