"""Bad input ends in one line naming what and where, a non-zero exit, no traceback, target untouched."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ddl_for, table_rows


def dbsynth(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("dbsynth")
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def assert_one_line_error(res: subprocess.CompletedProcess[str], *needles: str, code: int = 1) -> None:
    """Exit ``code`` (1 runtime error, 2 usage error), one line starting ``error:``, no traceback."""
    assert res.returncode == code, res.stderr
    assert "Traceback" not in res.stderr
    line = " ".join(res.stderr.split())
    assert line.startswith("error:"), res.stderr
    for n in needles:
        assert n in line, line


@pytest.mark.parametrize(("url", "needle"), [
    ("not a url", "malformed database URL"),
    ("postgresql://postgres@127.0.0.1:1/nowhere", "cannot connect to postgresql+psycopg://postgres@127.0.0.1:1/nowhere"),
    ("mssql+pyodbc://u@h/db", "pyodbc"),
    ("oracle9://u@h/db", "unknown database kind"),
])
def test_bad_urls(url: str, needle: str) -> None:
    assert_one_line_error(dbsynth("seed", url), needle)


def test_unknown_table_and_negative_rows(sqlite_database: Callable[..., str]) -> None:
    url = sqlite_database(ddl_for("composite_keys", "sqlite"))
    assert_one_line_error(dbsynth("seed", url, "--rows", "nosuch=5"), "unknown table 'nosuch'", "warehouse", code=2)
    assert_one_line_error(dbsynth("seed", url, "--rows", "bin=-3"), "must not be negative", code=2)
    assert_one_line_error(dbsynth("seed", url, "--rows", "-3"), "must not be negative", code=2)
    assert_one_line_error(dbsynth("seed", url, "--rows", "-1"), "must not be negative", code=2)
    assert_one_line_error(dbsynth("seed", url, "--rows", "bin=lots"), "whole number", code=2)
    assert_one_line_error(dbsynth("seed", url, "--rows", "abc"), "whole number", code=2)
    assert_one_line_error(dbsynth("seed", url, "--to-dir", "out", "--format", "xml"), "--format 'xml'", "parquet",
                          code=2)
    assert all(rows == [] for rows in table_rows(url).values())


def test_non_empty_target(sqlite_database: Callable[..., str]) -> None:
    url = sqlite_database(ddl_for("self_reference", "sqlite"))
    assert dbsynth("seed", url, "--rows", "20").returncode == 0
    before = table_rows(url)
    assert_one_line_error(dbsynth("seed", url, "--rows", "30"), "not empty", "employee", "--truncate")
    assert table_rows(url) == before
    ok = dbsynth("seed", url, "--rows", "30", "--truncate")
    assert ok.returncode == 0, ok.stderr
    assert len(table_rows(url)["employee"]) == 30


def test_type_it_cannot_generate(pg_database: Callable[..., str], tmp_path: Path) -> None:
    ddl = tmp_path / "money.sql"
    ddl.write_text("CREATE TABLE shape (id int PRIMARY KEY, outline polygon NOT NULL);")
    url = pg_database(ddl)
    assert_one_line_error(dbsynth("seed", url), "shape.outline", "polygon")
    assert table_rows(url) == {"shape": []}


def test_not_null_cycle_is_filled(pg_database: Callable[..., str], tmp_path: Path) -> None:
    """A cycle of NOT NULL, non-deferrable FKs is loaded with the check off and validated after."""
    ddl = tmp_path / "cycle.sql"
    ddl.write_text(
        "CREATE TABLE a (id int PRIMARY KEY, b_id int NOT NULL);"
        "CREATE TABLE b (id int PRIMARY KEY, a_id int NOT NULL REFERENCES a (id));"
        "ALTER TABLE a ADD FOREIGN KEY (b_id) REFERENCES b (id);")
    url = pg_database(ddl)
    assert "a(b_id) -> b(id) [checked after the load]" in dbsynth("inspect", url).stdout
    res = dbsynth("seed", url, "--rows", "40")
    assert res.returncode == 0, res.stderr
    rows = table_rows(url)
    assert {b for _, b in rows["a"]} <= {i for i, _ in rows["b"]} and len(rows["a"]) == 40


def test_unsatisfiable_check_is_an_error_not_a_skip(sqlite_database: Callable[..., str], tmp_path: Path) -> None:
    ddl = tmp_path / "bad.sql"
    ddl.write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER NOT NULL, CHECK (x > 5 AND x < 3));")
    url = sqlite_database(ddl)
    assert_one_line_error(dbsynth("seed", url, "--rows", "10"), "t.x", "CHECK")
    assert table_rows(url) == {"t": []}


def test_debug_shows_traceback() -> None:
    res = dbsynth("--debug", "seed", "not a url")
    assert res.returncode != 0 and "Traceback" in res.stderr


def test_inspect_prints_order_and_cycles(pg_database: Callable[..., str]) -> None:
    url = pg_database(ddl_for("two_table_cycle", "postgresql"))
    res = dbsynth("inspect", url)
    assert res.returncode == 0, res.stderr
    assert "cycle broken at department(head_id) -> person(person_id) [NULL, then UPDATE]" in res.stdout


def test_demo_runs_without_a_server(tmp_path: Path) -> None:
    """The main job on the bundled Chinook: learned at the default privacy, a look-alike written to
    SQLite, its fidelity and privacy printed; --schema-only seeds the shop schema instead."""
    res = dbsynth("demo", "--out", str(tmp_path / "demo.sqlite"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    said = " ".join(res.stdout.split())
    assert "a private look-alike of the bundled Chinook database" in said and "column shapes" in said
    # all of ε spent (3 significant digits), whatever the noise decided about each column's domain
    assert re.search(r"privacy: \(ε = 1, δ = [\d.e-]+\) spent of \(1, 1e-06\) per Customer", said), said
    rows = table_rows(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    assert len(rows["Track"]) == 3503 and len(rows["Customer"]) > 0  # reference data exact, people noisy
    assert_one_line_error(dbsynth("demo", "--out", str(tmp_path / "demo.sqlite")), "already exists", code=2)
    res = dbsynth("demo", "--schema-only", "--out", str(tmp_path / "shop.sqlite"), "--rows", "50", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = table_rows(f"sqlite:///{tmp_path / 'shop.sqlite'}")
    assert {k: len(v) for k, v in rows.items()} == {
        "category": 50, "customer": 50, "order": 50, "order_line": 50, "product": 50, "review": 50}



def test_locale_changes_providers_and_unknown_locale_is_an_error(sqlite_database: Callable[..., str]) -> None:
    url = sqlite_database(ddl_for("self_reference", "sqlite"))
    assert_one_line_error(dbsynth("seed", url, "--locale", "xx_XX"), "unknown locale 'xx_XX'", code=2)
    assert_one_line_error(dbsynth("seed", url, "--names", "famous"), "--names must be one of real, invented",
                          code=2)
    res = dbsynth("seed", url, "--rows", "60", "--locale", "de_DE")
    assert res.returncode == 0, res.stderr
    from faker.providers.person.de_DE import Provider as German

    names = [row[1] for row in table_rows(url)["employee"]]
    assert sum(n.split(" ")[0] in set(German.first_names) for n in names) > 50  # German names
