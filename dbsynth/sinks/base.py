"""What every sink does with a run's rows, and the column formatting they share.

A sink writes whole tables in plan order inside one transaction; on any error it rolls back and
raises :class:`WriteError` naming the table and the database's reason.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from dbsynth.graph import Plan
from dbsynth.schema.model import Column, Schema, Table, TypeKind

__all__ = ["Sink", "WriteOptions", "WriteReport", "written_columns"]

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
