"""What the rule checkers cost: on Pagila and Chinook at scale 1, fitted with default settings (DP
on, so children per parent are capped and the output is smaller) and with ε = ∞ (source-sized
output), the seconds spent checking and repairing (every CHECK, UNIQUE/PK, NOT NULL, learned
and user rule, vectorised) against the whole generation time, in one run; then per rule the rows
checked, rejected, resampled and repaired.

    python benchmarks/enforcement_cost.py [--url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import math
import time

from _datasets import scratch  # type: ignore[import-not-found]  # benchmarks/ is the script's directory

import dbsynth


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    summary, detail = [], []
    with scratch(args.url) as dbs:
        for name in ("pagila", "chinook"):
            src = dbs.source(name)
            for eps in (None, math.inf):
                model = dbsynth.fit(src, seed=1) if eps is None else dbsynth.fit(src, seed=1, epsilon=eps)
                label = f"{name} ({'default ε' if eps is None else 'ε = ∞'})"
                t0 = time.perf_counter()
                synthesis = dbsynth.synthesize(model, scale=1.0, seed=2)
                total = time.perf_counter() - t0
                rules = sum(r.seconds for r in synthesis.reports.values())
                rows = sum(len(f) for f in synthesis.frames.values())
                summary.append(f"{label} scale 1: {rows:,} rows generated in {total:.2f} s; enforcement {rules:.3f} s "
                               f"= {rules / total:.1%} of generation")
                for table, report in synthesis.reports.items():
                    for r in report.rows():
                        if r["rejected"] or r["repaired"]:
                            detail.append(f"  {label:<20} {table:<22} {r['rule']:<60.60} {r['checked']:>8,} "
                                          f"{r['rejected']:>8,} {r['resampled']:>8,} {r['repaired']:>8,}")
    print("\n".join(summary))
    print(f"  {'run':<20} {'table':<22} {'rule (rules that never failed not shown)':<60} {'checked':>8} "
          f"{'rejected':>8} {'resampl.':>8} {'repaired':>8}")
    print("\n".join(detail))


if __name__ == "__main__":
    main()
