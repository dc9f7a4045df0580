"""What a seeded test database is made of, and how a template gets its rows."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings", "fill"]


@dataclass(frozen=True)
class Settings:
    """Everything that decides a seeded database's rows (resolved once per test)."""

    model: str | None
    ddl: str | None
    schema_only: bool
    rows: tuple[tuple[str, int], ...]
    default_rows: int
    scale: float
    seed: int
    locale: str
    where: tuple[str, ...] = ()  # a scenario (see dbsynth.scenarios)
    boost: tuple[str, ...] = ()

    def key(self) -> str:
        """A short digest of the settings and the files' modification times: names a template."""
        stamp = [os.path.getmtime(p) for p in (self.model, self.ddl) if p]
        text = json.dumps([self.__dict__, stamp], sort_keys=True, default=str)
        return hashlib.sha1(text.encode()).hexdigest()[:10]


def fill(url: str, s: Settings, run_ddl: Callable[[str], None]) -> dict[str, int]:
    """Create the schema (the DDL file, else the model's tables) and seed it; rows per table."""
    from dbsynth import load
    from dbsynth.connect import create_engine
    from dbsynth.errors import UsageError
    from dbsynth.pipeline import seed, write_model
    from dbsynth.sinks.target import create_schema, refuse_existing

    if s.ddl:
        run_ddl(Path(s.ddl).read_text(encoding="utf-8"))
    model = load(s.model) if s.model else None
    if model is not None and not s.schema_only:
        result = write_model(model, url, rows=dict(s.rows), scale=s.scale, seed=s.seed, locale=s.locale,
                             create_schema=not s.ddl, where=s.where, boost=s.boost)
    else:
        if model is not None and not s.ddl:
            engine = create_engine(url)
            with engine.begin() as conn:
                refuse_existing(conn, model.schema)
                create_schema(conn, model.schema)
            engine.dispose()
        if s.boost:
            raise UsageError(f"boost={list(s.boost)} needs a model: a schema-only database has no learned shares")
        result = seed(url, rows=dict(s.rows), default_rows=s.default_rows, seed=s.seed, locale=s.locale,
                      where=s.where)
    return dict(result.rows)
