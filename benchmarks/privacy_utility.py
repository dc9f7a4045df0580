"""Privacy against utility: the fidelity report's four scores on Pagila and Chinook at
ε ∈ {0.5, 1, 5, ∞} (δ = 1e-6, children per parent capped at 5), in one table, one run.

    python benchmarks/privacy_utility.py [--url postgresql://postgres@127.0.0.1:5432/postgres]

Public (noise-free) tables: the catalogues and lookups; private: the people and what they did.
"""

from __future__ import annotations

import argparse
import math
import re
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

import dbsynth
from dbsynth.pipeline import report_databases

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
PUBLIC = {
    "pagila": ["actor", "address", "category", "city", "country", "film", "film_actor", "film_category",
               "inventory", "language", "staff", "store"],
    "chinook": ["album", "artist", "employee", "genre", "media_type", "playlist", "playlist_track", "track"],
}
EPSILONS = [0.5, 1.0, 5.0, math.inf]


def _psql(url: str, db: str, path: Path) -> None:
    host = re.search(r"@([^:/]+)", url).group(1)  # type: ignore[union-attr]
    subprocess.run(["psql", "-h", host, "-U", "postgres", "-d", db, "-q", "-v", "ON_ERROR_STOP=1", "-f", str(path)],
                   check=True, capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    base = args.url.rsplit("/", 1)[0]
    admin = psycopg.connect(args.url, autocommit=True)
    created: list[str] = []
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            text = (DATASETS / "chinook" / "Chinook_PostgreSql.sql").read_text(encoding="utf-8")
            text = re.sub(r"^(DROP DATABASE|CREATE DATABASE|\\c).*$", "", text, flags=re.M)
            (Path(tmp) / "full.sql").write_text(text, encoding="utf-8")
            (Path(tmp) / "ddl.sql").write_text(text[:text.index("INSERT INTO")], encoding="utf-8")
            sets = {"pagila": ([DATASETS / "pagila" / "pagila-schema.sql", DATASETS / "pagila" / "pagila-data.sql"],
                               [DATASETS / "pagila" / "pagila-schema.sql"]),
                    "chinook": ([Path(tmp) / "full.sql"], [Path(tmp) / "ddl.sql"])}
            for name, (full, ddl) in sets.items():
                src = f"pu_{name}_{uuid.uuid4().hex[:6]}"
                admin.execute(f"CREATE DATABASE {src}")
                created.append(src)
                for f in full:
                    _psql(args.url, src, f)
                for eps in EPSILONS:
                    model = dbsynth.fit(f"{base}/{src}", epsilon=eps, public=PUBLIC[name], seed=1)
                    tgt = f"{src}_e{str(eps).replace('.', '_')}"
                    admin.execute(f"CREATE DATABASE {tgt}")
                    created.append(tgt)
                    for f in ddl:
                        _psql(args.url, tgt, f)
                    model.write(f"{base}/{tgt}", seed=2)
                    o = report_databases(f"{base}/{src}", f"{base}/{tgt}").overall()
                    spent = model.privacy.spent_epsilon if model.privacy and not math.isinf(eps) else math.inf
                    rows.append((name, eps, spent, o))
    finally:
        for db in created:
            admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        admin.close()
    print(f"{'dataset':8} {'ε':>5} {'spent':>6} {'score':>6} {'shapes':>7} {'pairs':>6} {'cardin.':>8} {'inter':>6}")
    for name, eps, spent, o in rows:
        def f(v: float | None) -> str:
            return "  —  " if v is None else f"{v:.3f}"
        print(f"{name:8} {eps:>5g} {spent:>6.3g} {f(o['score']):>6} {f(o['column_shapes']):>7} "
              f"{f(o['pair_trends']):>6} {f(o['cardinality']):>8} {f(o['inter_table_trends']):>6}")


if __name__ == "__main__":
    main()
