"""pytest plugin: a realistic, deterministic, seeded database per test.

``seeded()`` is a fixture factory in pytest-postgresql's style. The first test that asks for a
fixture with a given configuration seeds a *template* once (per pytest session and xdist worker);
every test then starts from that seeded state, cheaply: a file copy on SQLite (no server needed);
on PostgreSQL a working copy refilled after each test (see
:class:`~dbsynth.testing.postgres.PostgresTemplate`), or with ``isolation="clone"`` a ``CREATE
DATABASE … TEMPLATE …`` per test; on MySQL/MariaDB the seeded database, refilled after each test
(:class:`~dbsynth.testing.mysql.MySqlTemplate`)::

    # conftest.py
    from dbsynth.pytest import seeded

    shop_db = seeded("sqlite", model="tests/shop.dbsynth", scale=0.1)
    pg_shop = seeded("postgresql_noproc", ddl="schema.sql", schema_only=True, rows={"customer": 20})
    my_shop = seeded("mysql://root@127.0.0.1:3306", ddl="schema.mysql.sql")

    # test_checkout.py
    @pytest.mark.dbsynth(rows={"order": 5}, seed=7)   # per-test override (another template)
    def test_checkout(shop_db):
        with shop_db.engine.connect() as conn: ...

Settings resolve once, highest first: the ``dbsynth`` marker, the factory's arguments, the command
line (``--dbsynth-seed``, ``--dbsynth-scale``), the ini file (``dbsynth_seed``, ``dbsynth_scale``).
Without any, the session draws a seed and prints it in the header, so a failure is reproduced with
``pytest --dbsynth-seed N``; every xdist worker uses the controller's seed.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dbsynth.errors import UsageError
from dbsynth.testing.mysql import MySqlTemplate
from dbsynth.testing.postgres import PostgresTemplate
from dbsynth.testing.seeding import Settings, fill
from dbsynth.testing.server import Server

Template = PostgresTemplate | MySqlTemplate

__all__ = ["SeededDatabase", "seeded"]

DEFAULT_ROWS = 100  # per table, schema-only, when rows is not given
_SEED = pytest.StashKey[int]()


@dataclass
class SeededDatabase:
    """One test's database: its URL, an engine and a connection (each made on first use, closed after
    the test), the seed it was made with and its rows per table."""

    url: str
    seed: int
    rows: Mapping[str, int]
    _engine: sa.engine.Engine | None = field(default=None, repr=False)
    _connection: sa.engine.Connection | None = field(default=None, repr=False)

    @property
    def connection(self) -> sa.engine.Connection:
        """One connection for the test (autocommit off: call ``commit()`` to keep changes visible to
        other connections)."""
        if self._connection is None:
            self._connection = self.engine.connect()
        return self._connection

    @property
    def engine(self) -> sa.engine.Engine:
        if self._engine is None:
            from dbsynth.connect import create_engine

            self._engine = create_engine(self.url)
        return self._engine

    def connect(self) -> sa.engine.Connection:
        return self.engine.connect()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dbsynth", "seeded databases (dbsynth)")
    group.addoption("--dbsynth-seed", type=int, default=None,
                    help="Seed of every dbsynth database (default: dbsynth_seed in the ini file, else random)")
    group.addoption("--dbsynth-scale", type=float, default=None, help="Scale of model-based dbsynth databases")
    parser.addini("dbsynth_seed", "Seed of every dbsynth database (default: random, printed in the header)")
    parser.addini("dbsynth_scale", "Scale of model-based dbsynth databases (default 1)")
    parser.addini("dbsynth_locale", "Faker locale of generated names and addresses (default en_US)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "dbsynth(rows=None, seed=None, scale=None, schema_only=None, where=None, "
                                       "boost=None): "
                                       "per-test settings of a dbsynth seeded database")
    worker = getattr(config, "workerinput", None)
    if worker is not None and "dbsynth_seed" in worker:
        seed = int(worker["dbsynth_seed"])
    elif config.getoption("dbsynth_seed") is not None:
        seed = int(config.getoption("dbsynth_seed"))
    elif config.getini("dbsynth_seed"):
        seed = int(config.getini("dbsynth_seed"))
    else:
        seed = secrets.randbelow(2**31)
    config.stash[_SEED] = seed
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(seed), "dbsynth-xdist")


class _XdistHooks:
    """Hands the controller's seed to every xdist worker."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["dbsynth_seed"] = self.seed


