"""Real databases for the tests: a fresh PostgreSQL database (pytest-postgresql's janitor on the
running server), a fresh MariaDB database, or an SQLite file, each dropped afterwards."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pymysql
import pytest
import sqlalchemy as sa
from pytest_postgresql.janitor import DatabaseJanitor

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
DATASETS = ROOT / "datasets"
SHOP_SQL = ROOT / "examples" / "shop.sql"
PG = {"host": os.environ.get("DBSYNTH_PG_HOST", "127.0.0.1"), "port": 5432, "user": "postgres"}
MARIA = {"host": os.environ.get("DBSYNTH_MARIADB_HOST", "127.0.0.1"), "port": 3306, "user": "root"}


def pg_url(dbname: str) -> str:
    return f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{dbname}"


def run_psql(dbname: str, sql_file: Path | None = None, sql: str | None = None) -> None:
    cmd = ["psql", "-h", PG["host"], "-U", PG["user"], "-d", dbname, "-v", "ON_ERROR_STOP=1", "-q"]
    cmd += ["-f", str(sql_file)] if sql_file else ["-c", sql or ""]
    subprocess.run(cmd, check=True, capture_output=True, text=True)


def chinook_ddl(tmp_path: Path) -> Path:
    """Chinook's PostgreSQL script without its DROP/CREATE DATABASE lines and without its rows."""
    text = (DATASETS / "chinook" / "Chinook_PostgreSql.sql").read_text(encoding="utf-8")
    ddl = text[:text.index("INSERT INTO")]
    ddl = re.sub(r"^(DROP DATABASE|CREATE DATABASE|\\c).*$", "", ddl, flags=re.M)
    out = tmp_path / "chinook-ddl.sql"
    out.write_text(ddl, encoding="utf-8")
    return out


def chinook_full(tmp_path: Path) -> Path:
    """Chinook's PostgreSQL script, rows included, without its DROP/CREATE DATABASE lines."""
    text = (DATASETS / "chinook" / "Chinook_PostgreSql.sql").read_text(encoding="utf-8")
    out = tmp_path / "chinook-full.sql"
    out.write_text(re.sub(r"^(DROP DATABASE|CREATE DATABASE|\\c).*$", "", text, flags=re.M), encoding="utf-8")
    return out


def _new_pg_database(name: str, files: Iterable[Path], janitors: list[DatabaseJanitor]) -> str:
    """Create database ``name`` (its janitor goes to ``janitors`` for the drop) and load ``files``."""
    janitor = DatabaseJanitor(user=PG["user"], host=PG["host"], port=PG["port"], dbname=name)
    janitor.init()
    janitors.append(janitor)
    for f in files:
        run_psql(name, f)
    return pg_url(name)


@pytest.fixture(scope="session")
def source_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Pagila and Chinook with their rows, loaded once per test session (per xdist worker)."""
    tmp = tmp_path_factory.mktemp("datasets")
    files = {
        "pagila": [DATASETS / "pagila" / "pagila-schema.sql", DATASETS / "pagila" / "pagila-data.sql"],
        "chinook": [chinook_full(tmp)],
    }
    janitors: list[DatabaseJanitor] = []
    urls = {name: _new_pg_database(f"dbsynth_src_{name}_{uuid.uuid4().hex[:8]}", paths, janitors)
            for name, paths in files.items()}
    yield urls
    for j in janitors:
        j.drop()


@pytest.fixture(scope="session")
def shop_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model of the demo shop (fitted, ε = ∞, on a schema-only seeded SQLite file of 150 rows per
    table): a model file for tests that need one without a source database."""
    import math
    import sqlite3

    import dbsynth

    tmp = tmp_path_factory.mktemp("shop")
    with sqlite3.connect(tmp / "source.sqlite") as db:
        db.executescript(SHOP_SQL.read_text())
    source = f"sqlite:///{tmp / 'source.sqlite'}"
    dbsynth.seed(source, default_rows=150, seed=1)
    return Path(dbsynth.save(dbsynth.fit(source, epsilon=math.inf), str(tmp / "shop.dbsynth")))


@pytest.fixture
def pg_database() -> Iterator[Callable[..., str]]:
    """Factory: ``pg_database(*sql_files)`` → URL of a fresh database with those files loaded."""
    janitors: list[DatabaseJanitor] = []

    def make(*files: Path) -> str:
        return _new_pg_database(f"dbsynth_{uuid.uuid4().hex[:12]}", files, janitors)

    yield make
    for j in janitors:
        j.drop()


def _maria_connect(db: str | None = None) -> pymysql.Connection:
    return pymysql.connect(host=MARIA["host"], port=MARIA["port"], user=MARIA["user"], password="",
                           database=db, autocommit=True, client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS)


