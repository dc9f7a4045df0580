"""The default a new user gets, scored as an outsider would: Pagila and Chinook fitted with no option
(``dbsynth fit URL -o m``: ε = 1, the proposed privacy unit), generated into an empty copy of the
schema, then SDMetrics 0.32's multi-table QualityReport on the written rows, metadata from the
database's own keys; each table's rows against the source's (private tables should land within
±10 %, reference tables exactly). Beside it, for the private tables, smartnoise-synth's MST fitted
on each private table alone, same columns, same ε — each of those fits spends ε on its own table,
so MST's numbers come at k × ε for the database, an advantage it gets here.

Unscored for every system alike: keys (SDMetrics ``id``), contact columns (names, e-mails, phones,
addresses, postal codes) and near-unique text (≥ 50 % distinct values); arrays are scored as text.

    python benchmarks/default_quality.py [--url postgresql://postgres@127.0.0.1:5432/postgres]
                                         [--epsilons 1] [--runs 3] [--engine bayesnet] [--no-mst]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
from _anchors import CANON, anchors_python
from _datasets import scratch

import dbsynth
from dbsynth.connect import create_engine
from dbsynth.schema import Schema, reflect
from dbsynth.schema.model import Table, TypeKind
from dbsynth.schema.read import read_table

CONTACT = re.compile(r"(^|_)(first|last|full)?_?name$|e_?mail|phone|address|city|postal|zip|street|fax|password"
                     r"|username", re.I)

INNER = r'''
import json, sys, warnings
from pathlib import Path
import numpy as np
import pandas as pd
warnings.filterwarnings("ignore")
from sdmetrics.reports.multi_table import QualityReport as MultiReport
from sdmetrics.reports.single_table import QualityReport as SingleReport
''' + CANON + r'''

job = json.loads(Path(sys.argv[1]).read_text())
meta = job["metadata"]


def load(files):
    out = {}
    for table, path in files.items():
        cols = meta["tables"][table]["columns"]
        df = pd.read_csv(path, dtype=str, keep_default_na=True)[list(cols)]
        for c, info in cols.items():
            kind = info["sdtype"]
            if kind == "numerical":
                df[c] = pd.to_numeric(df[c], errors="coerce")
            elif kind == "datetime":
                df[c] = pd.to_datetime(df[c], errors="coerce", utc=True).dt.tz_localize(None)
            elif kind == "boolean":
                df[c] = df[c].map({"True": True, "False": False, "t": True, "f": False})
            elif kind == "categorical":
                df[c] = canon(df[c])
        out[table] = df
    return out


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


real = load(job["real"])
out = []
for run in job["runs"]:
    fake = load(run["synthetic"])
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


def sdtype(table: Table, name: str, keys: set[str], frame: pd.DataFrame) -> str | None:
    """The column's SDMetrics type, or None when it is not scored (contact, near-unique text)."""
    col = table.column(name)
    if name in keys:
        return "id"
    kind = col.type.kind
    if kind in (TypeKind.INTEGER, TypeKind.DECIMAL, TypeKind.FLOAT):
        return "numerical"
    if kind in (TypeKind.DATE, TypeKind.DATETIME):
        return "datetime"
    if kind is TypeKind.BOOLEAN:
        return "boolean"
    values = frame[name].dropna().astype(str)
    if CONTACT.search(name) or len(values) == 0 or values.nunique() >= 0.5 * len(values):
        return None
    return "categorical"


def metadata(schema: Schema, frames: dict[str, pd.DataFrame]) -> dict:
    tables, relationships = {}, []
    for t in schema.tables:
        # keys: FK columns, single-column keys, and the whole-number columns of a composite primary
        # key (payment_id of Pagila's (payment_date, payment_id), a partitioned table's key)
        pk = list(t.primary_key.columns) if t.primary_key else []
        keys = {c for fk in t.foreign_keys for c in fk.columns} | {
            cols[0] for cols in [pk, *(u.columns for u in t.uniques)] if len(cols) == 1} | {
            c for c in pk if t.column(c).type.kind is TypeKind.INTEGER}
        cols = {c.name: {"sdtype": kind} for c in t.columns if c.name in frames[t.key].columns
                and (kind := sdtype(t, c.name, keys, frames[t.key])) is not None}
        entry: dict = {"columns": cols}
        if t.primary_key and len(t.primary_key.columns) == 1:
            entry["primary_key"] = t.primary_key.columns[0]
        tables[t.key] = entry
    for t in schema.tables:
        for fk in t.foreign_keys:
            parent = tables.get(fk.referred, {})
            if len(fk.columns) == 1 and parent.get("primary_key") == fk.referred_columns[0] and fk.referred != t.key:
                relationships.append({"parent_table_name": fk.referred, "parent_primary_key": fk.referred_columns[0],
                                      "child_table_name": t.key, "child_foreign_key": fk.columns[0]})
    return {"tables": tables, "relationships": relationships}


def dump(url: str, schema: Schema, where: Path) -> tuple[dict[str, str], dict[str, int]]:
    engine = create_engine(url)
    files, rows = {}, {}
    where.mkdir(parents=True)
    for t in schema.tables:
        frame = read_table(engine, t)
        files[t.key] = str(where / f"{t.key}.csv")
        frame.to_csv(files[t.key], index=False)
        rows[t.key] = len(frame)
    engine.dispose()
    return files, rows


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
            engine = create_engine(src)
            schema = reflect(engine)
            real_frames = {t.key: read_table(engine, t) for t in schema.tables}
            engine.dispose()
            real_files, real_rows = dump(src, schema, Path(tmp) / name / "real")
            runs, private = [], []
            for eps in args.epsilons:
                for i in range(args.runs):
                    options = {} if args.engine is None else {"engine": args.engine}
                    model = dbsynth.fit(src, epsilon=eps, seed=i, **options)
                    private = [k for k in model.tables if k not in model.public]
                    target = dbs.empty(name)
                    dbsynth.write_model(model, target, seed=i)
                    files, rows = dump(target, schema, Path(tmp) / name / f"{eps}-{i}")
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
