"""Entity-level privacy: one privacy unit per fit, and how many rows one person can add.

The privacy unit is a row of the *unit table* (``--unit``, e.g. Pagila's ``customer``: the people)
together with every row that references it, directly or transitively (their rentals and payments).
The unit table and its descendants are private; every other table is reference data (catalogues,
lookups, staff), learned without noise and listed as such by ``fit`` and in the ledger. With one
root, every private row belongs to at most one person, so the bound below holds for every private
table. Without ``--unit``, :func:`propose_unit` names the table that looks like people.

Before anything is learned, :func:`bound_units` goes through the private tables parents first and

1. drops rows whose private parent row was dropped (else the lines of a customer's capped-away
   invoices would still count: a customer with ten invoices of five lines each would add 50 lines,
   not the 25 the bound promises);
2. drops rows whose private FKs lead to different persons (a payment by one customer for another
   customer's rental belongs to both: removing either person would change which of the other's
   rows survive capping);
3. keeps at most ``cap`` children per parent on every private FK edge, chosen at random.

Then one person contributes at most

    Δ(unit) = 1,   Δ(T) = min over T's NOT NULL FKs to private parents P, of Δ(P) · cap (each of
                         their rows in T hangs below one of their rows in P), else the sum of
                         Δ(P) · cap over T's FKs to private parents

rows to table T: the per-unit sensitivity every mechanism on T uses.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd

from dbsynth.graph import Plan
from dbsynth.relational import parent_positions
from dbsynth.schema.model import ForeignKey, Schema
from dbsynth.semantics import Semantic, semantic_of

__all__ = ["DEFAULT_CAP", "bound_units", "contributions", "holdout_mask", "private_tables", "propose_unit"]

DEFAULT_CAP = 5


def _private_fks(schema: Schema, plan: Plan, key: str, private: Collection[str]) -> list[ForeignKey]:
    return [fk for fk in schema.table(key).foreign_keys
            if fk.referred in private and fk.referred != key and not plan.is_deferred(key, fk)]


def contributions(schema: Schema, plan: Plan, private: Collection[str], cap: int) -> dict[str, int]:
    """Δ(T), the most rows one person adds to each private table T (see the module docstring), the
    ``private`` tables being the unit's (:func:`private_tables`).

    The min over FKs holds only through a NOT NULL FK to a parent every row of which belongs to a
    person (``owned``: reached from the unit through NOT NULL FKs); otherwise a person's rows are
    bounded by the sum over the FKs that can reach them."""
    out: dict[str, int] = {}
    owned: set[str] = set()
    for key in plan.order:
        if key not in private:
            continue
        table = schema.table(key)
        parents = _private_fks(schema, plan, key, out)
        if not parents:  # the unit
            out[key] = 1
            owned.add(key)
            continue
        through = [out[fk.referred] * cap for fk in parents
                   if fk.referred in owned and not any(table.column(c).nullable for c in fk.columns)]
        out[key] = min([sum(out[fk.referred] * cap for fk in parents), *through])
        if through:
            owned.add(key)
    return out


def bound_units(schema: Schema, plan: Plan, frames: Mapping[str, pd.DataFrame], private: Collection[str],
                cap: int | None, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """The private tables' frames with every person's contribution bounded (steps 1–3 of the module
    docstring), parents first; other frames as given. ``cap=None`` stops after step 2: every row
    owned by one person, none capped away (and no random choice made)."""
    out = dict(frames)
    owners: dict[str, dict[str, np.ndarray]] = {}  # table → root → the person (root row position) of each row
    for key in plan.order:
        if key not in private:
            continue
        frame = frames[key].reset_index(drop=True)
        fks = _private_fks(schema, plan, key, private)
        mine: dict[str, np.ndarray] = {key: np.arange(len(frame))} if not fks else {}
        keep = np.ones(len(frame), dtype=bool)
        for fk in fks:
            pos = parent_positions(frame, out[fk.referred], fk)
            keep &= pos != -2  # the parent row was dropped
            for root, person in owners[fk.referred].items():
                theirs = np.where(pos >= 0, person[np.maximum(pos, 0)], -1) if len(person) else np.full(len(frame), -1)
                have = mine.get(root, np.full(len(frame), -1))
                keep &= ~((have >= 0) & (theirs >= 0) & (have != theirs))  # two persons of one root
                mine[root] = np.where(have >= 0, have, theirs)
        frame = frame[keep].reset_index(drop=True)
        mine = {root: person[keep] for root, person in mine.items()}
        kept = _capped(schema, plan, key, frame, private, cap, rng) if cap is not None \
            else np.ones(len(frame), dtype=bool)
        out[key] = frame[kept].reset_index(drop=True)
        owners[key] = {root: person[kept] for root, person in mine.items()}
    return out


def private_tables(schema: Schema, plan: Plan, unit: str) -> list[str]:
    """The unit table and every table that references it, directly or through other private tables
    (over FKs the plan fills in order: a cycle-breaking FK does not make a table private), in plan
    order."""
    private = {unit}
    for key in plan.order:
        if key != unit and _private_fks(schema, plan, key, private):
            private.add(key)
    return [key for key in plan.order if key in private]


PERSON = frozenset({Semantic.FIRST_NAME, Semantic.LAST_NAME, Semantic.EMAIL})


def propose_unit(schema: Schema, plan: Plan, frames: Mapping[str, pd.DataFrame]) -> tuple[str, str] | None:
    """The table that looks like the people, and why: among tables with an email or a first or last
    name column, the one with the most rows that other rows reference — the people who did
    something. Pagila: ``customer`` (all 599 rent films), not ``staff`` (2 of its 1,500 rows took
    rentals) or ``actor``; Chinook: ``customer`` (59 with invoices), not ``employee`` (3 support
    reps). None when no table has such a column. Only a proposal, printed for the user to confirm
    or replace with ``--unit``."""
    found = []
    for key in plan.order:
        table = schema.table(key)
        personal = [c.name for c in table.columns if semantic_of(table, c) in PERSON]
        if personal:
            found.append((_referenced_rows(schema, plan, key, frames), -plan.order.index(key), key, personal))
    if not found:
        return None
    n, _, key, personal = max(found)
    others = ", ".join(f"{k}'s {r:,}" for r, _, k, _ in sorted(found, reverse=True) if k != key)
    return key, (f"{', '.join(personal)} name people, and {n:,} of its rows have rows that reference them"
                 + (f" (against {others})" if others else ""))


def _referenced_rows(schema: Schema, plan: Plan, key: str, frames: Mapping[str, pd.DataFrame]) -> int:
    """How many of ``key``'s rows other tables' rows reference (over FKs filled in plan order)."""
    seen = np.zeros(len(frames[key]), dtype=bool)
    for child in plan.order:
        for fk in schema.table(child).foreign_keys:
            if fk.referred == key and child != key and not plan.is_deferred(child, fk):
                pos = parent_positions(frames[child], frames[key], fk)
                seen[pos[pos >= 0]] = True
    return int(seen.sum())


def _capped(schema: Schema, plan: Plan, key: str, frame: pd.DataFrame, private: Collection[str], cap: int,
            rng: np.random.Generator) -> np.ndarray:
    """Which rows to keep so that no private parent has more than ``cap`` children, chosen at random."""
    keep = np.ones(len(frame), dtype=bool)
    for fk in _private_fks(schema, plan, key, private):
        idx = np.flatnonzero(keep)
        order = idx[rng.permutation(len(idx))]
        shuffled = frame.iloc[order]
        rank = shuffled.groupby(list(fk.columns), dropna=False, sort=False).cumcount().to_numpy()
        null = shuffled.loc[:, list(fk.columns)].isna().any(axis=1).to_numpy()
        keep[order[(rank >= cap) & ~null]] = False
    return keep


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
