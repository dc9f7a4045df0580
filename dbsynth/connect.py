"""Turn a database URL into a working SQLAlchemy engine, or a one-line error saying why not.

Users type ``postgresql://…`` and ``mysql://…``; we map those to the drivers dbsynth installs
(psycopg 3, PyMySQL) so that they never meet SQLAlchemy's default-driver surprises.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from dbsynth.errors import ConnectError

__all__ = ["create_engine", "normalise_url", "redact"]

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


def create_engine(url: str | URL, *, check: bool = True, create: bool = False) -> Engine:
    """An engine for ``url``; with ``check`` it opens one connection so bad URLs fail here.

    An SQLite file that does not exist is an error unless ``create`` (``--create-schema``): SQLite
    would silently create an empty one, and a mistyped path would look like an empty database.
    """
    parsed = normalise_url(url)
    path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if path and path != ":memory:" and not path.startswith("file:") and not create and not Path(path).exists():
        raise ConnectError(f"no SQLite database at {path}: check the path (pass --create-schema to create "
                           "a new file from --schema-from)")
    try:
        engine = sa.create_engine(parsed)
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
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise ConnectError(f"cannot connect to {redact(parsed)}: {reason}") from exc
    return engine
