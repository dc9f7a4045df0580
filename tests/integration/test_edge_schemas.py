"""Every edge-case schema in schemas/ is seeded on a real database; the database itself checks
every constraint (PostgreSQL re-creates them after COPY, SQLite runs with foreign_keys on, MariaDB
checks each row)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from dbsynth.connect import create_engine
from dbsynth.pipeline import seed
from tests.conftest import SCHEMAS, ddl_for, ledger_epsilon, table_rows, unit_for

PORTABLE = sorted(p.stem for p in (SCHEMAS / "portable").glob("*.sql") if p.stem.count(".") == 0)
PG_ONLY = sorted(p for p in (SCHEMAS / "postgresql").glob("*.sql"))
ROWS = 300


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        names = sa.inspect(conn).get_table_names()
        prep = conn.dialect.identifier_preparer
        counts = {n: conn.execute(sa.text(f"SELECT count(*) FROM {prep.quote(n)}")).scalar_one()
                  for n in names}
    engine.dispose()
    return counts


@pytest.mark.parametrize("name", PORTABLE)
def test_portable_schema_on_postgres(name: str, pg_database: Callable[..., str]) -> None:
    url = pg_database(ddl_for(name, "postgresql"))
    result = seed(url, default_rows=ROWS, seed=3)
    assert all(n > 0 for n in result.rows.values())
    assert _counts(url) == dict(result.rows)


@pytest.mark.parametrize("name", PORTABLE)
def test_portable_schema_on_sqlite(name: str, sqlite_database: Callable[..., str]) -> None:
    url = sqlite_database(ddl_for(name, "sqlite"))
    result = seed(url, default_rows=ROWS, seed=3)
    assert all(n > 0 for n in result.rows.values())
    assert _counts(url) == dict(result.rows)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    engine.dispose()


@pytest.mark.parametrize("name", PORTABLE)
def test_portable_schema_on_mariadb(name: str, mariadb_database: Callable[..., str]) -> None:
    url = mariadb_database(ddl_for(name, "mysql"))
    result = seed(url, default_rows=ROWS, seed=3)
    assert all(n > 0 for n in result.rows.values())
    assert _counts(url) == dict(result.rows)


@pytest.mark.parametrize("ddl", PG_ONLY, ids=lambda p: p.stem)
def test_postgres_schema(ddl: Path, pg_database: Callable[..., str]) -> None:
    url = pg_database(ddl)
    schemas = ["public", "sales"] if ddl.stem == "deferrable_cycle" else None
    result = seed(url, default_rows=ROWS, seed=5, schemas=schemas)
    assert all(n == ROWS for n in result.rows.values())
    engine = create_engine(url)
    with engine.connect() as conn:
        invalid = conn.exec_driver_sql(
            "SELECT conname FROM pg_constraint WHERE NOT convalidated").all()
        assert invalid == []
    engine.dispose()


def test_untranslatable_checks_are_evaluated_by_the_database(pg_database: Callable[..., str]) -> None:
    """CHECKs calling a user function are evaluated by the target (a temporary table) and failing
    rows resampled before the write: the seed succeeds, and the report lists them as database checks
    that rejected and resampled rows."""
    url = pg_database(SCHEMAS / "postgresql" / "function_checks.sql")
    result = seed(url, default_rows=400, seed=2)
    assert result.rows == {"gadget": 400, "part": 400}
    rules = {r["rule"]: r for report in result.reports.values() for r in report.rows()}
    for label in ("CHECK gadget_n_check (checked by the database)", "CHECK even_weight (checked by the database)"):
        assert rules[label]["checked"] == 400 and rules[label]["rejected"] > 100
        assert rules[label]["resampled"] == rules[label]["rejected"]
    assert not any(report.unchecked for report in result.reports.values())
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM part WHERE NOT is_even(weight)").scalar() == 0
    engine.dispose()


def test_untranslatable_checks_on_sqlite_and_mariadb(sqlite_database: Callable[..., str],
                                                      mariadb_database: Callable[..., str], tmp_path: Path) -> None:
    """The database-side check works on the other dialects too (qmark and format parameters)."""
    lite = tmp_path / "lite.sql"
    lite.write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, "
                    "n INTEGER NOT NULL CHECK (abs(n) % 2 = 0 AND unicode(char(65 + abs(n) % 3)) > 0));")
    maria = tmp_path / "maria.sql"
    maria.write_text("CREATE TABLE t (id INT PRIMARY KEY, "
                     "n INT NOT NULL CHECK (MOD(ABS(n), 2) = 0 AND CRC32(n) >= 0));")
    for url in (sqlite_database(lite), mariadb_database(maria)):
        result = seed(url, default_rows=200, seed=4)
        assert result.rows == {"t": 200}
        (rule,) = [r for r in result.reports["t"].rows() if "checked by the database" in str(r["rule"])]
        assert rule["rejected"] > 50
        assert all(n % 2 == 0 for _, n in table_rows(url)["t"])


@pytest.mark.parametrize("ddl", [*(SCHEMAS / "portable" / f"{n}.sql" for n in PORTABLE), *PG_ONLY,
                                 *sorted((SCHEMAS / "learned").glob("*.sql"))], ids=lambda p: p.stem)
def test_dp_fit_never_overspends(ddl: Path, pg_database: Callable[..., str]) -> None:
    """Every schema in schemas/, with rows, fitted at the default ε = 1 with every table private: the
    ledger's ρ adds up to at most the budget, its ε and δ (the conversion's half plus every
    thresholded category release's δ_t) stay within the requested ones, and the model generates."""
    import dbsynth
    from dbsynth.privacy.accountant import DEFAULT_DELTA, DEFAULT_EPSILON

    url = pg_database(ddl_for(ddl.stem, "postgresql") if ddl.parent.name == "portable" else ddl)
    schemas = ["public", "sales"] if ddl.stem == "deferrable_cycle" else None
    if ddl.parent.name != "learned":  # those carry their own rows
        seed(url, default_rows=ROWS, seed=5, schemas=schemas)
    model = dbsynth.fit(url, schemas=schemas, unit=unit_for(url, schemas))
    acc = model.privacy
    assert acc is not None  # format_checks: every column follows its format, nothing is learned
    epsilon, delta = ledger_epsilon(acc.to_json()["entries"], DEFAULT_DELTA)  # recomputed from outside
    assert epsilon <= DEFAULT_EPSILON * (1 + 1e-9) and delta <= DEFAULT_DELTA * (1 + 1e-9)
    thresholded = [e for e in acc.entries if e.mechanism == "gaussian, thresholded"]
    assert all(e.delta > 0 for e in thresholded) and len(thresholded) <= acc.thresholds
    assert sum(len(f) for f in dbsynth.sample(model, seed=1).values()) > 0
