"""Fit and generate speed on Pagila and Chinook: fit seconds, sampling rows/s and write rows/s at
scale 1 and 10, plus raw Bayesian-network sampling speed on a 10-column table — one run, one table.

    python benchmarks/fit_generate.py [--url postgresql://postgres@127.0.0.1:5432/postgres]

Loads both datasets from datasets/ into scratch databases and drops them afterwards.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pandas as pd
from _datasets import scratch  # type: ignore[import-not-found]  # benchmarks/ is the script's directory

from dbsynth.generators.bayesnet import BayesNet
from dbsynth.generators.discretize import fit_discretizer
from dbsynth.learn import fit
from dbsynth.pipeline import write_model


def sampling_speed(n: int = 200_000) -> float:
    rng = np.random.default_rng(0)
    cols = {f"c{i}": pd.Series(rng.integers(0, 50, 20_000) + (i * rng.integers(0, 3, 20_000)))
            for i in range(10)}
    discs = {k: fit_discretizer(v, "int") for k, v in cols.items()}
    codes = {k: discs[k].encode(v) for k, v in cols.items()}
    net = BayesNet.fit(codes, {k: d.cardinality for k, d in discs.items()})
    t0 = time.perf_counter()
    sampled = net.sample(n, rng)
    _ = {k: discs[k].decode(sampled[k], rng) for k in sampled}
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--scales", default="1,10")
    args = ap.parse_args()
    scales = [float(s) for s in args.scales.split(",")]
    lines = []
    with scratch(args.url) as dbs:
        for name in ("pagila", "chinook"):
            src = dbs.source(name)
            t0 = time.perf_counter()
            model = fit(src, epsilon=math.inf)  # the learning benchmark: exact statistics
            fit_s = time.perf_counter() - t0
            lines.append(f"{name}: fit {fit_s:.2f} s ({sum(t.rows for t in model.tables.values()):,} source rows)")
            for engine in ("bayesnet", "marginal"):  # the default privacy (ε = 1), with each DP generator
                t0 = time.perf_counter()
                fit(src, epsilon=1.0, unit="customer", engine=engine)
                lines.append(f"{name}: fit at ε = 1 with --engine {engine} {time.perf_counter() - t0:.2f} s"
                             + (" (the first imports JAX and compiles)" if engine == "marginal" else ""))
            for scale in scales:
                target = dbs.empty(name)
                t0 = time.perf_counter()
                result = write_model(model, target, scale=scale, seed=1)
                total = time.perf_counter() - t0
                rows = sum(result.rows.values())
                lines.append(f"{name} scale {scale:g}: {rows:,} rows; sample {result.generate_seconds:.2f} s "
                             f"({rows / result.generate_seconds:,.0f} rows/s); write {result.write_seconds:.2f} s "
                             f"({rows / result.write_seconds:,.0f} rows/s); generate+write {total:.2f} s")
    lines.append(f"Bayesian-network sampling, 10-column table, 200k rows: {sampling_speed():,.0f} rows/s")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
