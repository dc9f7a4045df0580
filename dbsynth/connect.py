"""Turn a database URL into a working SQLAlchemy engine, or a one-line error saying why not.

Users type ``postgresql://…`` and ``mysql://…``; we map those to the drivers dbsynth installs
(psycopg 3, PyMySQL) so that they never meet SQLAlchemy's default-driver surprises.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from dbsynth.errors import ConnectError, UsageError, database_reason

__all__ = ["DEFAULT_LOCK_TIMEOUT", "create_engine", "lock_args", "normalise_url", "redact"]

DEFAULT_LOCK_TIMEOUT = 30.0  # seconds a statement waits for another session's lock before giving up

_DEFAULT_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
_EXTRAS = {"pymysql": "dbsynth[mysql]", "psycopg": "dbsynth", "psycopg2": "psycopg2-binary"}


def normalise_url(url: str | URL) -> URL:
    """Parse ``url`` and pick dbsynth's driver for a bare ``postgresql://``/``mysql://`` scheme."""
    if isinstance(url, str) and url.partition("://")[2].split("/", 1)[0].count("@") > 1:
        # user:p@ss@host parses as password 'p' at host 'ss@host': echoing it would leak part of it
        raise ConnectError("the database URL's user or password contains '@': percent-encode it as %40 "
                           "(e.g. postgresql://app:p%40ss@host/db)")
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError as exc:
        raise ConnectError(
            f"malformed database URL {url!r}: expected e.g. postgresql://user@host:5432/dbname "
            "or sqlite:///path/to/file.db"
        ) from exc
    if parsed.drivername in _DEFAULT_DRIVERS:
        parsed = parsed.set(drivername=_DEFAULT_DRIVERS[parsed.drivername])
    return parsed


def redact(url: str | URL) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        return normalise_url(url).render_as_string(hide_password=True)
    except ConnectError:
        return "<malformed URL>"


def lock_args(backend: str, seconds: float) -> dict[str, object]:
    """Driver arguments that bound every wait for a lock to ``seconds``: PostgreSQL's
    ``lock_timeout``, MariaDB/MySQL's ``lock_wait_timeout`` (metadata locks: DDL, LOCK TABLES) and
    ``innodb_lock_wait_timeout`` (row locks), SQLite's busy timeout. Without them a run that meets an
    idle transaction holding one of its tables waits forever, and says nothing."""
    if backend == "postgresql":
        return {"options": f"-c lock_timeout={max(round(seconds * 1000), 1)}"}
    if backend in ("mysql", "mariadb"):
        whole = max(round(seconds), 1)
        return {"init_command": f"SET SESSION lock_wait_timeout = {whole}, SESSION innodb_lock_wait_timeout = {whole}"}
    if backend == "sqlite":
        return {"timeout": seconds}
    return {}


def create_engine(url: str | URL, *, check: bool = True, create: bool = False,
                  lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Engine:
    """An engine for ``url``; with ``check`` it opens one connection so bad URLs fail here.

    An SQLite file that does not exist is an error unless ``create`` (``--create-schema``): SQLite
    would silently create an empty one, and a mistyped path would look like an empty database.
    Every connection waits at most ``lock_timeout`` seconds for a lock (see :func:`lock_args`).
    """
    if not (lock_timeout > 0 and lock_timeout < 10**6):
        raise UsageError(f"--lock-timeout must be a positive number of seconds (got {lock_timeout})")
    parsed = normalise_url(url)
    path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if path and path != ":memory:" and not path.startswith("file:") and not create and not Path(path).exists():
        raise ConnectError(f"no SQLite database at {path}: check the path (pass --create-schema to create "
                           "a new file from --schema-from)")
    try:
        engine = sa.create_engine(parsed, connect_args=lock_args(parsed.get_backend_name(), lock_timeout))
    except NoSuchModuleError as exc:
        raise ConnectError(
            f"unknown database kind {parsed.drivername!r} in {redact(parsed)}: dbsynth supports "
            "postgresql://, mysql:// (MariaDB too) and sqlite://"
        ) from exc
    except ModuleNotFoundError as exc:
        extra = _EXTRAS.get(exc.name or "", exc.name)
        raise ConnectError(
            f"the driver for {parsed.get_backend_name()} ({exc.name}) is not installed: "
            f"pip install '{extra}'"
        ) from exc
    if check:
        try:
            with engine.connect():
                pass
        except OperationalError as exc:
            engine.dispose()
            raise ConnectError(f"cannot connect to {redact(parsed)}: {database_reason(exc)}") from exc
    return engine
