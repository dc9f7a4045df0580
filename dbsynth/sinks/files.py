"""File sinks for pipelines that load elsewhere: one file per table in ``csv`` or ``parquet``, or
one ``data.sql`` script (INSERTs in insertion order, cycles closed by UPDATEs at the end, all in one
transaction: ``psql -f out/data.sql``).

Files are written to a temporary name and renamed, so a failed run leaves no half-written file.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
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
        if self.format != "sql":
            return self.write_batches(schema, plan, ((k, frames[k]) for k in plan.order), options=options,
                                      progress=progress)
        start = time.perf_counter()
        self._prepare(plan, options)
        texts = {key: _texts(schema.table(key), frames[key]) for key in plan.order}
        tmp = self.directory / "data.sql.tmp"
        tmp.write_text(_script(schema, plan, texts), encoding="utf-8")
        tmp.replace(self.directory / "data.sql")
        for key in plan.order:
            if progress:
                progress(key, len(frames[key]))
        return WriteReport({k: len(frames[k]) for k in plan.order}, time.perf_counter() - start)

    def write_batches(self, schema: Schema, plan: Plan, batches: Iterable[tuple[str, pd.DataFrame]], *,
                      options: WriteOptions, progress: Progress | None = None) -> WriteReport:
        """CSV and Parquet files grow batch by batch under a temporary name (renamed once every batch
        is in), so a partitioned run streams to them; a SQL script is written whole."""
        if self.format == "sql":
            return super().write_batches(schema, plan, batches, options=options, progress=progress)
        import pyarrow as pa
        import pyarrow.parquet as pq

        start = time.perf_counter()
        self._prepare(plan, options)
        tmps = {k: self.directory / f"{k}.{self.format}.tmp" for k in plan.order}
        rows: dict[str, int] = {}
        writers: dict[str, pq.ParquetWriter] = {}
        try:
            for key, frame in batches:
                text = _texts(schema.table(key), frame)
                if self.format == "csv":
                    text.to_csv(tmps[key], index=False, header=key not in rows, mode="a" if key in rows else "w")
                else:
                    arrow = pa.Table.from_pandas(text, preserve_index=False)
                    if key not in writers:  # a column NULL in the first batch is text in the file
                        fields = [pa.field(f.name, pa.string() if pa.types.is_null(f.type) else f.type)
                                  for f in arrow.schema]
                        writers[key] = pq.ParquetWriter(tmps[key], pa.schema(fields))
                    writers[key].write_table(arrow.cast(writers[key].schema))
                rows[key] = rows.get(key, 0) + len(frame)
                if progress:
                    progress(key, len(frame))
            for w in writers.values():
                w.close()
            for key in plan.order:
                if key not in rows:  # no batch at all: the table's header, or an empty Parquet file
                    empty = _texts(schema.table(key), pd.DataFrame(columns=[c.name for c in
                                                                           schema.table(key).writable_columns]))
                    if self.format == "csv":
                        empty.to_csv(tmps[key], index=False)
                    else:
                        empty.to_parquet(tmps[key], index=False)
                tmps[key].replace(self.directory / f"{key}.{self.format}")
        except BaseException:
            for w in writers.values():
                w.close()
            for tmp in tmps.values():
                tmp.unlink(missing_ok=True)
            raise
        return WriteReport({k: rows.get(k, 0) for k in plan.order}, time.perf_counter() - start)

    def _prepare(self, plan: Plan, options: WriteOptions) -> None:
        """The directory exists, and holds none of the run's files unless ``--truncate``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        names = [f"{k}.{self.format}" for k in plan.order] if self.format != "sql" else ["data.sql"]
        existing = [str(self.directory / n) for n in names if (self.directory / n).exists()]
        if existing and not options.truncate:
            raise TargetNotEmptyError(f"{', '.join(existing)} already exist; pass --truncate to "
                                      "overwrite them")


def _texts(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """The columns a file holds, as text (see :func:`to_text`)."""
    return pd.DataFrame({c.name: to_text(c, frame[c.name]) for c in written_columns(table, frame)})


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