def pytest_report_header(config: pytest.Config) -> str:
    seed = config.stash[_SEED]
    return f"dbsynth: seed {seed} (reproduce with --dbsynth-seed {seed})"


class _Templates:
    """Seeded templates of this session (and worker), by settings; dropped when the session ends."""

    def __init__(self, tmp: Path, worker: str) -> None:
        self.tmp, self.worker = tmp, worker
        self.made: dict[str, tuple[str, dict[str, int]]] = {}  # SQLite: settings key → (file, rows per table)
        self.servers: dict[tuple[str, str], Template] = {}  # (dialect, settings key) → its template
        self.drops: list[Callable[[], None]] = []

    def close(self) -> None:
        for drop in reversed(self.drops):
            drop()


@pytest.fixture(scope="session")
def _dbsynth_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    templates = _Templates(tmp_path_factory.mktemp("dbsynth"), worker)
    yield templates
    templates.close()


def _resolve(request: pytest.FixtureRequest, factory: dict[str, Any]) -> Settings:
    config = request.config
    marker = request.node.get_closest_marker("dbsynth")
    mark = dict(marker.kwargs) if marker else {}
    unknown = set(mark) - {"rows", "seed", "scale", "schema_only", "where", "boost"}
    if unknown:
        raise UsageError(f"@pytest.mark.dbsynth does not take {', '.join(sorted(unknown))}")

    def pick(name: str, cli: str | None, ini: str | None, default: Any) -> Any:
        for value in (mark.get(name), factory.get(name),
                      config.getoption(cli) if cli else None, config.getini(ini) or None if ini else None):
            if value is not None:
                return value
        return default

    root = config.rootpath

    def path(p: str | Path | None) -> str | None:
        return None if p is None else str((root / p) if not Path(p).is_absolute() else Path(p))

    # rows: an int is the default per table, a mapping names tables; the marker's win, key by key
    given = [r for r in (factory.get("rows"), mark.get("rows")) if r is not None]
    per_table = {k: v for r in given if isinstance(r, Mapping) for k, v in r.items()}
    counts = [r for r in given if isinstance(r, int)]
    model = path(factory.get("model"))
    schema_only = bool(pick("schema_only", None, None, model is None))
    if model is None and factory.get("ddl") is None:
        raise UsageError("dbsynth.pytest.seeded needs model= (a model file) or ddl= (an SQL schema file)")
    return Settings(
        model=model, ddl=path(factory.get("ddl")), schema_only=schema_only,
        rows=tuple(sorted((str(k), int(v)) for k, v in per_table.items())),
        default_rows=counts[-1] if counts else DEFAULT_ROWS,
        scale=float(pick("scale", "dbsynth_scale", "dbsynth_scale", 1.0)),
        seed=int(pick("seed", None, None, config.stash[_SEED])),
        locale=str(pick("locale", None, "dbsynth_locale", "en_US")),
        where=_strings(pick("where", None, None, ())), boost=_strings(pick("boost", None, None, ())))


def _strings(value: str | Iterable[str]) -> tuple[str, ...]:
    """One condition or several (a list, a tuple or a set, kept in a stable order)."""
    if isinstance(value, str):
        return (value,)
    return tuple(value) if isinstance(value, (list, tuple)) else tuple(sorted(value))


