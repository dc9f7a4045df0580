"""The default a new user gets, scored as an outsider would: Pagila and Chinook fitted with no option
(``dbsynth fit URL -o m``: ε = 1, the proposed privacy unit), generated into an empty copy of the
schema, then SDMetrics 0.32's multi-table QualityReport on the written rows, metadata from the
database's own keys; each table's rows against the source's (private tables should land within
±10 %, reference tables exactly). Beside it, for the private tables, smartnoise-synth's MST fitted
on each private table alone, same columns, same ε — each of those fits spends ε on its own table,
so MST's numbers come at k × ε for the database, an advantage it gets here.

Unscored for every system alike, as dbsynth's report leaves them (:func:`dbsynth.report.fidelity.sdtypes`):
keys (SDMetrics ``id``), contact columns (names, e-mails, phones, addresses, postal codes) and
near-unique text (≥ 50 % distinct values); arrays are scored as text.

    python benchmarks/default_quality.py [--url postgresql://postgres@127.0.0.1:5432/postgres]
                                         [--epsilons 1] [--runs 3] [--engine bayesnet] [--no-mst]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from _anchors import anchors_python
from _datasets import scratch
from _sdmetrics import CANON, LOAD, metadata, read_frames, write_csv

import dbsynth

INNER = r'''
import json, sys, warnings
from pathlib import Path
import numpy as np
import pandas as pd
warnings.filterwarnings("ignore")
from sdmetrics.reports.multi_table import QualityReport as MultiReport
from sdmetrics.reports.single_table import QualityReport as SingleReport
''' + CANON + LOAD + r'''

job = json.loads(Path(sys.argv[1]).read_text())
meta = job["metadata"]


def mst(real, table, eps):
    """MST on one table's scored columns; datetimes as seconds, numbers with many values continuous."""
    from snsynth import Synthesizer
    cols = {c: i["sdtype"] for c, i in meta["tables"][table]["columns"].items() if i["sdtype"] != "id"}
    df = real[table][list(cols)].copy()
    cat, cont = [], []
    for c, kind in cols.items():
        if kind == "datetime":
            df[c] = df[c].astype("int64") // 10**9
            cont.append(c)
        elif kind == "numerical" and df[c].nunique() > 20:
            cont.append(c)
        else:
            df[c] = df[c].astype(str)
            cat.append(c)
    synth = Synthesizer.create("mst", epsilon=eps * 0.9)
    synth.fit(df, categorical_columns=cat, continuous_columns=cont, preprocessor_eps=eps * 0.1)
    fake = synth.sample(len(df))
    for c, kind in cols.items():
        if kind == "datetime":
            fake[c] = pd.to_datetime(pd.to_numeric(fake[c], errors="coerce"), unit="s", errors="coerce")
        elif kind == "numerical":
            fake[c] = pd.to_numeric(fake[c], errors="coerce")
        elif kind == "boolean":
            fake[c] = fake[c].map({"True": True, "False": False})
        else:
            fake[c] = canon(fake[c].replace({"nan": None, "None": None}))
    return fake


def single(real, fake, table):
    cols = {c: i for c, i in meta["tables"][table]["columns"].items() if i["sdtype"] != "id"}
    report = SingleReport()
    report.generate(real[table][list(cols)], fake[list(cols)], {"columns": cols}, verbose=False)
    return float(report.get_score())


real = load(job["real"], meta)
out = []
for run in job["runs"]:
    fake = load(run["synthetic"], meta)
    report = MultiReport()
    report.generate(real, fake, meta, verbose=False)
    props = report.get_properties().set_index("Property")["Score"].to_dict()
    pairs = report.get_details("Column Pair Trends").groupby("Table")["Score"].mean()
    row = {**run, "quality": float(report.get_score()), "properties": {k: float(v) for k, v in props.items()},
           "pairs": {t: float(v) for t, v in pairs.items()},
           "private": {t: single(real, fake[t], t) for t in job["private"]}}
    if job["mst"]:
        row["mst"] = {t: single(real, mst(real, t, run["epsilon"]), t) for t in job["private"]}
    out.append(row)
