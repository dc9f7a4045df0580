"""Column values as the text a database reads them from: PostgreSQL's COPY, CSV files, and the
scratch table the database checker fills (:mod:`dbsynth.rules.database`). Vectorised: dates through
numpy, no per-value Python except for bytes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dbsynth.schema.model import Column, TypeKind

__all__ = ["iso_bytes", "iso_column", "to_text"]


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
    """ISO-8601 text (:func:`iso_bytes`) as Python strings; NULL stays NULL."""
    raw, null = iso_column(values, date_only=date_only)
    text = raw.astype(f"U{raw.dtype.itemsize}").astype(object)
    text[null] = None
    return pd.Series(text, index=values.index, dtype=object)


def iso_column(values: pd.Series, *, date_only: bool) -> tuple[np.ndarray, np.ndarray]:
    """A date column as :func:`iso_bytes` and its NULL mask; tz-aware values in UTC (``+00``)."""
    tz = getattr(values.dtype, "tz", None)
    naive = values.dt.tz_convert("UTC").dt.tz_localize(None) if tz is not None else values
    arr = naive.to_numpy(dtype="datetime64[us]")
    return iso_bytes(arr, date_only=date_only, utc=tz is not None and not date_only), np.isnat(arr)


_PAIRS = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], dtype=np.uint8)  # "00" … "99"


def iso_bytes(arr: np.ndarray, *, date_only: bool, utc: bool = False) -> np.ndarray:
    """``datetime64[us]`` values as fixed-width ASCII (``S``) ISO-8601 text — ``2024-05-01``,
    ``2024-05-01 10:00:00``, microseconds when any value has them, ``+00`` when ``utc`` — built two
    digits at a time in a byte matrix: numpy's ``datetime_as_string`` and Arrow's CSV writer take
    about a microsecond a value (a second a million rows), this a tenth of that. NaT rows hold any
    text (the caller masks them); years outside 1000-9999 go through numpy's formatter."""
    valid = ~np.isnat(arr)
    filled = np.where(valid, arr, np.datetime64(0, "us"))
    years = filled.astype("datetime64[Y]").astype(np.int64) + 1970
    if len(arr) and (years.min() < 1000 or years.max() > 9999):
        text = np.datetime_as_string(filled, unit="D" if date_only else "us")
        return (np.char.add(text, "+00") if utc else text).astype("S")
    day = filled.astype("datetime64[D]")
    months = filled.astype("datetime64[M]")
    parts: list[np.ndarray | str] = [years // 100, years % 100, "-", months.astype(np.int64) % 12 + 1, "-",
                                     (day - months).astype(np.int64) + 1]
    if not date_only:
        micros = (filled - day).astype(np.int64)
        secs = micros // 1_000_000
        parts += [" ", secs // 3600, ":", secs // 60 % 60, ":", secs % 60]
        fraction = micros % 1_000_000
        if fraction[valid].any():
            parts += [".", fraction // 10_000, fraction // 100 % 100, fraction % 100]
        if utc:
            parts.append("+00")
    width = sum(len(p) if isinstance(p, str) else 2 for p in parts)
    out = np.empty((len(arr), width), dtype=np.uint8)
    at = 0
    for part in parts:
        if isinstance(part, str):
            out[:, at:at + len(part)] = np.frombuffer(part.encode(), dtype=np.uint8)
            at += len(part)
        else:
            out[:, at:at + 2] = _PAIRS[part]
            at += 2
    return out.view(f"S{width}").ravel()
