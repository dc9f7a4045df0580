"""File sinks for pipelines that load elsewhere: one file per table in ``csv`` or ``parquet``, or
one ``data.sql`` script (INSERTs in insertion order, cycles closed by UPDATEs at the end, all in one
transaction: ``psql -f out/data.sql``).

Files are written to a temporary name and renamed, so a failed run leaves no half-written file.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pandas as pd

from dbsynth.copy_text import to_text
from dbsynth.errors import TargetNotEmptyError, UsageError
from dbsynth.graph import BreakStrategy, Plan
from dbsynth.schema.model import Schema, Table
from dbsynth.sinks.base import Progress, Sink, WriteOptions, WriteReport, written_columns

__all__ = ["FORMATS", "CsvSink", "FileSink", "check_format"]

FORMATS = ("csv", "parquet", "sql")
INSERT_BATCH = 500


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _qualified(table: Table) -> str:
    return (_ident(table.schema) + "." if table.schema else "") + _ident(table.name)


def _literal(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return "'" + str(value).replace("'", "''") + "'"


def _rows(frame: pd.DataFrame) -> Iterator[str]:
    for row in frame.astype(object).itertuples(index=False, name=None):
        yield "(" + ", ".join(_literal(v) for v in row) + ")"


def check_format(format: str) -> None:
    if format not in FORMATS:
        raise UsageError(f"--format {format!r}: choose one of {', '.join(FORMATS)}")


class FileSink(Sink):
    """Writes ``directory/<table>.<format>``; NULL is an empty CSV field, a parquet null, SQL NULL."""

    def __init__(self, directory: str | Path, format: str = "csv") -> None:
        check_format(format)
        self.directory = Path(directory)
        self.format = format

    def write(self, schema: Schema, plan: Plan, frames: Mapping[str, pd.DataFrame], *,
              options: WriteOptions, progress: Progress | None = None) -> WriteReport:
        start = time.perf_counter()
        self.directory.mkdir(parents=True, exist_ok=True)
        names = [f"{k}.{self.format}" for k in plan.order] if self.format != "sql" else ["data.sql"]
        existing = [str(self.directory / n) for n in names if (self.directory / n).exists()]
        if existing and not options.truncate:
            raise TargetNotEmptyError(f"{', '.join(existing)} already exist; pass --truncate to "
                                      "overwrite them")
        texts = {key: pd.DataFrame({c.name: to_text(c, frames[key][c.name])
                                    for c in written_columns(schema.table(key), frames[key])})
                 for key in plan.order}
        if self.format == "sql":
            tmp = self.directory / "data.sql.tmp"
            tmp.write_text(_script(schema, plan, texts), encoding="utf-8")
            tmp.replace(self.directory / "data.sql")
        for key in plan.order:
            if self.format != "sql":
                tmp = self.directory / f"{key}.{self.format}.tmp"
                if self.format == "csv":
                    texts[key].to_csv(tmp, index=False)
                else:
                    texts[key].to_parquet(tmp, index=False)
                tmp.replace(self.directory / f"{key}.{self.format}")
            if progress:
                progress(key, len(frames[key]))
        return WriteReport({k: len(frames[k]) for k in plan.order}, time.perf_counter() - start)


def _script(schema: Schema, plan: Plan, texts: Mapping[str, pd.DataFrame]) -> str:
    """INSERTs in insertion order; the columns of a cycle-breaking FK go in NULL and are set by
    UPDATEs once every table is loaded (a NOT NULL cycle keeps its values: load such a script with
    FK checks off, as its database's own dumps are loaded)."""
    deferred = {(d.table, c) for d in plan.deferred if d.strategy is not BreakStrategy.CHECKED_AFTER_LOAD
                for c in d.fk.columns}
    lines, updates = ["BEGIN;"], []
    for key in plan.order:
        table, out = schema.table(key), texts[key]
        later = [c for c in out.columns if (key, c) in deferred]
        cols = ", ".join(_ident(c) for c in out.columns)
        rows = list(_rows(out.assign(**{c: None for c in later})))
        for i in range(0, len(rows), INSERT_BATCH):
            lines.append(f"INSERT INTO {_qualified(table)} ({cols}) VALUES\n  "
                         + ",\n  ".join(rows[i:i + INSERT_BATCH]) + ";")
        if later and table.primary_key:
            pk = list(table.primary_key.columns)
            for row in out.loc[out[later].notna().any(axis=1), pk + later].astype(object).itertuples(index=False):
                values = dict(zip(pk + later, row, strict=True))
                sets = ", ".join(f"{_ident(c)} = {_literal(values[c])}" for c in later)
                where = " AND ".join(f"{_ident(c)} = {_literal(values[c])}" for c in pk)
                updates.append(f"UPDATE {_qualified(table)} SET {sets} WHERE {where};")
    return "\n".join([*lines, *updates, "COMMIT;"]) + "\n"


class CsvSink(FileSink):
    """The ``csv`` entry point of ``dbsynth.sinks``."""

    def __init__(self, directory: str | Path) -> None:
        super().__init__(directory, "csv")
