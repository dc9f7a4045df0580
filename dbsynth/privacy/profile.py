"""How a private column is modelled, decided under differential privacy.

A column's kind (category or free text, constant, an identifier's shape, personal data recognised
by its content) chooses the mechanisms that run on it and is written to the model file, so it is a
release like any other. Before the budget is split, :data:`PROFILE_SHARE` of ρ buys every private
column a Gaussian release of the counts :class:`~dbsynth.semantics.KindStats` holds (each changes by
at most Δ when one person comes or goes), and the kind follows from the noisy counts by the rules
exact learning uses. Where the noise would swamp a column's rows (judged from the table's released
row count, before anything is spent) nothing is judged from its values: a string is free text,
other types keep the kind their type gives. An identifier's shape (``AAA-99999``) is released like a
category value, above a noisy threshold, and its constant characters (``ORD``) from noisy
histograms over the public alphabet.
"""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np
import pandas as pd

from dbsynth.privacy.accountant import Accountant
from dbsynth.privacy.mechanisms import gaussian, gaussian_sigma
from dbsynth.privacy.release import threshold
from dbsynth.schema.model import Column, Table, TypeKind
from dbsynth.semantics import (
    DP_VOCABULARY_SHARE,
    ColumnKind,
    KindStats,
    kind_from_stats,
    schema_kind,
    shape_of,
    type_kind,
)

__all__ = ["PROFILE_SHARE", "dp_kind", "dp_shape", "profile_slots", "thresholdable"]

PROFILE_SHARE = 0.05  # of the fit's ρ, for the kinds of private columns; what is left unspent goes to the tables
# a kind is judged from the counts only when σ is at most a tenth of the column's rows (then every
# threshold but the constant's lies ≥ 4σ from a clear-cut column): with noise near the rows
# themselves card numbers came out as categories and constants, and Chinook's invoice columns as
# personal data, one fit in three
JUDGED = 10
MIN_CONSTANT_ROWS = 20  # rows of a shape below which no character is called constant (as in exact learning)
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"


def profile_slots(table: Table, column: Column) -> int:
    """Releases a private column may need to decide its kind: none when the schema decides, one for
    its counts, one more for a string's shape (the shape and its constant characters)."""
    if schema_kind(table, column) is not None:
        return 0
    return 2 if column.type.kind is TypeKind.STRING else 1


def thresholdable(table: Table, column: Column) -> bool:
    """Whether a private column may get one thresholded release (a category domain, a constant's
    value, an identifier's shape; at most one of them), known from the schema before any data is
    read: enum and boolean columns have public domains."""
    return profile_slots(table, column) > 0 and column.type.kind not in (TypeKind.ENUM, TypeKind.BOOLEAN)


def dp_kind(table: Table, column: Column, values: pd.Series, *, sensitivity: float, rho: float, rows: float,
            accountant: Accountant) -> ColumnKind:
    """The column's kind from noisy counts of its (capped) values; ``sensitivity`` is Δ, the rows one
    person reaches in the table, ``rows`` its released row count: where the noise would swamp them
    nothing is released (and ρ is left to the tables)."""
    fixed = schema_kind(table, column)
    if fixed is not None:
        return fixed
    strings = column.type.kind is TypeKind.STRING
    names = KindStats.STRING_FIELDS if strings else KindStats.OTHER_FIELDS
    sens = sensitivity * math.sqrt(len(names))  # every count moves by at most Δ
    sigma = gaussian_sigma(sens, rho)
    swamped = ColumnKind.TEXT if strings else type_kind(column)  # nothing judged from the values
    if rows < JUDGED * sigma:
        return swamped
    exact = KindStats.of(values, strings=strings, sample=None)
    noisy = gaussian(np.array([getattr(exact, n) for n in names], dtype=float), sens, rho)
    accountant.spend(table.key, f"profile {column.name}", "gaussian", rho, sensitivity=sens, scale=sigma)
    released = dict(zip(names, noisy.tolist(), strict=True))
    if released["present"] < JUDGED * sigma:
        return swamped
    if strings:
        released["sampled"], released["sample_distinct"] = released["present"], released["distinct"]
    stats = KindStats(**{f.name: released.get(f.name, 0.0) for f in fields(KindStats)})
    return kind_from_stats(column, stats, constant_at=2 * sigma, vocabulary=DP_VOCABULARY_SHARE)


def dp_shape(table: Table, column: Column, values: pd.Series, *, sensitivity: float, rho: float,
             accountant: Accountant) -> str | None:
    """The most common shape among those whose noisy count clears the threshold (a δ_t release, as
    for category values), or ``None`` when none does; then its constant characters (``ORD`` of
    ``ORD-12345``, see :func:`_constant_characters`). Each of the two gets half of ``rho``."""
    rho /= 2
    text = values.dropna().astype(str)
    shapes = text.map(shape_of)
    counts = shapes.value_counts()
    sigma = gaussian_sigma(sensitivity, rho)
    delta_t = accountant.threshold_delta
    tau = threshold(sensitivity, sigma, delta_t)
    noisy = gaussian(counts.to_numpy(dtype=float), sensitivity, rho)
    accountant.spend(table.key, f"shape {column.name}", "gaussian, thresholded", rho, sensitivity=sensitivity,
                     scale=sigma, delta=delta_t)
    best = int(np.argmax(noisy)) if len(noisy) else -1
    if best < 0 or noisy[best] <= tau:
        return None
    shape = str(counts.index[best])
    same = text[shapes == shape]
    constant = _constant_characters(table, column, same, shape, float(noisy[best]), sensitivity=sensitivity,
                                    rho=rho, accountant=accountant)
    return "".join("\\" + constant[i] if i in constant else "\\\\" if ch == "\\" else ch
                   for i, ch in enumerate(shape))  # literals escaped as exact shapes escape them


def _constant_characters(table: Table, column: Column, same: pd.Series, shape: str, rows: float, *,
                         sensitivity: float, rho: float, accountant: Accountant) -> dict[int, str]:
    """The letter or digit positions of ``shape`` that (nearly) every value of it shares, from one
    Gaussian release of a histogram per position over the public alphabet (no threshold needed: the
    alphabet is public). A person's Δ rows move each position's histogram by at most Δ, so the whole
    release by Δ·√positions. A position is constant when its top noisy count exceeds 90% of the
    shape's noisy row count by σ; exact learning asks for 99%, which the noise would rarely let
    through."""
    positions = [i for i, ch in enumerate(shape) if ch in "A9"]
    if not positions or rows < MIN_CONSTANT_ROWS:
        return {}
    alphabets = {i: _LETTERS if shape[i] == "A" else _DIGITS for i in positions}
    hist = np.concatenate([same.str[i].value_counts().reindex(list(alphabets[i]), fill_value=0).to_numpy(dtype=float)
                           for i in positions])
    sens = sensitivity * math.sqrt(len(positions))
    noisy = gaussian(hist, sens, rho)
    sigma = gaussian_sigma(sens, rho)
    accountant.spend(table.key, f"shape characters {column.name}", "gaussian histogram", rho, sensitivity=sens,
                     scale=sigma)
    out, start = {}, 0
    for i in positions:
        cells = noisy[start:start + len(alphabets[i])]
        top = int(np.argmax(cells))
        if cells[top] > 0.9 * rows + sigma:
            out[i] = alphabets[i][top]
        start += len(alphabets[i])
    return out
