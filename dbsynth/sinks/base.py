"""What every sink does with a run's rows, and the column formatting they share.

A sink writes whole tables in plan order inside one transaction; on any error it rolls back and
raises :class:`WriteError` naming the table and the database's reason.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from dbsynth.graph import Plan
from dbsynth.schema.model import Column, Composite, Schema, Table, TypeKind

__all__ = ["Sink", "WriteOptions", "WriteReport", "physical", "written_columns"]

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


def to_text(col: Column, values: pd.Series) -> pd.Series:
    """Values as the text PostgreSQL's COPY and CSV readers expect (NULLs stay NA)."""
    kind = col.type.kind
    if kind in (TypeKind.DATE, TypeKind.DATETIME) and pd.api.types.is_datetime64_any_dtype(values):
        return _iso(values, date_only=kind is TypeKind.DATE)
    if kind is TypeKind.BINARY:
        return values.map(lambda b: None if b is None else "\\x" + bytes(b).hex(), na_action="ignore")
    if kind is TypeKind.INTEGER and values.dtype.kind == "f":
        return values.astype("Int64")
    return values


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


def _iso(values: pd.Series, *, date_only: bool) -> pd.Series:
    """ISO-8601 text through numpy (pandas' own datetime formatting is ~10x slower on big frames);
    tz-aware values are written in UTC with an explicit offset."""
    tz = getattr(values.dtype, "tz", None)
    naive = values.dt.tz_convert("UTC").dt.tz_localize(None) if tz is not None else values
    arr = naive.to_numpy(dtype="datetime64[us]")
    unit: Literal["D", "s", "us"]
    if date_only:
        unit = "D"
    else:
        whole = arr.astype("datetime64[s]")
        unit = "s" if (whole == arr)[~np.isnat(arr)].all() else "us"
    text = np.datetime_as_string(arr, unit=unit).astype(object)
    if tz is not None:
        text = text + "+00:00"
    text[np.isnat(arr)] = None
    return pd.Series(text, index=values.index, dtype=object)


class Sink(ABC):
    """Writes a run's frames to one destination."""

    @abstractmethod
    def write(self, schema: Schema, plan: Plan, frames: Mapping[str, pd.DataFrame], *,
              options: WriteOptions, progress: Progress | None = None) -> WriteReport: ...
