"""What every sink does with a run's rows, and the column formatting they share.

A sink writes whole tables in plan order inside one transaction; on any error it rolls back and
raises :class:`WriteError` naming the table and the database's reason.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dbsynth.copy_text import to_text
from dbsynth.graph import Plan
from dbsynth.schema.model import Column, Composite, Schema, Table, TypeKind

__all__ = ["Sink", "WriteOptions", "WriteReport", "gather", "physical", "written_columns"]

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class WriteOptions:
    truncate: bool = False
    create_schema: bool = False
    batch_size: int = 10_000


@dataclass(frozen=True)
class WriteReport:
    rows: Mapping[str, int]
    seconds: float


def written_columns(table: Table, frame: pd.DataFrame) -> list[Column]:
    """The columns a sink writes: generated ones never, and only those the generator produced."""
    return [c for c in table.writable_columns if c.name in frame.columns]


_PLAIN_FIELD = r'^[^,()"\\\s]+$'


def composite_text(table: Table, comp: Composite, frame: pd.DataFrame) -> pd.Series:
    """The composite values of ``comp`` as PostgreSQL reads them (``(51.5,-0.12)``), from its field
    columns: a field that needs it double-quoted, a NULL field empty, NULL where every field is NULL
    and the column is nullable. Vectorised per field."""
    n = len(frame)
    text = pd.Series([""] * n, dtype=object)
    all_null = np.ones(n, dtype=bool)
    for i, (field, _) in enumerate(comp.fields):
        col = table.column(comp.sub(field))
        values = to_text(col, frame[col.name]).reset_index(drop=True) if col.name in frame.columns \
            else pd.Series([None] * n, dtype=object)
        null = values.isna().to_numpy()
        all_null &= null
        if col.type.kind is TypeKind.JSON:
            values = values.map(json.dumps, na_action="ignore")
        words = values.astype(object).where(~null, "").astype(str)
        plain = words.str.match(_PLAIN_FIELD).to_numpy() | null
        quoted = '"' + words.str.replace("\\", "\\\\", regex=False).str.replace('"', '\\"', regex=False) + '"'
        text = text + ("," if i else "") + words.where(plain, quoted)
    out = "(" + text + ")"
    return out.where(~(all_null & comp.nullable), None)


def physical(schema: Schema, frames: Mapping[str, pd.DataFrame]) -> tuple[Schema, dict[str, pd.DataFrame]]:
    """The schema and rows as the database has them: each composite's field columns put back
    together into the composite column (see :meth:`Table.physical`). Sinks write this."""
    out = dict(frames)
    for table in schema.tables:
        if not table.composites or table.key not in frames:
            continue
        whole = frames[table.key].reset_index(drop=True).copy()
        for comp in table.composites:
            whole[comp.columns[0]] = composite_text(table, comp, whole)
            whole = whole.drop(columns=[c for c in comp.columns[1:] if c in whole.columns])
            whole = whole.rename(columns={comp.columns[0]: comp.column})
        out[table.key] = whole
    return schema.physical(), out


class Sink(ABC):
    """Writes a run's frames to one destination."""

    @abstractmethod
    def write(self, schema: Schema, plan: Plan, frames: Mapping[str, pd.DataFrame], *,
              options: WriteOptions, progress: Progress | None = None) -> WriteReport: ...

    def write_batches(self, schema: Schema, plan: Plan, batches: Iterable[tuple[str, pd.DataFrame]], *,
                      options: WriteOptions, progress: Progress | None = None) -> WriteReport:
        """Rows that arrive as batches, several per table and in any order (a partitioned run, see
        :mod:`dbsynth.partition`): gathered per table and written whole, unless the sink streams."""
        return self.write(schema, plan, gather(batches, plan.order), options=options, progress=progress)


def gather(batches: Iterable[tuple[str, pd.DataFrame]], order: Iterable[str]) -> dict[str, pd.DataFrame]:
    """Each table's batches as one frame, in ``order`` (tables without a batch left out)."""
    parts: dict[str, list[pd.DataFrame]] = {}
    for key, frame in batches:
        parts.setdefault(key, []).append(frame)
    return {k: pd.concat(parts[k], ignore_index=True) for k in order if k in parts}