print(json.dumps(out))
'''


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--epsilons", type=float, nargs="+", default=[1.0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--engine", default=None, help="dbsynth's generator under DP (default: fit's own)")
    ap.add_argument("--no-mst", action="store_true", help="skip the per-table MST fits")
    args = ap.parse_args()
    python = anchors_python()
    lines = []
    with scratch(args.url) as dbs, tempfile.TemporaryDirectory() as tmp:
        for name in ("pagila", "chinook"):
            src = dbs.source(name)
            schema, real_frames = read_frames(src)
            real_files = write_csv(real_frames, Path(tmp) / name / "real")
            real_rows = {k: len(f) for k, f in real_frames.items()}
            runs, private = [], []
            for eps in args.epsilons:
                for i in range(args.runs):
                    options = {} if args.engine is None else {"engine": args.engine}
                    model = dbsynth.fit(src, epsilon=eps, seed=i, **options)
                    private = [k for k in model.tables if k not in model.public]
                    target = dbs.empty(name)
                    dbsynth.write_model(model, target, seed=i)
                    _, fake = read_frames(target, schema)
                    files, rows = write_csv(fake, Path(tmp) / name / f"{eps}-{i}"), {k: len(f) for k, f in fake.items()}
                    runs.append({"epsilon": eps, "run": i, "synthetic": files, "rows": rows, "unit": model.unit})
            job = Path(tmp) / f"{name}.json"
            job.write_text(json.dumps({"metadata": metadata(schema, real_frames), "real": real_files, "runs": runs,
                                       "private": private, "mst": not args.no_mst}))
            done = subprocess.run([str(python), "-c", INNER, str(job)], capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(done.stderr[-3000:])
            results = json.loads(done.stdout.strip().splitlines()[-1])
            lines += report(name, results, real_rows, private)
    print("\n".join(lines))


def report(name: str, results: list[dict], real_rows: dict[str, int], private: list[str]) -> list[str]:
    out = [f"\n{name} (unit {results[0]['unit']}; private: {', '.join(private)})"]
    for eps in sorted({r["epsilon"] for r in results}):
        mine = [r for r in results if r["epsilon"] == eps]

        def mean(get, mine=mine) -> float:  # type: ignore[no-untyped-def]
            return sum(get(r) for r in mine) / len(mine)

        props = mine[0]["properties"]
        out.append(f"  ε = {eps:g}: SDMetrics quality {mean(lambda r: r['quality']):.3f}  ("
                   + ", ".join(f"{p.lower()} {mean(lambda r, p=p: r['properties'][p]):.3f}" for p in props)
                   + f"; mean of {len(mine)})")
        for t in private:
            mst = f"   MST alone on it {mean(lambda r, t=t: r['mst'][t]):.3f}" if "mst" in mine[0] else ""
            out.append(f"    {t:16} single-table quality {mean(lambda r, t=t: r['private'][t]):.3f}{mst}")
        low = sorted((mean(lambda r, t=t: r["pairs"].get(t, 1.0)), t) for t in mine[0]["pairs"])[:4]
        out.append("    lowest pair trends: " + ", ".join(f"{t} {v:.3f}" for v, t in low))
        off = []
        for t, n in real_rows.items():
            got = [r["rows"][t] for r in mine]
            worst = max(abs(g - n) for g in got) / max(n, 1)
            exact = t not in private
            if (exact and worst > 0) or (not exact and worst > 0.10):
                off.append(f"{t} {n}→{'/'.join(map(str, got))}")
        out.append(f"    rows: {'every private table within ±10 %, every reference table exact' if not off else ''}"
                   + ("off: " + "; ".join(off) if off else ""))
    return out


if __name__ == "__main__":
    main()
