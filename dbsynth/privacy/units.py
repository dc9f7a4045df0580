"""Entity-level privacy: which tables hold personal rows, and how many rows one person can add.

The privacy unit is a row of a private *root* table (a private table with no FK to another private
table — for Pagila with its catalogue marked public: a customer) together with every private row
that references it, directly or transitively (their rentals and payments). Learning keeps at most
``cap`` children per parent on every private FK edge, so one unit contributes at most

    Δ(root) = 1,   Δ(T) = Σ over T's FKs to private parents P of Δ(P) · cap

rows to table T: the per-unit sensitivity every mechanism on T uses. Public tables (``--public``:
small, non-personal lookup data such as ``country`` or ``language``) are learned without noise and
spend no budget. Every table is private unless named public.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from dbsynth.graph import Plan
from dbsynth.schema.model import Schema

__all__ = ["DEFAULT_CAP", "cap_children", "contributions", "lookup_candidates"]

DEFAULT_CAP = 5


def contributions(schema: Schema, plan: Plan, public: Iterable[str], cap: int) -> dict[str, int]:
    """Δ per private table (public tables are absent)."""
    public = set(public)
    out: dict[str, int] = {}
    for key in plan.order:
        if key in public:
            continue
        parents = [fk for fk in schema.table(key).foreign_keys
                   if fk.referred in out and fk.referred != key and not plan.is_deferred(key, fk)]
        out[key] = sum(out[fk.referred] * cap for fk in parents) if parents else 1
    return out


def lookup_candidates(schema: Schema, plan: Plan) -> list[str]:
    """Tables that look like non-personal lookup data from the schema alone — no column named like
    personal data (name, email, phone, street …) and no FK to a table that has one — for ``dbsynth
    fit`` to suggest marking ``--public``. Only a suggestion: whether a table is about people is the
    user's call."""
    from dbsynth.semantics import PII_SEMANTICS, semantic_of

    out: list[str] = []
    for key in plan.order:
        table = schema.table(key)
        personal = any(semantic_of(table, c) in PII_SEMANTICS for c in table.columns)
        parents = {fk.referred for fk in table.foreign_keys if fk.referred != key and fk.referred in schema}
        if not personal and parents <= set(out):
            out.append(key)
    return out


def cap_children(schema: Schema, plan: Plan, key: str, frame: pd.DataFrame, private: Iterable[str], cap: int,
                 rng: np.random.Generator) -> pd.DataFrame:
    """At most ``cap`` rows per referenced private parent on each private FK, sampled at random."""
    private = set(private)
    for fk in schema.table(key).foreign_keys:
        if fk.referred not in private or fk.referred == key or plan.is_deferred(key, fk):
            continue
        order = rng.permutation(len(frame))
        shuffled = frame.iloc[order]
        rank = shuffled.groupby(list(fk.columns), dropna=False, sort=False).cumcount().to_numpy()
        null = shuffled.loc[:, list(fk.columns)].isna().any(axis=1).to_numpy()
        frame = shuffled[(rank < cap) | null].sort_index()
    return frame


def holdout_mask(frame: pd.DataFrame, key_columns: list[str], fraction: float, seed: int) -> np.ndarray:
    """Rows set aside from learning (``True``): a stable hash of the row's key (or of all its values
    when the table has no key) against ``fraction`` — recomputable by the privacy report from the
    source alone, so the model never records which rows were held out."""
    if fraction <= 0 or frame.empty:
        return np.zeros(len(frame), dtype=bool)
    cols = key_columns or list(frame.columns)
    hashed = pd.util.hash_pandas_object(frame.loc[:, cols].astype(str), index=False).to_numpy()
    mixed = (hashed ^ np.uint64((seed * 0x9E3779B97F4A7C15) % 2**64)) % np.uint64(1_000_000)
    return mixed < np.uint64(int(fraction * 1_000_000))
