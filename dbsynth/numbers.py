"""Columns as float arrays, the one conversion every numeric comparison uses (binning, reports,
learned rules): numbers as they are, dates and timestamps as time since the epoch in UTC, NULL as NaN."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

__all__ = ["as_numbers", "is_datetime_like"]


def is_datetime_like(series: pd.Series) -> bool:
    """A datetime dtype, or objects that are dates/timestamps (how drivers return DATE columns)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return True
    if series.dtype != object:
        return False
    present = series.dropna()
    return len(present) > 0 and isinstance(present.iloc[0], dt.date)


def as_numbers(series: pd.Series, *, unit: str = "s", datetimes: bool | None = None) -> np.ndarray:
    """``series`` as floats; datetimes in ``unit`` (``s``, ``us``…) since 1970-01-01 UTC, naive values
    taken as UTC. ``datetimes`` forces (or rules out) the datetime reading instead of detecting it."""
    if datetimes if datetimes is not None else is_datetime_like(series):
        stamps = pd.to_datetime(series, utc=True)
        x = stamps.dt.tz_localize(None).to_numpy(dtype=f"datetime64[{unit}]").astype("int64").astype(float)
        x[stamps.isna().to_numpy()] = np.nan
        return x
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