@pytest.fixture
def mariadb_database() -> Iterator[Callable[..., str]]:
    names: list[str] = []

    def make(*files: Path) -> str:
        name = f"dbsynth_{uuid.uuid4().hex[:12]}"
        with _maria_connect() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name}")
        names.append(name)
        with _maria_connect(name) as conn, conn.cursor() as cur:
            for f in files:
                cur.execute(f.read_text(encoding="utf-8"))
                while cur.nextset():
                    pass
        return f"mysql://{MARIA['user']}@{MARIA['host']}:{MARIA['port']}/{name}"

    yield make
    with _maria_connect() as conn, conn.cursor() as cur:
        for n in names:
            cur.execute(f"DROP DATABASE IF EXISTS {n}")


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Callable[..., str]:
    def make(*files: Path) -> str:
        path = tmp_path / f"{uuid.uuid4().hex[:8]}.sqlite"
        engine = sa.create_engine(f"sqlite:///{path}")
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            for f in files:
                raw.executescript(f.read_text(encoding="utf-8"))  # type: ignore[union-attr]
        engine.dispose()
        return f"sqlite:///{path}"

    return make


def ddl_for(name: str, dialect: str) -> Path:
    """A portable schema file, or its per-dialect variant (``name.sqlite.sql``) where one exists."""
    base = SCHEMAS / "portable" / f"{name}.sql"
    variant = base.with_suffix(f".{dialect}.sql")
    return variant if variant.exists() else base


def table_rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, sorted, as plain tuples: for comparing two seeded databases."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://")
                              .replace("mysql://", "mysql+pymysql://"))
    out = {}
    with engine.connect() as conn:
        insp = sa.inspect(conn)
        for name in insp.get_table_names():
            rows = conn.execute(sa.text(f'SELECT * FROM "{name}"' if engine.dialect.name != "mysql"
                                        else f"SELECT * FROM `{name}`")).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    engine.dispose()
    return out


def read_frames(url: str) -> dict[str, pd.DataFrame]:
    """Every table of the database at ``url`` as a DataFrame, read the way dbsynth reads sources."""
    from dbsynth.connect import create_engine
    from dbsynth.schema import reflect
    from dbsynth.schema.read import read_table

    engine = create_engine(url)
    frames = {t.key: read_table(engine, t) for t in reflect(engine).tables}
    engine.dispose()
    return frames


def model_strings(path: Path) -> set[str]:
    """Every string value in a model file's per-table section: what a privacy scan must check."""
    with zipfile.ZipFile(path) as z:
        doc = json.loads(z.read("model.json"))
    found: set[str] = set()

    def walk(v: object) -> None:
        if isinstance(v, str):
            found.add(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(doc["tables"])
    return found


def ledger_epsilon(entries: list[dict[str, Any]], delta: float) -> tuple[float, float]:
    """(ε, δ) of a ledger recomputed from outside: each release's ρ from its mechanism's own
    parameters (Gaussian Δ²/2σ², exponential ε²/8 with ε = scale), summed, converted with the zCDP
    bound ε = ρ + 2√(ρ log 1/δ') at the conversion's δ' (half of δ when categories are thresholded,
    whose δ_t make up the rest). Fails on a release whose recorded ρ its parameters do not give."""
    def rho_of(e: dict[str, Any]) -> float:
        if str(e["mechanism"]).startswith("gaussian"):
            return float(e["sensitivity"]) ** 2 / (2 * float(e["scale"]) ** 2)
        assert e["mechanism"] == "exponential", e
        return float(e["scale"]) ** 2 / 8

    assert all(math.isclose(rho_of(e), e["rho"], rel_tol=1e-9) for e in entries)
    rho = sum(rho_of(e) for e in entries)
    thresholded = [e for e in entries if e["mechanism"] == "gaussian, thresholded"]
    conversion = delta / 2 if thresholded else delta
    return rho + 2 * math.sqrt(rho * math.log(1 / conversion)), conversion + sum(e["delta"] for e in thresholded)


def unit_for(url: str, schemas: list[str] | None = None) -> str | None:
    """The privacy unit for a test schema: None where a table looks like people (fit proposes it),
    else the table with the most private tables below it (itself and its descendants), the first in
    plan order on a tie."""
    from dbsynth.pipeline import inspect_database
    from dbsynth.privacy.units import PERSON, private_tables
    from dbsynth.semantics import semantic_of

    ins = inspect_database(url, schemas=schemas)
    if any(semantic_of(t, c) in PERSON for t in ins.schema.tables for c in t.columns):
        return None
    return max(ins.plan.order, key=lambda key: (len(private_tables(ins.schema, ins.plan, key)),
                                                -ins.plan.order.index(key)))


def dependent_codes(n: int, seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Codes of three nodes for the generators' unit tests: ``b`` follows ``a`` (b = a, or a + 1 one
    time in ten); ``c`` is independent noise."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, n)
    b = np.where(rng.random(n) < 0.9, a, (a + 1) % 4)
    c = rng.integers(0, 3, n)
    return {"a": a, "b": b, "c": c}, {"a": 4, "b": 4, "c": 3}
