"""pytest plugin: a realistic, deterministic, seeded database per test.

``seeded()`` is a fixture factory in pytest-postgresql's style. The first test that asks for a
fixture with a given configuration seeds a *template* once (per pytest session and xdist worker);
every test then starts from that seeded state, cheaply: a file copy on SQLite (no server needed);
on PostgreSQL a working copy refilled after each test (see :class:`_PgDatabase`), or with
``isolation="clone"`` a ``CREATE DATABASE … TEMPLATE …`` per test::

    # conftest.py
    from dbsynth.pytest import seeded

    shop_db = seeded("sqlite", model="tests/shop.dbsynth", scale=0.1)
    pg_shop = seeded("postgresql_noproc", ddl="schema.sql", schema_only=True, rows={"customer": 20})

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
import json
import os
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dbsynth.errors import UsageError

__all__ = ["SeededDatabase", "seeded"]

DEFAULT_ROWS = 100  # per table, schema-only, when rows is not given
_SEED = pytest.StashKey[int]()
_TEMPLATES = pytest.StashKey["_Templates"]()


@dataclass
class SeededDatabase:
    """One test's database: its URL, an engine (created on first use, disposed after the test) and
    the settings it was seeded with."""

    url: str
    seed: int
    rows: Mapping[str, int]
    _engine: sa.engine.Engine | None = field(default=None, repr=False)

    @property
    def engine(self) -> sa.engine.Engine:
        if self._engine is None:
            from dbsynth.connect import create_engine

            self._engine = create_engine(self.url)
        return self._engine

    def connect(self) -> sa.engine.Connection:
        return self.engine.connect()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


@dataclass(frozen=True)
class _Settings:
    model: str | None
    ddl: str | None
    schema_only: bool
    rows: tuple[tuple[str, int], ...]
    default_rows: int
    scale: float
    seed: int
    locale: str

    def key(self) -> str:
        stamp = [os.path.getmtime(p) for p in (self.model, self.ddl) if p]
        text = json.dumps([self.__dict__, stamp], sort_keys=True, default=str)
        return hashlib.sha1(text.encode()).hexdigest()[:10]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dbsynth", "seeded databases (dbsynth)")
    group.addoption("--dbsynth-seed", type=int, default=None,
                    help="Seed of every dbsynth database (default: dbsynth_seed in the ini file, else random)")
    group.addoption("--dbsynth-scale", type=float, default=None, help="Scale of model-based dbsynth databases")
    parser.addini("dbsynth_seed", "Seed of every dbsynth database (default: random, printed in the header)")
    parser.addini("dbsynth_scale", "Scale of model-based dbsynth databases (default 1)")
    parser.addini("dbsynth_locale", "Faker locale of generated names and addresses (default en_US)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "dbsynth(rows=None, seed=None, scale=None, schema_only=None): "
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
        self.made: dict[tuple[str, str], tuple[str, dict[str, int]]] = {}  # → (template, rows per table)
        self.drops: list[Callable[[], None]] = []
        self.pg: dict[tuple[str, str], _PgDatabase] = {}

    def close(self) -> None:
        for drop in reversed(self.drops):
            drop()


@pytest.fixture(scope="session")
def _dbsynth_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    templates = _Templates(tmp_path_factory.mktemp("dbsynth"), worker)
    yield templates
    templates.close()


def _resolve(request: pytest.FixtureRequest, factory: dict[str, Any]) -> _Settings:
    config = request.config
    marker = request.node.get_closest_marker("dbsynth")
    mark = dict(marker.kwargs) if marker else {}
    unknown = set(mark) - {"rows", "seed", "scale", "schema_only"}
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
    return _Settings(
        model=model, ddl=path(factory.get("ddl")), schema_only=schema_only,
        rows=tuple(sorted((str(k), int(v)) for k, v in per_table.items())),
        default_rows=counts[-1] if counts else DEFAULT_ROWS,
        scale=float(pick("scale", "dbsynth_scale", "dbsynth_scale", 1.0)),
        seed=int(pick("seed", None, None, config.stash[_SEED])),
        locale=str(pick("locale", None, "dbsynth_locale", "en_US")))


def _fill(url: str, s: _Settings, run_ddl: Callable[[str], None]) -> dict[str, int]:
    """Create the schema (the DDL file, else the model's tables) and seed it; rows per table."""
    from dbsynth import load
    from dbsynth.connect import create_engine
    from dbsynth.pipeline import seed, write_model
    from dbsynth.sinks.target import create_schema

    if s.ddl:
        run_ddl(Path(s.ddl).read_text(encoding="utf-8"))
    model = load(s.model) if s.model else None
    if model is not None and not s.schema_only:
        result = write_model(model, url, rows=dict(s.rows), scale=s.scale, seed=s.seed, locale=s.locale,
                             create_schema=not s.ddl)
    else:
        if model is not None and not s.ddl:
            engine = create_engine(url)
            with engine.begin() as conn:
                create_schema(conn, model.schema)
            engine.dispose()
        result = seed(url, rows=dict(s.rows), default_rows=s.default_rows, seed=s.seed, locale=s.locale)
    return dict(result.rows)


def _sqlite(templates: _Templates, s: _Settings, test_dir: Path) -> tuple[str, dict[str, int]]:
    key = ("sqlite", s.key())
    if key not in templates.made:
        path = templates.tmp / f"template-{s.key()}.sqlite"

        def run_ddl(sql: str) -> None:
            with sqlite3.connect(path) as db:
                db.executescript(sql)

        templates.made[key] = (str(path), _fill(f"sqlite:///{path}", s, run_ddl))
    copy = test_dir / "dbsynth.sqlite"
    shutil.copyfile(templates.made[key][0], copy)
    return f"sqlite:///{copy}", templates.made[key][1]


_USER_TABLES = """
    SELECT format('%I.%I', n.nspname, c.relname), format('%I', n.nspname || '.' || c.relname),
           string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbsynth_pristine') AND n.nspname NOT LIKE 'pg_%'
    GROUP BY 1, 2 ORDER BY 1"""
_ALL_TABLES = """
    SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbsynth_pristine')
      AND n.nspname NOT LIKE 'pg_%'"""
_PRISTINE = """
    CREATE SCHEMA dbsynth_pristine;
    CREATE UNLOGGED TABLE dbsynth_pristine.dirty (relation text PRIMARY KEY);
    CREATE FUNCTION dbsynth_pristine.mark_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO dbsynth_pristine.dirty
        SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = coalesce(pg_partition_root(TG_RELID), TG_RELID)
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$"""
_FINGERPRINT = """
    SELECT md5(coalesce(string_agg(concat_ws(':', c.oid, c.relname, c.relkind, a.attname, a.atttypid, a.attnotnull),
                                   ',' ORDER BY c.oid, a.attnum), ''))
      || (SELECT count(*) FROM pg_constraint)::text || (SELECT count(*) FROM pg_trigger)::text
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"""


class _PgDatabase:
    """A seeded template and, for ``isolation="reset"``, one working copy per worker that is put
    back to the seeded state after every test: the tables the test wrote to (statement-level
    triggers list them) are emptied and refilled from a pristine copy (schema ``dbsynth_pristine``,
    made in the template) and sequences set back — about a millisecond after a read-only test and
    tens of milliseconds after one that rewrote 10k rows, where ``CREATE DATABASE … TEMPLATE`` costs
    ~200 ms on a server that fsyncs. A test that changed the schema gets a fresh clone instead."""

    def __init__(self, proc: Any, key: str, worker: str, s: _Settings) -> None:
        import psycopg

        self.conninfo = dict(host=proc.host, port=proc.port, user=proc.user, password=proc.password or None)
        self.maintenance = getattr(proc, "maintenance_dbname", None) or "postgres"
        self.base = f"postgresql://{proc.user}{':' + proc.password if proc.password else ''}@{proc.host}:{proc.port}/"
        self.template, self.work = f"dbsynth_tpl_{key}_{worker}", f"dbsynth_{key}_{worker}"
        self.clones: list[str] = []
        with self._admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{self.template}"')

        def run_ddl(sql: str) -> None:
            with psycopg.connect(dbname=self.template, autocommit=True, **self.conninfo) as conn:
                conn.execute(sql.encode())  # no parameters: the whole script in one go

        self.rows = _fill(self.base + self.template, s, run_ddl)
        with psycopg.connect(dbname=self.template, autocommit=True, **self.conninfo) as conn:
            # refilling turns FK triggers off (session_replication_role), which takes a superuser;
            # for other roles every test gets a clone instead
            self.can_reset = bool(conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                                  .fetchall()[0][0])
            self.tables = {r[0]: (r[1], r[2]) for r in conn.execute(_USER_TABLES).fetchall()}
            conn.execute(_PRISTINE)
            for table, (copy, cols) in self.tables.items():
                conn.execute(f"CREATE TABLE dbsynth_pristine.{copy} AS SELECT {cols} FROM {table}")
            for (relation,) in conn.execute(_ALL_TABLES).fetchall():
                conn.execute(f"CREATE TRIGGER dbsynth_dirty AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                             f"ON {relation} FOR EACH STATEMENT EXECUTE FUNCTION dbsynth_pristine.mark_dirty()")
            names = [r[0] for r in conn.execute("SELECT format('%I.%I', schemaname, sequencename) "
                                                  "FROM pg_sequences").fetchall()]
            # read from each sequence itself: pg_sequences shows NULL for a sequence set with is_called false
            self.sequences = [(n, *conn.execute(f"SELECT last_value, is_called FROM {n}").fetchall()[0])
                              for n in names]
        self.conn: Any = None

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(dbname=self.maintenance, autocommit=True, **self.conninfo)

    def clone(self, name: str) -> str:
        with self._admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.clones.append(name)
        return self.base + name

    def checkout(self) -> str:
        """The working copy, in its seeded state."""
        import psycopg

        if self.conn is None:
            self.clone(self.work)
            self.conn = psycopg.connect(dbname=self.work, **self.conninfo)
            self.fingerprint = self.conn.execute(_FINGERPRINT).fetchone()[0]
            self.conn.commit()
        return self.base + self.work

    def reset(self) -> None:
        """Back to the seeded state after a test (other sessions on the copy are ended first); on
        any failure the copy is dropped and the next test gets a fresh clone."""
        try:
            self._refill()
        except Exception:
            self.conn.close()
            self.conn = None
            with self._admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.work}" WITH (FORCE)')
            raise

    def _refill(self) -> None:
        conn = self.conn
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        if conn.execute(_FINGERPRINT).fetchone()[0] != self.fingerprint:
            conn.rollback()
            conn.close()
            self.conn = None  # the next checkout clones afresh
            return
        # only the tables a test wrote to (statement triggers listed them), FK triggers off meanwhile
        dirty = [t for (t,) in conn.execute("DELETE FROM dbsynth_pristine.dirty RETURNING relation").fetchall()]
        conn.execute("SET LOCAL session_replication_role = replica")
        for table in (t for t in dirty if t in self.tables):
            copy, cols = self.tables[table]
            conn.execute(f"DELETE FROM {table}")
            conn.execute(f"INSERT INTO {table} ({cols}) OVERRIDING SYSTEM VALUE "
                         f"SELECT {cols} FROM dbsynth_pristine.{copy}")
        for seq, value, called in self.sequences:
            conn.execute("SELECT setval(%s, %s, %s)", (seq, value, called))
        conn.commit()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        with self._admin() as admin:
            for name in [*self.clones, self.template]:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres(templates: _Templates, s: _Settings, proc: Any, isolation: str, test_name: str
              ) -> tuple[str, dict[str, int], Callable[[], None]]:
    key = ("postgresql", s.key())
    if key not in templates.made:
        db = _PgDatabase(proc, s.key(), templates.worker, s)
        templates.pg[key] = db
        templates.drops.append(db.close)
        templates.made[key] = (db.template, db.rows)
    db = templates.pg[key]
    if isolation == "clone" or not db.can_reset:
        name = f"dbsynth_{templates.worker}_{hashlib.sha1(test_name.encode()).hexdigest()[:12]}"
        url = db.clone(name)

        def drop() -> None:
            with db._admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            db.clones.remove(name)

        return url, db.rows, drop
    return db.checkout(), db.rows, db.reset


def seeded(backend: str = "sqlite", *, model: str | Path | None = None, ddl: str | Path | None = None,
           schema_only: bool | None = None, rows: int | Mapping[str, int] | None = None,
           scale: float | None = None, seed: int | None = None, locale: str | None = None,
           isolation: str = "reset") -> Callable[..., Iterator[SeededDatabase]]:
    """A function-scoped fixture giving each test its own seeded database.

    ``backend``: ``"sqlite"``, or the name of a pytest-postgresql process fixture
    (``"postgresql_proc"``, ``"postgresql_noproc"`` or your own). ``model``: a model file written by
    ``dbsynth fit``; ``ddl``: an SQL file that creates the tables (default: the model's tables).
    ``schema_only`` (default: no model) seeds from the schema alone, ``rows`` rows per table (an int)
    or per named table. Relative paths are relative to pytest's rootdir. ``isolation`` (PostgreSQL):
    ``"reset"`` refills one working copy after each test (milliseconds; a test that changes the
    schema gets a fresh copy), ``"clone"`` gives every test its own ``CREATE DATABASE … TEMPLATE``.
    """
    if isolation not in ("reset", "clone"):
        raise UsageError(f"isolation={isolation!r}: choose 'reset' or 'clone'")
    factory = {"model": model, "ddl": ddl, "schema_only": schema_only, "rows": rows, "scale": scale,
               "seed": seed, "locale": locale}

    @pytest.fixture
    def dbsynth_database(request: pytest.FixtureRequest, _dbsynth_templates: _Templates,
                         tmp_path: Path) -> Iterator[SeededDatabase]:
        settings = _resolve(request, factory)
        cleanup: Callable[[], None] | None = None
        if backend == "sqlite":
            url, counts = _sqlite(_dbsynth_templates, settings, tmp_path)
        else:
            url, counts, cleanup = _postgres(_dbsynth_templates, settings, request.getfixturevalue(backend),
                                             isolation, request.node.nodeid)
        db = SeededDatabase(url, settings.seed, counts)
        try:
            yield db
        finally:
            db.close()
            if cleanup is not None:
                cleanup()

    return dbsynth_database
