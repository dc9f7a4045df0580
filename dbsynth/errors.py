"""The one exception root of dbsynth and its subclasses.

Every error a user can meet is a :class:`DbsynthError` whose message names what failed (table,
column, URL) and says what to do, so the CLI can print it as one line without a traceback.
"""

from __future__ import annotations

__all__ = [
    "ConnectError",
    "ConstraintError",
    "DbsynthError",
    "DriftError",
    "ModelFileError",
    "TargetNotEmptyError",
    "UnsupportedTypeError",
    "UsageError",
    "WriteError",
    "database_reason",
]


def database_reason(exc: BaseException) -> str:
    """The first line of what the database driver said (SQLAlchemy wraps it as ``exc.orig``): the
    part of a database error a one-line message quotes."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class DbsynthError(Exception):
    """Root of every error dbsynth raises on purpose."""


class UsageError(DbsynthError):
    """Bad arguments: an unknown table in ``--rows``, a negative count, a malformed option."""


class ConnectError(DbsynthError):
    """A database URL that is malformed, unreachable, or whose driver is not installed."""


class UnsupportedTypeError(DbsynthError):
    """A column whose type dbsynth cannot generate and that has neither a default nor NULL."""


class ConstraintError(DbsynthError):
    """Generated rows that cannot be made to satisfy a constraint; nothing was written."""


class TargetNotEmptyError(DbsynthError):
    """The target already holds rows and ``--truncate`` was not given."""


class WriteError(DbsynthError):
    """Writing to the target failed; the transaction was rolled back."""


class DriftError(DbsynthError):
    """The target's schema changed in a way the model cannot follow; refit or migrate."""


class ModelFileError(UsageError):
    """A model file that is missing, damaged, or written by a newer dbsynth: an input error."""
