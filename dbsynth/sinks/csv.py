"""CSV sink: one ``<table>.csv`` per table with a header row, for pipelines that load elsewhere."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from dbsynth.errors import TargetNotEmptyError
from dbsynth.graph import Plan
from dbsynth.schema.model import Schema
from dbsynth.sinks.base import Progress, Sink, WriteOptions, WriteReport, to_text, written_columns

__all__ = ["CsvSink"]


class CsvSink(Sink):
    """Writes ``directory/<table>.csv``; NULL is an empty field."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def write(self, schema: Schema, plan: Plan, frames: Mapping[str, pd.DataFrame], *,
              options: WriteOptions, progress: Progress | None = None) -> WriteReport:
        start = time.perf_counter()
        self.directory.mkdir(parents=True, exist_ok=True)
        paths = {k: self.directory / f"{k}.csv" for k in plan.order}
        existing = [str(p) for p in paths.values() if p.exists()]
        if existing and not options.truncate:
            raise TargetNotEmptyError(f"{', '.join(existing)} already exist; pass --truncate to "
                                      "overwrite them")
        for key in plan.order:
            table = schema.table(key)
            frame = frames[key]
            cols = written_columns(table, frame)
            out = pd.DataFrame({c.name: to_text(c, frame[c.name]) for c in cols})
            tmp = paths[key].with_suffix(".csv.tmp")
            out.to_csv(tmp, index=False)
            tmp.replace(paths[key])
            if progress:
                progress(key, len(frame))
        return WriteReport({k: len(frames[k]) for k in plan.order}, time.perf_counter() - start)
