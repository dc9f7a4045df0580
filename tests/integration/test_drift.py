"""Schema drift between a saved model and a migrated database: `dbsynth check` exit codes over the
drift matrix, additive drift seeded schema-only by `generate`, incompatible drift refused untouched."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import SHOP_SQL
from tests.integration.test_cli_errors import dbsynth as run

SHOP = SHOP_SQL.read_text()
REVIEW = SHOP[SHOP.index("CREATE TABLE review"):]
WISHLIST = """
CREATE TABLE wishlist (
    wishlist_id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customer (customer_id),
    product_id INTEGER REFERENCES product (product_id),
    note VARCHAR(80)
);"""

# name → (DDL of the migrated database, exit code of dbsynth check (0 none, 3 additive, 4 breaking), change kinds)
MATRIX = {
    "unchanged": (SHOP, 0, set()),
    "add nullable column": (SHOP + "\nALTER TABLE customer ADD COLUMN nickname VARCHAR(20);", 3, {"column_added"}),
    "add defaulted column": (SHOP + "\nALTER TABLE product ADD COLUMN weight INTEGER NOT NULL DEFAULT 1;", 3,
                             {"column_added"}),
    "add table": (SHOP + WISHLIST, 3, {"table_added"}),
    "add NOT NULL column without default": (
        SHOP.replace("in_stock BOOLEAN NOT NULL\n", "in_stock BOOLEAN NOT NULL,\n    weight INTEGER NOT NULL\n"),
        4, {"column_added"}),
    "remove column": (SHOP.replace("    phone VARCHAR(30),\n", ""), 4, {"column_removed"}),
    "retype column": (SHOP.replace("phone VARCHAR(30)", "phone INTEGER"), 4, {"type_changed"}),
    "drop table": (SHOP.replace(REVIEW, ""), 4, {"table_removed"}),
    "change foreign key": (SHOP.replace(REVIEW, REVIEW.replace("REFERENCES product (product_id)",
                                                               "REFERENCES category (category_id)")),
                           4, {"foreign_key_added", "foreign_key_removed"}),
}


def _database(path: Path, ddl: str) -> str:
    with sqlite3.connect(path) as db:
        db.executescript(ddl)
    return f"sqlite:///{path}"


@pytest.mark.parametrize("case", list(MATRIX))
def test_check_exit_codes(case: str, shop_model: Path, tmp_path: Path) -> None:
    ddl, code, kinds = MATRIX[case]
    url = _database(tmp_path / "target.sqlite", ddl)
    res = run("check", str(shop_model), "--against", url, "--json")
    assert res.returncode == code, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert doc["exit_code"] == code and {c["kind"] for c in doc["changes"]} == kinds
    human = run("check", str(shop_model), "--against", url)
    assert human.returncode == code
    assert ("no drift" if code == 0 else "compatible" if code == 3 else "incompatible") in human.stdout


def test_additive_drift_is_seeded(shop_model: Path, tmp_path: Path) -> None:
    ddl = MATRIX["add nullable column"][0] + MATRIX["add defaulted column"][0][len(SHOP):] + WISHLIST
    path = tmp_path / "target.sqlite"
    res = run("generate", str(shop_model), "--target", _database(path, ddl), "--json", "--rows", "wishlist=40")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["drift"]["status"] == "compatible" and summary["rows"]["wishlist"] == 40
    assert "schema drift" in res.stderr and "wishlist" in res.stderr
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM customer WHERE nickname IS NOT NULL").fetchone()[0] > 0
        assert db.execute("SELECT count(*) FROM product WHERE weight IS NULL").fetchone()[0] == 0
        orphans = db.execute("SELECT count(*) FROM wishlist w LEFT JOIN customer c USING (customer_id) "
                             "WHERE c.customer_id IS NULL").fetchone()[0]
        assert orphans == 0
        assert db.execute("SELECT count(*) FROM customer").fetchone()[0] == 150


@pytest.mark.parametrize("case", ["remove column", "add NOT NULL column without default"])
def test_incompatible_drift_stops_before_writing(case: str, shop_model: Path, tmp_path: Path) -> None:
    path = tmp_path / "target.sqlite"
    res = run("generate", str(shop_model), "--target", _database(path, MATRIX[case][0]))
    assert res.returncode == 1 and "refit the model" in res.stderr, res.stderr
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM customer").fetchone()[0] == 0


@pytest.mark.parametrize("fmt", ["csv", "parquet", "sql"])
def test_generate_to_files(fmt: str, shop_model: Path, tmp_path: Path) -> None:
    import pandas as pd

    out = tmp_path / "out"
    res = run("generate", str(shop_model), "--to-dir", str(out), "--format", fmt, "--quiet", "--seed", "4")
    assert res.returncode == 0 and res.stdout == "" and res.stderr == "", res.stderr
    if fmt == "sql":  # the script loads into an empty copy of the schema, FKs on
        path = tmp_path / "loaded.sqlite"
        _database(path, SHOP)
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA foreign_keys = ON")
            db.executescript((out / "data.sql").read_text())
            assert db.execute("SELECT count(*) FROM order_line").fetchone()[0] == 150
            assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    else:
        frame = pd.read_csv(out / "order_line.csv") if fmt == "csv" else pd.read_parquet(out / "order_line.parquet")
        assert len(frame) == 150 and list(frame.columns) == ["order_id", "product_id", "quantity", "unit_price"]


def test_readme_ci_snippet_runs(shop_model: Path, tmp_path: Path) -> None:
    """The README's CI-refresh commands, run verbatim by bash against a SQLite staging database."""
    import os
    import re
    import shutil
    import subprocess
    import sys

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    script = re.search(r"## Refresh test data in CI\n\n```sh\n(.*?)```", readme, flags=re.S).group(1)  # type: ignore[union-attr]
    shutil.copy(shop_model, tmp_path / "shop.dbsynth")
    staging = _database(tmp_path / "staging.sqlite", SHOP)
    env = {**os.environ, "STAGING_URL": staging, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    res = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads((tmp_path / "summary.json").read_text())["rows"]["customer"] == 15  # scale 0.1 of 150
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"{t}.parquet" for t in ("category", "customer", "order", "order_line", "product", "review"))
    # examples/ci's refresh script over the now-filled staging database: replaced, not appended
    refresh = Path(__file__).resolve().parents[2] / "examples" / "ci" / "refresh-staging.sh"
    res = subprocess.run([str(refresh)], cwd=tmp_path, env={**env, "MODEL": "shop.dbsynth", "SCALE": "0.2"},
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads((tmp_path / "refresh-summary.json").read_text())["rows"]["customer"] == 30
    with sqlite3.connect(tmp_path / "staging.sqlite") as db:
        assert db.execute("SELECT count(*) FROM customer").fetchone()[0] == 30
