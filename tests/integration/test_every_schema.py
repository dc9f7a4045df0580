"""Every schema in schemas/ and the bundled sample databases, on every database that takes them:
seed a source (or load the sample's rows), fit it at the default ε = 1, save and load the model
file, generate from it into a fresh target, and count violations from outside: every foreign key
by an anti-join of its own, unvalidated constraints on PostgreSQL, ``foreign_key_check`` on SQLite.
NOT NULL, UNIQUE and CHECK are the servers' own business at the load (MariaDB runs cycles with FK
checks off, which is why the anti-joins matter)."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

import dbsynth
from dbsynth.connect import create_engine
from dbsynth.model_io import load
from dbsynth.pipeline import seed, write_model
from tests.conftest import DATASETS, SCHEMAS, chinook_ddl, ddl_for, unit_for

PORTABLE = sorted(p.stem for p in (SCHEMAS / "portable").glob("*.sql") if "." not in p.stem)
FIXTURE = {"postgresql": "pg_database", "sqlite": "sqlite_database", "mysql": "mariadb_database"}
CASES = [
    *[pytest.param(ddl_for(n, d), d, id=f"{n}-{d}") for n in PORTABLE for d in FIXTURE],
    *[pytest.param(p, "postgresql", id=p.stem) for p in sorted((SCHEMAS / "postgresql").glob("*.sql"))],
    *[pytest.param(p, "postgresql", id=p.stem) for p in sorted((SCHEMAS / "learned").glob("*.sql"))],
]


def foreign_key_orphans(url: str) -> dict[str, int]:
    """Rows of every FK whose (all non-NULL) key has no referenced row, by one anti-join per FK."""
    engine = create_engine(url)
    orphans = {}
    with engine.connect() as conn:
        insp = sa.inspect(conn)
        q = conn.dialect.identifier_preparer.quote
        schemas = [s for s in insp.get_schema_names() if s not in ("information_schema", "pg_catalog", "pg_toast")] \
            if conn.dialect.name == "postgresql" else [None]
        for schema in schemas:
            for table in insp.get_table_names(schema=schema):
                for fk in insp.get_foreign_keys(table, schema=schema):
                    child = f"{q(schema)}.{q(table)}" if schema else q(table)
                    ref = fk["referred_schema"]  # None: the default schema, as the search path finds it
                    parent = f"{q(ref)}.{q(fk['referred_table'])}" if ref else q(fk["referred_table"])
                    on = " AND ".join(f"p.{q(r)} = c.{q(c)}" for c, r in
                                      zip(fk["constrained_columns"], fk["referred_columns"], strict=True))
                    set_ = " AND ".join(f"c.{q(c)} IS NOT NULL" for c in fk["constrained_columns"])
                    n = conn.execute(sa.text(f"SELECT count(*) FROM {child} c WHERE {set_} AND NOT EXISTS "
                                             f"(SELECT 1 FROM {parent} p WHERE {on})")).scalar_one()
                    orphans[f"{table}.{fk['name']}"] = n
        if conn.dialect.name == "postgresql":
            for name in conn.exec_driver_sql("SELECT conname FROM pg_constraint WHERE NOT convalidated").scalars():
                orphans[f"not validated: {name}"] = 1
        if conn.dialect.name == "sqlite":
            orphans["foreign_key_check"] = len(conn.exec_driver_sql("PRAGMA foreign_key_check").all())
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    engine.dispose()
    return {k: v for k, v in orphans.items() if v}


def row_counts(url: str, keys: list[str]) -> dict[str, int]:
    """``count(*)`` of each table (``schema.name`` or ``name``), as the server answers it."""
    engine = create_engine(url)
    with engine.connect() as conn:
        q = conn.dialect.identifier_preparer.quote
        counts = {k: int(conn.execute(sa.text(f"SELECT count(*) FROM {'.'.join(q(p) for p in k.split('.'))}"))
                         .scalar_one()) for k in keys}
    engine.dispose()
    return counts


def fit_and_generate(source: str, target: str, tmp_path: Path, *, truncate: bool = False) -> None:
    """fit (default ε, the unit with most tables below it) → model file → generate, then zero
    violations in the target."""
    path = tmp_path / "model.dbsynth"
    dbsynth.save(dbsynth.fit(source, unit=unit_for(source)), str(path))
    result = write_model(load(str(path)), target, seed=7, truncate=truncate)
    assert sum(result.rows.values()) > 0
    assert row_counts(target, list(result.rows)) == dict(result.rows)
    assert foreign_key_orphans(target) == {}


@pytest.mark.parametrize(("ddl", "dialect"), CASES)
def test_seed_fit_generate(ddl: Path, dialect: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    make: Callable[..., str] = request.getfixturevalue(FIXTURE[dialect])
    source, target = make(ddl), make(ddl)
    if ddl.parent.name != "learned":  # those carry their own rows
        seeded = seed(source, default_rows=200, seed=5)
        assert sum(seeded.rows.values()) > 0
        assert foreign_key_orphans(source) == {}
    fit_and_generate(source, target, tmp_path, truncate=ddl.parent.name == "learned")  # its rows replaced


@pytest.mark.parametrize("name", ["pagila", "chinook"])
def test_bundled_databases_on_postgres(name: str, source_databases: dict[str, str],
                                       pg_database: Callable[..., str], tmp_path: Path) -> None:
    ddl = DATASETS / "pagila" / "pagila-schema.sql" if name == "pagila" else chinook_ddl(tmp_path)
    fit_and_generate(source_databases[name], pg_database(ddl), tmp_path)


def test_chinook_on_sqlite(tmp_path: Path) -> None:
    source, target = tmp_path / "source.sqlite", tmp_path / "target.sqlite"
    shutil.copy(DATASETS / "chinook" / "Chinook_Sqlite.sqlite", source)
    shutil.copy(source, target)
    with sqlite3.connect(target) as conn:  # the same tables, empty
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            conn.execute(f'DELETE FROM "{table}"')
    fit_and_generate(f"sqlite:///{source}", f"sqlite:///{target}", tmp_path)


def test_chinook_on_mariadb(mariadb_database: Callable[..., str], tmp_path: Path) -> None:
    text = (DATASETS / "chinook" / "Chinook_MySql.sql").read_text(encoding="utf-8")
    text = re.sub(r"^(DROP DATABASE|CREATE DATABASE|USE ).*$", "", text, flags=re.M)
    full, ddl = tmp_path / "chinook.sql", tmp_path / "chinook-ddl.sql"
    full.write_text(text, encoding="utf-8")
    ddl.write_text(text[:text.index("INSERT INTO")], encoding="utf-8")  # the tables and keys come first
    fit_and_generate(mariadb_database(full), mariadb_database(ddl), tmp_path)
