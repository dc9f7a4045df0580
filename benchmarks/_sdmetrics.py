"""SDMetrics' multi-table QualityReport on a real/synthetic pair, run in SDMetrics' own virtual
environment (0.32 pins pandas < 3, so it never enters dbsynth's): the tables go over as CSV files
with metadata from the database's keys, every column typed as dbsynth's report types it
(:func:`dbsynth.report.fidelity.sdtypes`: keys ``id``, contact data and near-unique text left out).
Used by ``fidelity.py``, ``default_quality.py`` and the test that dbsynth's report agrees."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from dbsynth.connect import create_engine
from dbsynth.report.fidelity import relationships, sdtypes
from dbsynth.schema import Schema, reflect
from dbsynth.schema.read import read_table

VENV = Path(__file__).resolve().parent / ".sdmetrics-venv"
PACKAGES = ["sdmetrics==0.32.0"]

# pasted into the scripts run there: category values as one text whatever the writer's dtype
# (2006, 2006.0 and "2006" alike)
CANON = '''
def canon(values):
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().sum() == values.notna().sum():
        return numbers.map(lambda v: None if pd.isna(v) else repr(round(float(v), 6))).astype(object)
    return values.astype(str).where(values.notna(), None).astype(object)
'''

# loads a job's tables as SDMetrics should see them
LOAD = '''
def load(files, meta):
    out = {}
    for table, path in files.items():
        cols = meta["tables"][table]["columns"]
        df = pd.read_csv(path, dtype=str, keep_default_na=True)[list(cols)]
        for c, info in cols.items():
            kind = info["sdtype"]
            if kind == "numerical":
                df[c] = pd.to_numeric(df[c], errors="coerce")
            elif kind == "datetime":
                df[c] = pd.to_datetime(df[c], errors="coerce", utc=True, format="mixed").dt.tz_localize(None)
            elif kind == "boolean":
                df[c] = df[c].map({"True": True, "False": False, "t": True, "f": False, "1": True, "0": False})
            elif kind == "categorical":
                df[c] = canon(df[c])
        out[table] = df
    return out
'''

QUALITY = r'''
import json, sys, warnings
from pathlib import Path
import pandas as pd
warnings.filterwarnings("ignore")
from sdmetrics.reports.multi_table import QualityReport
''' + CANON + LOAD + r'''
job = json.loads(Path(sys.argv[1]).read_text())
meta = job["metadata"]
real = load(job["real"], meta)
out = []
for files in job["synthetic"]:
    report = QualityReport()
    report.generate(real, load(files, meta), meta, verbose=False)
    props = report.get_properties().set_index("Property")["Score"].to_dict()
    out.append({"quality": float(report.get_score()),
                "properties": {k: (None if pd.isna(v) else float(v)) for k, v in props.items()}})
print(json.dumps(out))
'''


def sdmetrics_python() -> Path:
    """SDMetrics' interpreter, made on first use (a minute or two, once)."""
    python = VENV / "bin" / "python"
    if not python.exists():  # made aside and renamed, so parallel test workers never share a half-made one
        print(f"making {VENV} for SDMetrics (once)", file=sys.stderr)
        aside = VENV.with_name(f"{VENV.name}.{os.getpid()}")
        venv.create(aside, with_pip=True, clear=True)
        subprocess.run([str(aside / "bin" / "python"), "-m", "pip", "install", "-q", *PACKAGES], check=True)
        try:
            aside.rename(VENV)
        except OSError:  # another process made it first
            shutil.rmtree(aside)
    return python


def metadata(schema: Schema, real: Mapping[str, pd.DataFrame]) -> dict:
    """SDMetrics' multi-table metadata for ``schema``, scored columns as dbsynth's report scores them."""
    scored, unscored = sdtypes(schema, real)
    tables = {}
    for t in schema.tables:
        if t.key not in scored:
            continue
        cols = {c: {"sdtype": kind} for c, kind in scored[t.key].items()}
        cols |= {c: {"sdtype": "id"} for c, why in unscored[t.key].items() if why == "key"}
        entry: dict = {"columns": cols}
        if t.primary_key and len(t.primary_key.columns) == 1:
            entry["primary_key"] = t.primary_key.columns[0]
        tables[t.key] = entry
    rels = [{"parent_table_name": fk.referred, "parent_primary_key": fk.referred_columns[0],
             "child_table_name": child.key, "child_foreign_key": fk.columns[0]}
            for child, fk in relationships(schema) if child.key in tables and fk.referred in tables]
    return {"tables": tables, "relationships": rels}


def read_frames(url: str, schema: Schema | None = None) -> tuple[Schema, dict[str, pd.DataFrame]]:
    """Every table of the database at ``url`` (``schema``'s, reflected when not given), read as
    dbsynth reads a source."""
    engine = create_engine(url)
    try:
        schema = schema or reflect(engine)
        return schema, {t.key: read_table(engine, t) for t in schema.tables}
    finally:
        engine.dispose()


def write_csv(frames: Mapping[str, pd.DataFrame], where: Path) -> dict[str, str]:
    """Each frame as a CSV file under ``where``; their paths by table."""
    where.mkdir(parents=True, exist_ok=True)
    files = {}
    for key, frame in frames.items():
        files[key] = str(where / f"{key}.csv")
        frame.to_csv(files[key], index=False)
    return files


def quality(schema: Schema, real: Mapping[str, pd.DataFrame], synthetic: list[Mapping[str, pd.DataFrame]],
            work: Path) -> list[dict]:
    """SDMetrics' overall quality and its four properties for each synthetic set against ``real``."""
    meta = metadata(schema, real)
    keep = list(meta["tables"])
    job = work / "quality.json"
    job.write_text(json.dumps({
        "metadata": meta, "real": write_csv({k: real[k] for k in keep}, work / "real"),
        "synthetic": [write_csv({k: s[k] for k in keep}, work / f"synthetic-{i}") for i, s in enumerate(synthetic)]}))
    done = subprocess.run([str(sdmetrics_python()), "-c", QUALITY, str(job)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])
