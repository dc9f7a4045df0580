"""Privacy against utility: the fidelity report's four scores on Pagila and Chinook at
ε ∈ {0.5, 1, 5, ∞} (δ = 1e-6, children per parent capped at 5), in one table, one run; the neural
generator (``--generator neural``) beside the Bayesian network at ε ∈ {5, ∞}, with the pair trends of
the largest table that has at least four numeric columns and the time its network took to train.

    python benchmarks/privacy_utility.py [--url postgresql://postgres@127.0.0.1:5432/postgres] [--no-neural]
                                         [--device cuda]

The privacy unit is a customer (what ``dbsynth fit`` proposes for both): private are the customers
and what they did (rentals and payments; invoices and their lines), the rest is reference data.
"""

from __future__ import annotations

import argparse
import math
import time

import pandas as pd
from _datasets import scratch  # type: ignore[import-not-found]  # benchmarks/ is the script's directory
from _sdmetrics import read_frames  # type: ignore[import-not-found]

import dbsynth
from dbsynth.pipeline import report_databases
from dbsynth.report import fidelity
from dbsynth.schema.model import Schema, TypeKind

EPSILONS = [0.5, 1.0, 5.0, math.inf]
NEURAL_EPSILONS = [5.0, math.inf]
NUMERIC = (TypeKind.INTEGER, TypeKind.FLOAT, TypeKind.DECIMAL)


def all_pairs(schema: Schema, key: str, real: pd.DataFrame, synth: pd.DataFrame) -> float:
    """The pair-trend score of one table over every pair of its scored columns: SDMetrics' rules
    without its thresholds (it scores a pair only where the real data shows |r| > 0.5 or Cramér's V
    > 0.3, and Pagila's films show none)."""
    saved = fidelity.REAL_CORRELATION, fidelity.REAL_ASSOCIATION
    fidelity.REAL_CORRELATION = fidelity.REAL_ASSOCIATION = -1.0
    try:
        score = fidelity.fidelity_report(schema, {key: real}, {key: synth}).table_scores()[key]["pair_trends"]
    finally:
        fidelity.REAL_CORRELATION, fidelity.REAL_ASSOCIATION = saved
    return float("nan") if score is None else score


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--no-neural", action="store_true", help="the Bayesian network only")
    ap.add_argument("--device", default="cpu", help="where the neural generator trains: cpu or cuda")
    args = ap.parse_args()
    rows, notes = [], []
    with scratch(args.url) as dbs:
        for name in ("pagila", "chinook"):
            src = dbs.source(name)
            runs = [(eps, "bayesnet") for eps in EPSILONS]
            if not args.no_neural:
                runs += [(eps, "neural") for eps in NEURAL_EPSILONS]
            for eps, engine in runs:
                seconds: dict[str, float] = {}
                clock = [time.perf_counter()]

                def tick(table: str, _: int, seconds: dict[str, float] = seconds, clock: list[float] = clock) -> None:
                    now = time.perf_counter()
                    seconds[table], clock[0] = now - clock[0], now

                model = dbsynth.fit(src, epsilon=eps, unit="customer", seed=1, engine=engine, progress=tick,
                                    device=args.device)
                tgt = dbs.empty(name)
                dbsynth.write_model(model, tgt, seed=2)
                rep = report_databases(src, tgt)
                spent = model.privacy.spent_epsilon if model.privacy and not math.isinf(eps) else math.inf
                rows.append((name, eps, engine, spent, rep.overall()))
                wide = [k for k in model.plan.order
                        if sum(model.schema.table(k).column(c).type.kind in NUMERIC
                               for c in rep.column_shapes.get(k, {})) >= 4]
                if wide:
                    t = max(wide, key=lambda k: model.tables[k].rows)
                    pairs = rep.table_scores()[t]["pair_trends"]
                    every = all_pairs(model.schema, t, read_frames(src)[1][t], read_frames(tgt)[1][t])
                    notes.append(f"{name} ε={eps:g} {engine}: {t} ({model.tables[t].rows:,} rows) pair trends "
                                 f"{'— (no pair with a real trend)' if pairs is None else f'{pairs:.3f}'}, every "
                                 f"pair {every:.3f}, fitted in {seconds.get(t, 0):.1f} s")
                largest = max(model.plan.order, key=lambda k: model.tables[k].rows)
                notes.append(f"{name} ε={eps:g} {engine}: largest table {largest} fitted in "
                             f"{seconds.get(largest, 0):.1f} s, whole fit {sum(seconds.values()):.1f} s")
    print(f"{'dataset':8} {'ε':>5} {'engine':8} {'spent':>6} {'score':>6} {'shapes':>7} {'pairs':>6} {'cardin.':>8} "
          f"{'inter':>6}")
    for name, eps, engine, spent, o in rows:
        def f(v: float | None) -> str:
            return "  —  " if v is None else f"{v:.3f}"
        print(f"{name:8} {eps:>5g} {engine:8} {spent:>6.3g} {f(o['score']):>6} {f(o['column_shapes']):>7} "
              f"{f(o['pair_trends']):>6} {f(o['cardinality']):>8} {f(o['inter_table_trends']):>6}")
    print("\n".join(["", *notes]))


if __name__ == "__main__":
    main()