def _sqlite(templates: _Templates, s: Settings, test_dir: Path) -> tuple[str, dict[str, int]]:
    key = s.key()
    if key not in templates.made:
        path = templates.tmp / f"template-{s.key()}.sqlite"

        def run_ddl(sql: str) -> None:
            with sqlite3.connect(path) as db:
                db.executescript(sql)

        templates.made[key] = (str(path), fill(f"sqlite:///{path}", s, run_ddl))
    copy = test_dir / "dbsynth.sqlite"
    shutil.copyfile(templates.made[key][0], copy)
    return f"sqlite:///{copy}", templates.made[key][1]


def _server(templates: _Templates, s: Settings, backend: str, request: pytest.FixtureRequest, isolation: str
            ) -> tuple[str, dict[str, int], Callable[[], None]]:
    """A database on a server: ``backend`` is a server URL (``mysql://…``, ``postgresql://…``) or
    the name of a pytest-postgresql process fixture."""
    if "://" in backend:
        server, mysql = Server.from_url(backend), backend.split(":", 1)[0].split("+")[0] in ("mysql", "mariadb")
    else:
        server, mysql = Server.from_process(request.getfixturevalue(backend)), False
    key = ("mysql" if mysql else "postgresql", s.key())
    if key not in templates.servers:
        made: Template = (MySqlTemplate if mysql else PostgresTemplate)(server, s.key(), templates.worker, s)
        templates.servers[key] = made
        templates.drops.append(made.close)
    db = templates.servers[key]
    if isolation == "clone" or not db.can_reset:
        name = f"dbsynth_{templates.worker}_{hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]}"
        return db.clone(name), db.rows, lambda: db.drop(name)
    return db.checkout(), db.rows, db.reset


def seeded(backend: str = "sqlite", *, model: str | Path | None = None, ddl: str | Path | None = None,
           schema_only: bool | None = None, rows: int | Mapping[str, int] | None = None,
           scale: float | None = None, seed: int | None = None, locale: str | None = None,
           isolation: str = "reset", where: str | Iterable[str] | None = None,
           boost: str | Iterable[str] | None = None) -> Callable[..., Iterator[SeededDatabase]]:
    """A function-scoped fixture giving each test its own seeded database.

    ``backend``: ``"sqlite"``, the name of a pytest-postgresql process fixture
    (``"postgresql_proc"``, ``"postgresql_noproc"`` or your own), or a server URL
    (``"mysql://root@127.0.0.1:3306"``, ``"postgresql://postgres@localhost"``). ``model``: a model file written by
    ``dbsynth fit``; ``ddl``: an SQL file that creates the tables (default: the model's tables).
    ``schema_only`` (default: no model) seeds from the schema alone, ``rows`` rows per table (an int)
    or per named table. Relative paths are relative to pytest's rootdir. ``isolation`` (PostgreSQL):
    ``"reset"`` refills one working copy after each test (milliseconds; a test that changes the
    schema gets a fresh copy), ``"clone"`` gives every test its own ``CREATE DATABASE … TEMPLATE``.
    ``where`` (``"invoice.total > 20"``, one or several) and ``boost`` (``"invoice.status=cancelled:0.3"``)
    give a scenario, as ``dbsynth generate --where/--boost`` do; the marker's replace them.
    """
    if isolation not in ("reset", "clone"):
        raise UsageError(f"isolation={isolation!r}: choose 'reset' or 'clone'")
    factory = {"model": model, "ddl": ddl, "schema_only": schema_only, "rows": rows, "scale": scale,
               "seed": seed, "locale": locale, "where": where, "boost": boost}

    @pytest.fixture
    def dbsynth_database(request: pytest.FixtureRequest, _dbsynth_templates: _Templates,
                         tmp_path: Path) -> Iterator[SeededDatabase]:
        settings = _resolve(request, factory)
        cleanup: Callable[[], None] | None = None
        if backend == "sqlite":
            url, counts = _sqlite(_dbsynth_templates, settings, tmp_path)
        else:
            url, counts, cleanup = _server(_dbsynth_templates, settings, backend, request, isolation)
        db = SeededDatabase(url, settings.seed, counts)
        try:
            yield db
        finally:
            db.close()
            if cleanup is not None:
                cleanup()

    return dbsynth_database
