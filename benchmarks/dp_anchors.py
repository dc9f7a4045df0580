"""Differentially private utility against the anchors: smartnoise-synth's MST (the NIST challenge
winner) and AIM, and dbsynth, on the same single tables at the same ε, all scored by SDMetrics'
single-table QualityReport (column shapes, column pair trends), the mean of ``--runs`` fits each,
in one table, one run.

Tables: Pagila's ``film`` (release_year, language_id, rental_duration, rental_rate, length,
replacement_cost, rating; 1,000 rows) and Chinook's ``track`` (media_type_id, genre_id, milliseconds,
bytes, unit_price; 3,503 rows), each copied into a one-table schema so every system sees the same
columns and nothing else; each row is a person (dbsynth: ``--unit`` the table). SDMetrics 0.32
scores a column pair only where the real data shows an association above its threshold; the film
columns are independent (Pagila's are generated), so their pair trends are undefined ("—").

The anchors pin old libraries (mbi < 2, opacus 0.14), so they and SDMetrics run in a virtual
environment this script makes (``benchmarks/.anchors-venv``; the CPU build of torch first), never
in dbsynth's. MST and AIM get 10% of ε to find the continuous columns' bounds (their
``preprocessor_eps``), the rest for the model; dbsynth reads the bounds from the schema.

SDMetrics 0.32's pair trends bin a number column into ten equal-width bins over each dataset's own
range (``ColumnPairTrends._get_processed_data`` runs ``np.histogram_bin_edges`` on the real and on
the synthetic rows apart), so a synthetic column whose largest value is not the real one's is
compared bin index against bin index over different spans: a track of 5.3 M ms is one outlier that
DP does not reproduce, and every pair with ``milliseconds`` loses ~0.2 (0.76 in the report, 0.97 by
``ContingencySimilarity`` with the real bins).

    python benchmarks/dp_anchors.py [--url postgresql://postgres@127.0.0.1:5432/postgres]
                                    [--epsilons 0.5 1 5] [--runs 3] [--systems dbsynth mst aim]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
import psycopg
from _anchors import CANON, anchors_python
from _datasets import scratch

import dbsynth

SYSTEMS = {  # dbsynth's systems: the copy each fits, and its generator under DP
    "dbsynth": ("single", "bayesnet"), "dbsynth listed": ("listed", "bayesnet"),
    "marginal listed": ("listed", "marginal")}
SCHEMAS = ("single", "listed")
TABLES = {  # table: (dataset, categorical columns, continuous columns)
    "film": ("pagila", ["release_year", "language_id", "rental_duration", "rental_rate", "replacement_cost",
                        "rating"], ["length"]),
    "track": ("chinook", ["media_type_id", "genre_id", "unit_price"], ["milliseconds", "bytes"]),
}

INNER = r'''
import json, sys, time, warnings
from pathlib import Path
import pandas as pd
warnings.filterwarnings("ignore")
from sdmetrics.reports.single_table import QualityReport
from snsynth import Synthesizer

''' + CANON + r'''


job = json.loads(Path(sys.argv[1]).read_text())
real = pd.read_csv(job["real"])
cat, cont = job["categorical"], job["continuous"]
for c in cat:
    real[c] = canon(real[c])
metadata = {"columns": {**{c: {"sdtype": "categorical"} for c in cat}, **{c: {"sdtype": "numerical"} for c in cont}}}
out = []
for run in job["runs"]:
    start = time.perf_counter()
    if run["system"] in ("mst", "aim"):
        synth = Synthesizer.create(run["system"], epsilon=run["epsilon"] * 0.9)
        synth.fit(real, categorical_columns=cat, continuous_columns=cont, preprocessor_eps=run["epsilon"] * 0.1)
        fake = synth.sample(len(real))
    else:
        fake = pd.read_csv(run["csv"])
    seconds = run["seconds"] if "csv" in run else time.perf_counter() - start
    for c in cat:
        fake[c] = canon(fake[c])
    for c in cont:
        fake[c] = pd.to_numeric(fake[c], errors="coerce")
    report = QualityReport()
    report.generate(real[cat + cont], fake[cat + cont], metadata, verbose=False)
    # the mean over the pairs SDMetrics could score (a constant column, such as film.release_year, has
    # no correlation to score: its pairs are NaN and would make the property NaN)
    shapes = report.get_details("Column Shapes")["Score"].mean()
    pairs = report.get_details("Column Pair Trends")["Score"].mean()
    out.append({**run, "shapes": float(shapes), "pairs": float(pairs), "seconds": seconds})
print(json.dumps(out))
'''


def single_table(url: str, table: str, categorical: list[str], continuous: list[str]) -> None:
    """``single.<table>``: the columns alone, no keys, next to the dataset's own tables; and
    ``listed.<table>``, the same with each categorical column's values listed in a CHECK (col IN …):
    what smartnoise-synth is told for free. Its categorical columns' domains are read from the data
    without noise (``snsynth.transform.LabelTransformer`` keeps every distinct value, one person's
    too); dbsynth spends budget to find them and never keeps a value held by a few rows, unless the
    schema lists it. The ``… listed`` columns are dbsynth given the same knowledge, in its schema, with
    the Bayesian network and with the marginal engine (``--engine marginal``)."""
    with psycopg.connect(url, autocommit=True) as conn:
        for schema in SCHEMAS:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            conn.execute(f"CREATE TABLE {schema}.{table} AS SELECT {', '.join(categorical + continuous)} "
                         f"FROM public.{table}")
        for col in categorical:
            kind = conn.execute("SELECT data_type FROM information_schema.columns WHERE table_schema = 'listed' "
                                "AND table_name = %s AND column_name = %s", (table, col)).fetchone()
            text = kind is not None and kind[0] in ("text", "character varying", "character", "USER-DEFINED")
            values = [r[0] for r in conn.execute(f"SELECT DISTINCT {col}::text FROM listed.{table} "
                                                 f"WHERE {col} IS NOT NULL ORDER BY 1")]
            listed = ", ".join("'" + v.replace("'", "''") + "'" if text else v for v in values)
            conn.execute(f"ALTER TABLE listed.{table} ADD CHECK ({col}{'::text' if text else ''} IN ({listed}))")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--epsilons", type=float, nargs="+", default=[0.5, 1.0, 5.0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--systems", nargs="+", default=[*SYSTEMS, "mst", "aim"])
    args = ap.parse_args()
    python = anchors_python()
    results = []
    with scratch(args.url) as dbs, tempfile.TemporaryDirectory() as tmp:
        for table, (dataset, cat, cont) in TABLES.items():
            src = dbs.source(dataset)
            single_table(src, table, cat, cont)
            with psycopg.connect(src) as conn:
                rows = conn.execute(f"SELECT {', '.join(cat + cont)} FROM single.{table}").fetchall()
            real_csv = Path(tmp) / f"{table}.csv"
            pd.DataFrame(rows, columns=cat + cont).to_csv(real_csv, index=False)
            runs = []
            for eps in args.epsilons:
                for i in range(args.runs):
                    for system in args.systems:
                        if system not in SYSTEMS:
                            runs.append({"system": system, "epsilon": eps, "run": i})
                            continue
                        schema, engine = SYSTEMS[system]
                        start = time.perf_counter()
                        model = dbsynth.fit(src, schemas=[schema], epsilon=eps, unit=f"{schema}.{table}", seed=i,
                                            engine=engine)
                        fake = dbsynth.sample(model, seed=i)[f"{schema}.{table}"]
                        csv = Path(tmp) / f"{table}-{system.replace(' ', '-')}-{eps}-{i}.csv"
                        fake.to_csv(csv, index=False)
                        runs.append({"system": system, "epsilon": eps, "run": i, "csv": str(csv),
                                     "seconds": time.perf_counter() - start})
            job = Path(tmp) / f"{table}.json"
            job.write_text(json.dumps({"real": str(real_csv), "categorical": cat, "continuous": cont, "runs": runs}))
            done = subprocess.run([str(python), "-c", INNER, str(job)], capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(done.stderr[-3000:])
            results += [{**r, "table": table} for r in json.loads(done.stdout.strip().splitlines()[-1])]
    print(f"{'table':7} {'ε':>4} " + " ".join(f"{s:>22}" for s in args.systems)
          + "   (column shapes / pair trends, mean of runs; seconds per fit)")
    for table in TABLES:
        for eps in args.epsilons:
            cells = []
            for system in args.systems:
                mine = [r for r in results if r["table"] == table and r["epsilon"] == eps and r["system"] == system]
                mean = {k: sum(r[k] for r in mine) / len(mine) for k in ("shapes", "pairs", "seconds")}
                pairs = "  —  " if math.isnan(mean["pairs"]) else f"{mean['pairs']:.3f}"
                cells.append(f"{mean['shapes']:.3f} / {pairs} ({mean['seconds']:.0f}s)")
            print(f"{table:7} {eps:>4g} " + " ".join(f"{c:>22}" for c in cells))


if __name__ == "__main__":
    main()
