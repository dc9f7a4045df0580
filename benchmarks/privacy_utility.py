"""Privacy against utility: the fidelity report's four scores on Pagila and Chinook at
ε ∈ {0.5, 1, 5, ∞} (δ = 1e-6, children per parent capped at 5), in one table, one run.

    python benchmarks/privacy_utility.py [--url postgresql://postgres@127.0.0.1:5432/postgres]

The privacy unit is a customer (what ``dbsynth fit`` proposes for both): private are the customers
and what they did (rentals and payments; invoices and their lines), the rest is reference data.
"""

from __future__ import annotations

import argparse
import math

from _datasets import scratch  # type: ignore[import-not-found]  # benchmarks/ is the script's directory

import dbsynth
from dbsynth.pipeline import report_databases

EPSILONS = [0.5, 1.0, 5.0, math.inf]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    rows = []
    with scratch(args.url) as dbs:
        for name in ("pagila", "chinook"):
            src = dbs.source(name)
            for eps in EPSILONS:
                model = dbsynth.fit(src, epsilon=eps, unit="customer", seed=1)
                tgt = dbs.empty(name)
                dbsynth.write_model(model, tgt, seed=2)
                o = report_databases(src, tgt).overall()
                spent = model.privacy.spent_epsilon if model.privacy and not math.isinf(eps) else math.inf
                rows.append((name, eps, spent, o))
    print(f"{'dataset':8} {'ε':>5} {'spent':>6} {'score':>6} {'shapes':>7} {'pairs':>6} {'cardin.':>8} {'inter':>6}")
    for name, eps, spent, o in rows:
        def f(v: float | None) -> str:
            return "  —  " if v is None else f"{v:.3f}"
        print(f"{name:8} {eps:>5g} {spent:>6.3g} {f(o['score']):>6} {f(o['column_shapes']):>7} "
              f"{f(o['pair_trends']):>6} {f(o['cardinality']):>8} {f(o['inter_table_trends']):>6}")


if __name__ == "__main__":
    main()
