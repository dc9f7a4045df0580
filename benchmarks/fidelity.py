"""Fidelity at ε = ∞, measured as an outsider would: Pagila, Chinook and ``schemas/learned/
natural_keys.sql`` (code-keyed tables, no primary key) fitted with ``--epsilon inf``, generated into
an empty copy of their schema, read back, and scored by SDMetrics 0.32's multi-table
QualityReport (in its own virtual environment, made on first use) next to ``dbsynth report``'s
figures for the same pair. Contact data, near-unique text and keys are unscored for both (see
:func:`dbsynth.report.fidelity.sdtypes`). Also the FK paths that meet (a payment's customer and its
rental's), train-on-synthetic/test-on-real against train-on-real for chosen targets (see
:mod:`dbsynth.report.utility`), the fit time, and the mean of ``--runs`` generations.

    python benchmarks/fidelity.py [--url postgresql://postgres@127.0.0.1:5432/postgres] [--runs 1]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

from _datasets import scratch
from _sdmetrics import quality, read_frames

import dbsynth
from dbsynth.report import fidelity_report
from dbsynth.report.utility import ml_utility

NATURAL_KEYS = Path(__file__).resolve().parents[1] / "schemas" / "learned" / "natural_keys.sql"
TARGETS = {"pagila": ["rental.return_date", "payment.amount"],
           "chinook": ["invoice_line.unit_price", "invoice.billing_country"], "natural_keys": ["school.kind"]}
PROPERTIES = {"Column Shapes": "column_shapes", "Column Pair Trends": "pair_trends",
              "Cardinality": "cardinality", "Intertable Trends": "inter_table_trends"}


def fmt(v: float | None) -> str:
    return "  —  " if v is None else f"{v:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    lines = ["| database | who | quality | column shapes | pair trends | cardinality | inter-table trends |",
             "|---|---|---|---|---|---|---|"]
    notes = []
    with scratch(args.url) as dbs, tempfile.TemporaryDirectory() as tmp:
        for name in ("pagila", "chinook", "natural_keys"):
            src = dbs.database("bench_nk", [NATURAL_KEYS]) if name == "natural_keys" else dbs.source(name)
            _, real = read_frames(src)
            start = time.perf_counter()
            model = dbsynth.fit(src, epsilon=math.inf)
            fit_s = time.perf_counter() - start
            synthetic = []
            for run in range(args.runs):
                # natural_keys.sql makes its own rows: its copy is emptied by the write
                target = dbs.database("bench_nk_target", [NATURAL_KEYS]) if name == "natural_keys" else dbs.empty(name)
                dbsynth.write_model(model, target, seed=run, truncate=name == "natural_keys")
                synthetic.append(read_frames(target, model.schema)[1])
            theirs = quality(model.schema, real, synthetic, Path(tmp) / name)
            ours = [fidelity_report(model.schema, real, s) for s in synthetic]

            def mean(values: list[float | None]) -> float | None:
                kept = [v for v in values if v is not None]
                return sum(kept) / len(kept) if kept else None

            lines.append(f"| {name} | SDMetrics | {fmt(mean([t['quality'] for t in theirs]))} | " + " | ".join(
                fmt(mean([t["properties"][p] for t in theirs])) for p in PROPERTIES) + " |")
            lines.append(f"| {name} | dbsynth report | {fmt(mean([o.overall()['score'] for o in ours]))} | "
                         + " | ".join(fmt(mean([o.overall()[k] for o in ours])) for k in PROPERTIES.values()) + " |")
            notes.append(f"{name}: fit {fit_s:.1f} s at ε = ∞; mean of {args.runs} generation(s)")
            for paths, (r, s) in ours[0].path_agreement.items():
                notes.append(f"  {paths}: real {r:.4f}, synthetic {s:.4f}")
            for u in ml_utility(model.schema, real, synthetic[0], TARGETS[name]):
                ratio = f"{u.tstr / u.trtr:.2f}" if u.trtr > 0 else "—"
                notes.append(f"  {u.table}.{u.target}: TSTR {u.tstr:.3f}, TRTR {u.trtr:.3f} ({u.metric}), "
                             f"ratio {ratio}")
    print("\n".join([*lines, "", *notes]))


if __name__ == "__main__":
    main()
