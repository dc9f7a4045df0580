"""What a new user met on real schemas and bad input: each case ends in success, or in one line with
the documented exit code (1 runtime, 2 usage; check 3/4), and the target as it was."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg
import pymysql
import pytest
import sqlalchemy as sa

import dbsynth
from dbsynth.cli import main
from dbsynth.connect import create_engine
from dbsynth.pipeline import write_model
from tests.conftest import SHOP_SQL, ddl_for, table_rows
from tests.integration.test_cli_errors import assert_one_line_error
from tests.integration.test_cli_errors import dbsynth as run


def _shop(path: Path, rows: int = 0) -> str:
    with sqlite3.connect(path) as db:
        db.executescript(SHOP_SQL.read_text())
    url = f"sqlite:///{path}"
    if rows:
        dbsynth.seed(url, default_rows=rows, seed=1)
    return url


def test_tables_outside_public_are_found(pg_database: Callable[..., str], tmp_path: Path) -> None:
    ddl = tmp_path / "hr.sql"
    ddl.write_text("CREATE SCHEMA hr; CREATE TABLE hr.dept (id int PRIMARY KEY, name text NOT NULL);"
                   "CREATE TABLE hr.emp (id int PRIMARY KEY, dept_id int NOT NULL REFERENCES hr.dept);")
    url = pg_database(ddl)
    assert "hr.emp" in run("inspect", url).stdout
    res = run("seed", url, "--rows", "25")
    assert res.returncode == 0, res.stderr
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM hr.emp")).scalar_one() == 25
    engine.dispose()
    assert_one_line_error(run("seed", url, "--schema", "public"), "found no table in schema(s) public",
                          "tables exist in schema(s) hr", code=2)
    model = tmp_path / "hr.dbsynth"
    assert run("fit", url, "-o", str(model), "--epsilon", "inf").returncode == 0
    assert set(dbsynth.load(model).tables) == {"hr.dept", "hr.emp"}


def test_nothing_to_read_is_an_error(pg_database: Callable[..., str], tmp_path: Path) -> None:
    empty = pg_database()
    for command in (["seed", empty], ["inspect", empty], ["fit", empty, "-o", str(tmp_path / "m")]):
        assert_one_line_error(run(*command), "found no table", code=2)
    assert not (tmp_path / "m").exists()
    missing = tmp_path / "typo.sqlite"
    assert_one_line_error(run("seed", f"sqlite:///{missing}"), "no SQLite database at", code=1)
    assert not missing.exists()
    assert_one_line_error(run("seed", f"sqlite:///{tmp_path / 'x.db'}", "--schema-from", ""),
                          "--schema-from is empty", code=2)


def test_runs_that_would_write_nothing(shop_model: Path, tmp_path: Path) -> None:
    url = _shop(tmp_path / "t.sqlite")
    assert run("generate", str(shop_model), "--target", url, "--seed", "2").returncode == 0
    before = table_rows(url)
    assert_one_line_error(run("generate", str(shop_model), "--target", url, "--truncate", "--scale", "1e-9"),
                          "0 rows", "left as it was", code=2)
    for scale in ("0", "inf", "nan", "-1"):
        assert_one_line_error(run("generate", str(shop_model), "--target", url, "--scale", scale),
                              "--scale must be a positive, finite number", code=2)
    assert_one_line_error(run("generate", str(shop_model), "--target", url, "--to-dir", str(tmp_path / "o")),
                          "not both", code=2)
    assert table_rows(url) == before


def test_fit_options_and_output(tmp_path: Path) -> None:
    url = _shop(tmp_path / "src.sqlite", rows=30)
    for holdout in ("1.0", "1.5", "-0.5"):
        assert_one_line_error(run("fit", url, "-o", str(tmp_path / "m"), "--holdout", holdout), "--holdout", code=2)
    assert_one_line_error(run("fit", url, "-o", str(tmp_path / "m"), "--cap", "-3"), "--cap", code=2)
    assert_one_line_error(run("fit", url, "-o", "/no/such/dir/m"), "/no/such/dir does not exist", code=2)
    assert_one_line_error(run("fit", url, "-o", str(tmp_path)), "is a directory", code=2)
    assert not list(tmp_path.glob("*.tmp")) and not (tmp_path / "m").exists()


def test_check_exit_codes_keep_errors_apart(shop_model: Path, tmp_path: Path) -> None:
    """1/2 stay errors, so a CI script cannot read an unreachable database as 'additive drift'."""
    assert_one_line_error(run("check", str(shop_model), "--against", "postgresql://postgres@127.0.0.1:1/x"),
                          "cannot connect", code=1)
    assert_one_line_error(run("check", str(tmp_path / "none.dbsynth"), "--against", "sqlite://"),
                          "no model file", code=2)


def test_ambiguous_table_and_debug_anywhere(pg_database: Callable[..., str], tmp_path: Path) -> None:
    ddl = tmp_path / "two.sql"
    ddl.write_text("CREATE SCHEMA app; CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE app.a (id int PRIMARY KEY);")
    url = pg_database(ddl)
    assert_one_line_error(run("seed", url, "--rows", "a=3"), "ambiguous", "public.a", "app.a", code=2)
    res = run("seed", url, "--rows", "public.a=3", "--rows", "app.a=4")
    assert res.returncode == 0, res.stderr
    engine = create_engine(url)
    with engine.connect() as conn:
        counts = [conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in ("public.a", "app.a")]
    engine.dispose()
    assert counts == [3, 4]
    debug = run("seed", "not a url", "--debug")
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_password_with_an_at_sign_is_not_echoed() -> None:
    res = run("seed", "postgresql://app:s3cr@t-part@127.0.0.1/db")
    assert_one_line_error(res, "percent-encode it as %40", code=1)
    assert "t-part" not in res.stderr and "s3cr" not in res.stderr


def test_interrupt_says_nothing_was_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    url = _shop(tmp_path / "t.sqlite")
    from dbsynth.sinks import sqlalchemy as sink

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sink.SqlAlchemySink, "_reset_sequence", interrupted)  # after every INSERT
    with pytest.raises(SystemExit) as exit_:
        main(["seed", url, "--rows", "20"])
    assert exit_.value.code == 130
    assert capsys.readouterr().err.strip().endswith("interrupted; nothing was written")
    assert all(rows == [] for rows in table_rows(url).values())


def test_nullable_column_with_unsatisfiable_check(sqlite_database: Callable[..., str], tmp_path: Path) -> None:
    ddl = tmp_path / "t.sql"
    ddl.write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER, CHECK (x > 5 AND x < 3));")
    url = sqlite_database(ddl)
    assert run("seed", url, "--rows", "10").returncode == 0
    assert [x for _, x in table_rows(url)["t"]] == [None] * 10
    res = run("seed", url, "--rows", "0", "--truncate")
    assert res.returncode == 2 and res.stderr.strip().splitlines()[-1].startswith("error: every table gets 0 rows")
    assert len(table_rows(url)["t"]) == 10


def test_report_needs_a_generated_synthetic_side(tmp_path: Path) -> None:
    real = _shop(tmp_path / "real.sqlite", rows=20)
    empty = _shop(tmp_path / "empty.sqlite")
    assert_one_line_error(run("report", real, empty), "has no rows", code=2)
    with sqlite3.connect(tmp_path / "half.sqlite") as db:
        db.execute("CREATE TABLE category (category_id INTEGER PRIMARY KEY)")
    assert_one_line_error(run("report", real, f"sqlite:///{tmp_path / 'half.sqlite'}"), "has no table(s)", code=2)


def test_learned_rule_that_cannot_hold_is_dropped_with_a_count() -> None:
    """A rule only learned from the source never stops a run: where its columns cannot be
    regenerated (a cycle's FK, filled after the check) it is given up on those rows and counted; the
    same text as a real CHECK still stops the run."""
    import numpy as np
    import pandas as pd

    from dbsynth.errors import ConstraintError
    from dbsynth.rules.checks import compile_check
    from dbsynth.rules.enforce import EnforceReport, enforce

    frame = pd.DataFrame({"continent": ["Asia", "Antarctica", "Europe"], "capital": [None, None, 7]})
    rule = "continent NOT IN ('Asia', 'Europe') OR capital IS NOT NULL"
    check = compile_check("learned: capital", rule, dialect="postgresql", columns=list(frame.columns))

    def run_with(predicate: object) -> EnforceReport:
        report = EnforceReport()
        enforce("country", frame, predicates=[predicate], unique_sets=[], not_null=[],  # type: ignore[list-item]
                resample=lambda *a: pd.Series(dtype=object), resamplable=[], rng=np.random.default_rng(0),
                report=report)
        return report

    from dataclasses import replace

    report = run_with(replace(check, learned=True))
    assert report.dropped == {"CHECK learned: capital": 1}
    with pytest.raises(ConstraintError, match="none of its columns can be regenerated"):
        run_with(check)


def test_failed_create_schema_on_mariadb_drops_what_it_made(pg_database: Callable[..., str],
                                                            mariadb_database: Callable[..., str],
                                                            tmp_path: Path) -> None:
    """MariaDB cannot roll DDL back: a table it cannot create as given (a text primary key) fails
    the run, and the tables made before it are dropped, so the same command can run again."""
    ddl = tmp_path / "src.sql"
    ddl.write_text("CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);"
                   "CREATE TABLE z (code text PRIMARY KEY);")
    source, target = pg_database(ddl), mariadb_database()
    for _ in range(2):
        res = run("seed", target, "--schema-from", source, "--create-schema", "--rows", "5")
        assert_one_line_error(res, "nothing was written", code=1)
        assert "not empty" not in res.stderr
        engine = create_engine(target)
        assert sa.inspect(engine).get_table_names() == []
        engine.dispose()


def test_not_null_cycle_on_mariadb_is_validated(mariadb_database: Callable[..., str]) -> None:
    """Loaded with FK checks off, then checked: no row points nowhere (measured here, from outside)."""
    url = mariadb_database(ddl_for("not_null_cycle", "mysql"))
    assert run("seed", url, "--rows", "30").returncode == 0
    engine = create_engine(url)
    with engine.connect() as conn:
        orphans = conn.execute(sa.text(
            "SELECT (SELECT count(*) FROM store s LEFT JOIN staff f ON f.staff_id = s.manager_staff_id "
            "WHERE f.staff_id IS NULL) + (SELECT count(*) FROM staff f LEFT JOIN store s ON s.store_id = f.store_id "
            "WHERE s.store_id IS NULL)")).scalar_one()
        stores = conn.execute(sa.text("SELECT count(*) FROM store")).scalar_one()
    engine.dispose()
    assert orphans == 0 and stores == 30


def test_materialized_views_are_refreshed(pg_database: Callable[..., str], tmp_path: Path) -> None:
    ddl = tmp_path / "mv.sql"
    ddl.write_text("CREATE TABLE item (id int PRIMARY KEY, price numeric(8, 2) NOT NULL);"
                   "CREATE MATERIALIZED VIEW item_count AS SELECT count(*) AS n FROM item;")
    url = pg_database(ddl)
    assert run("seed", url, "--rows", "37").returncode == 0
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT n FROM item_count")).scalar_one() == 37
    engine.dispose()


def test_create_schema_in_another_dialect_says_what_it_leaves_out(pg_database: Callable[..., str],
                                                                  tmp_path: Path) -> None:
    ddl = tmp_path / "pg.sql"
    ddl.write_text("CREATE DOMAIN percent AS int CHECK (VALUE BETWEEN 0 AND 100);"
                   "CREATE TABLE score (id int PRIMARY KEY, pct percent NOT NULL, twice int GENERATED ALWAYS AS "
                   "(pct * 2) STORED, note text CHECK (length(note) < 50));")
    source = pg_database(ddl)
    target = f"sqlite:///{tmp_path / 'new.sqlite'}"
    res = run("seed", target, "--schema-from", source, "--create-schema", "--rows", "20")
    assert res.returncode == 0, res.stderr
    said = " ".join(res.stderr.split())
    for needle in ("leaves out", "score.twice: generated column", "score.pct: domain percent", "score: CHECK"):
        assert needle in said, said
    assert all(0 <= pct <= 100 for _, pct, _ in table_rows(target)["score"])


LOCKED_SQL = "CREATE TABLE account (id int PRIMARY KEY, name varchar(40) NOT NULL);"


def test_a_table_locked_by_another_session_is_named_on_postgres(pg_database: Callable[..., str],
                                                               tmp_path: Path) -> None:
    """An idle transaction that read the table holds a lock the load's ALTER/TRUNCATE must wait for:
    after --lock-timeout the run stops, naming the table and the session, and writes nothing."""
    ddl = tmp_path / "account.sql"
    ddl.write_text(LOCKED_SQL)
    url = pg_database(ddl)
    with psycopg.connect(url) as holder:
        holder.execute("SELECT * FROM account")  # psycopg opened a transaction: now idle in it
        res = run("seed", url, "--rows", "5", "--lock-timeout", "0.5")
        pid = holder.info.backend_pid
    assert_one_line_error(res, "table account is locked by another session", f"pid {pid}", "idle in transaction",
                          "SELECT * FROM account", "nothing was written")
    assert table_rows(url)["account"] == []


def test_a_table_locked_by_another_session_on_mariadb(mariadb_database: Callable[..., str], tmp_path: Path) -> None:
    ddl = tmp_path / "account.sql"
    ddl.write_text(LOCKED_SQL)
    url = mariadb_database(ddl)
    assert run("seed", url, "--rows", "5").returncode == 0
    before = table_rows(url)["account"]
    db = url.rsplit("/", 1)[1]
    with pymysql.connect(host="127.0.0.1", user="root", password="", database=db) as holder:
        holder.begin()
        holder.cursor().execute("SELECT * FROM account FOR UPDATE")
        res = run("seed", url, "--rows", "5", "--truncate", "--seed", "9", "--lock-timeout", "1")
        thread = holder.thread_id()
    assert_one_line_error(res, "writing account (emptying for --truncate) failed, nothing was written",
                          "another session holds a lock",
                          f"connection {thread}")
    assert table_rows(url)["account"] == before


def test_a_sqlite_file_locked_by_another_writer(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(LOCKED_SQL)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held
        res = run("seed", f"sqlite:///{path}", "--rows", "5", "--lock-timeout", "0.5")
    finally:
        holder.close()
    assert_one_line_error(res, "nothing was written", "another connection held a lock")
    assert table_rows(f"sqlite:///{path}")["account"] == []


CAPITALS = """
CREATE TABLE country (code text PRIMARY KEY, continent text NOT NULL, capital int);
CREATE TABLE city (id int PRIMARY KEY, name text NOT NULL, country_code text NOT NULL REFERENCES country);
ALTER TABLE country ADD FOREIGN KEY (capital) REFERENCES city;
INSERT INTO country SELECT 'C' || i, (ARRAY['Asia', 'Europe', 'Africa', 'Antarctica'])[i % 4 + 1], NULL
FROM generate_series(1, 240) i;
INSERT INTO city SELECT i, 'city ' || i, 'C' || (i % 240 + 1) FROM generate_series(1, 600) i;
UPDATE country SET capital = (SELECT min(id) FROM city WHERE country_code = code) WHERE continent <> 'Antarctica';
"""


def test_a_learned_rule_on_a_cycle_fk_never_stops_generate(pg_database: Callable[..., str], tmp_path: Path) -> None:
    """End to end, as met on a real schema: the source learns "every country outside Antarctica has a
    capital" on the nullable FK that closes the country ↔ city cycle, which is filled only after
    the rules are checked. generate succeeds, every key it wrote exists, and the rule holds."""
    from tests.integration.test_every_schema import foreign_key_orphans

    ddl = tmp_path / "capitals.sql"
    ddl.write_text(CAPITALS)
    source = pg_database(ddl)
    target = pg_database(ddl)
    model = dbsynth.fit(source, epsilon=float("inf"))
    rules = model.tables["country"].rules
    assert any("capital IS NOT NULL" in r.to_sql() for r in rules), rules
    result = write_model(model, target, seed=1, truncate=True)
    assert result.rows["country"] > 0 and result.rows["city"] > 0
    assert foreign_key_orphans(target) == {}
    # met by filling the FK, not by moving countries to Antarctica: the continents keep their shares
    engine = create_engine(target)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT continent, count(*), count(capital) FROM country GROUP BY 1")).all()
    engine.dispose()
    shares = {c: n / result.rows["country"] for c, n, _ in rows}
    assert all(abs(share - 0.25) < 0.1 for share in shares.values()), shares
    assert all(with_capital == n for c, n, with_capital in rows if c != "Antarctica"), rows
