"""Foreign-key values: every FK column is drawn from rows already generated for the referenced table.

Schema-only mode draws parents uniformly; the learning issue adds children-per-parent models here.
A UNIQUE/PK made only of FK columns (a link table such as ``film_actor``) gets distinct parent
combinations, drawn without replacement from their product.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from dbsynth.errors import ConstraintError
from dbsynth.schema.model import ForeignKey, Table

__all__ = [
    "KeyRedraw",
    "assign_foreign_keys",
    "capacity",
    "children_per_parent",
    "distinct_indices",
    "fill_self_reference",
    "join_parent",
    "key_pool",
    "linked_groups",
    "parent_positions",
]

FK_NULL_RATE = 0.1


def key_pool(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The referenceable key tuples of a generated table: rows whose key columns are all non-NULL."""
    sub = frame.loc[:, list(columns)]
    return sub[sub.notna().all(axis=1)].reset_index(drop=True)


class KeyRedraw:
    """New parents for rows whose single-column FK breaks a CHECK (``origin <> destination`` over two
    FKs to ``city``): enforcement resamples an FK column like any other, drawing uniformly from the
    referenced table's keys. A multi-column FK is never redrawn, one column alone would not exist."""

    def __init__(self, fks: Sequence[ForeignKey], parents: Mapping[str, pd.DataFrame]) -> None:
        self.values = {fk.columns[0]: parents[fk.referred][fk.referred_columns[0]].dropna().to_numpy()
                       for fk in fks if len(fk.columns) == 1 and fk.referred in parents}
        self.values = {c: v for c, v in self.values.items() if len(v)}

    @property
    def columns(self) -> list[str]:
        return list(self.values)

    def __contains__(self, column: object) -> bool:
        return column in self.values

    def draw(self, column: str, n: int, rng: np.random.Generator) -> pd.Series:
        keys = self.values[column]
        return pd.Series(keys[rng.integers(0, len(keys), size=n)])


def linked_groups(table: Table, fks: Sequence[ForeignKey]) -> list[tuple[ForeignKey, ...]]:
    """Groups of FKs whose columns together make up exactly a unique set of ``table``."""
    groups: list[tuple[ForeignKey, ...]] = []
    for cols in table.unique_sets():
        members = tuple(fk for fk in fks if set(fk.columns) <= set(cols))
        covered = {c for fk in members for c in fk.columns}
        if members and covered == set(cols) and not any(set(g) & set(members) for g in groups):
            groups.append(members)
    return groups


def capacity(table: Table, fks: Sequence[ForeignKey], sizes: Mapping[str, int]) -> int | None:
    """Most rows ``table`` can have given its FK-only unique sets, or ``None`` when unbounded."""
    caps = [math.prod(sizes[fk.referred] for fk in group) for group in linked_groups(table, fks)]
    return min(caps) if caps else None


def distinct_indices(total: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct integers below ``total`` (``n <= total``), in random order."""
    if total <= 50_000_000:
        return rng.choice(total, size=n, replace=False)
    picked = np.unique(rng.integers(0, total, size=int(n * 1.1) + 16))
    while len(picked) < n:
        picked = np.unique(np.concatenate([picked, rng.integers(0, total, size=n)]))
    return rng.permutation(picked)[:n]


def assign_foreign_keys(
    table: Table,
    frame: pd.DataFrame,
    fks: Sequence[ForeignKey],
    pools: Mapping[str, pd.DataFrame],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Fill ``fks``' columns of ``frame`` from ``pools`` (referenced table → its key pool)."""
    n = len(frame)
    frame = frame.copy()
    done: set[ForeignKey] = set()
    for group in linked_groups(table, fks):
        sizes = [len(pools[fk.referred]) for fk in group]
        total = math.prod(sizes)
        if n > total:
            raise ConstraintError(
                f"{table.key}: {n} rows need distinct ({', '.join(c for fk in group for c in fk.columns)}) "
                f"combinations but the referenced tables allow only {total}; ask for fewer rows")
        flat = distinct_indices(total, n, rng) if n else np.empty(0, dtype=np.int64)
        for fk, idx in zip(group, np.unravel_index(flat, sizes), strict=True):
            _put(frame, fk, pools[fk.referred], idx)
            done.add(fk)
    for fk in fks:
        if fk in done:
            continue
        pool = pools[fk.referred]
        if len(pool) == 0:
            if all(table.column(c).nullable for c in fk.columns):
                for c in fk.columns:
                    frame[c] = pd.Series([None] * n, dtype=object)
                continue
            raise ConstraintError(
                f"{table.key}({', '.join(fk.columns)}): the referenced table {fk.referred} has no rows "
                "to point at; give it rows (--rows) or make the column nullable")
        idx = rng.integers(0, len(pool), size=n)
        _put(frame, fk, pool, idx)
        if all(table.column(c).nullable for c in fk.columns):
            nulls = rng.random(n) < FK_NULL_RATE
            for c in fk.columns:
                frame[c] = frame[c].astype(object).mask(nulls)
    return frame


def _put(frame: pd.DataFrame, fk: ForeignKey, pool: pd.DataFrame, idx: np.ndarray) -> None:
    for col, ref in zip(fk.columns, fk.referred_columns, strict=True):
        frame[col] = pool[ref].to_numpy()[idx]


def fill_self_reference(table: Table, frame: pd.DataFrame, fk: ForeignKey,
                        rng: np.random.Generator, *, null_rate: float = FK_NULL_RATE) -> pd.DataFrame:
    """Point each row at an earlier row of the same table, so rows can be inserted in order and
    the data forms a forest; the first row is a root (NULL, or itself when the FK is NOT NULL)."""
    n = len(frame)
    frame = frame.copy()
    nullable = all(table.column(c).nullable for c in fk.columns)
    parent = np.floor(rng.random(n) * np.arange(n)).astype(np.int64)
    roots = np.zeros(n, dtype=bool)
    if n:
        roots[0] = True
    if nullable:
        roots |= rng.random(n) < null_rate
    for col, ref in zip(fk.columns, fk.referred_columns, strict=True):
        values = frame[ref].to_numpy(dtype=object)[parent]
        series = pd.Series(values, dtype=object)
        if nullable:
            series = series.mask(roots)
        elif n:
            series.iloc[0] = frame[ref].iloc[0]
        frame[col] = series.to_numpy()
    return frame


def fk_id(table: str, fk: ForeignKey) -> str:
    """A stable name for an FK: ``child(col, …)``."""
    return f"{table}({', '.join(fk.columns)})"


def fk_named(table: Table, name: str | None) -> ForeignKey | None:
    """The FK of ``table`` whose :func:`fk_id` is ``name`` (a table model's primary FK), if any."""
    return next((fk for fk in table.foreign_keys if fk_id(table.key, fk) == name), None) if name else None


def parent_positions(child: pd.DataFrame, parent: pd.DataFrame, fk: ForeignKey) -> np.ndarray:
    """Each ``child`` row's parent row position in ``parent`` through ``fk``: -1 where the FK is NULL,
    -2 where no parent row has its key. The one child→parent join every stage builds on (learning's
    context and rules, the per-person bound, user rules on parent columns, the report). Keys meet as
    values, not dtypes: an int64 1, a float 1.0 and a Decimal 1 are one key."""
    cols, refs = list(fk.columns), list(fk.referred_columns)
    if len(cols) == 1 and child[cols[0]].dtype.kind in "iu" and parent[refs[0]].dtype.kind in "iu":
        # integer keys (numpy's or pandas' nullable ones): a hash lookup, no join of objects (Pagila
        # ×10's payments and their paths: 0.27 s of 0.73 s)
        referred, no_key = _integers(parent[refs[0]])
        keys = pd.Index(referred)
        if not no_key.any() and keys.is_unique:
            values, null = _integers(child[cols[0]])
            found = keys.get_indexer(values)
            out = np.where(found < 0, -2, found).astype(np.int64)
            out[null] = -1
            return out
    left = child.loc[:, cols].astype(object)
    left.columns = refs
    right = parent.loc[:, refs].astype(object).assign(__pos=np.arange(len(parent))).drop_duplicates(subset=refs)
    pos = left.merge(right, how="left", on=refs)["__pos"].to_numpy(dtype=float)
    out = np.where(np.isnan(pos), -2, pos).astype(np.int64)
    out[child.loc[:, cols].isna().any(axis=1).to_numpy()] = -1
    return out


def _integers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """An integer column's values as numpy integers (0 where NULL) and where it is NULL."""
    null = values.isna().to_numpy()
    return values.to_numpy(dtype=getattr(values.dtype, "numpy_dtype", values.dtype), na_value=0), null


def join_parent(child: pd.DataFrame, parent: pd.DataFrame, fk: ForeignKey,
                columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The parent row (``columns``, default all) of every ``child`` row, aligned with ``child``'s
    rows (index 0…n-1); NaN where the FK is NULL or points at no row."""
    pos = parent_positions(child, parent, fk)
    cols = parent.loc[:, list(parent.columns if columns is None else columns)].reset_index(drop=True)
    return cols.reindex(np.where(pos >= 0, pos, -1)).reset_index(drop=True)


def children_per_parent(parent: pd.DataFrame, child: pd.DataFrame, fk: ForeignKey) -> np.ndarray:
    """For each row of ``parent``, how many ``child`` rows reference it through ``fk``."""
    pos = parent_positions(child, parent, fk)
    return np.bincount(pos[pos >= 0], minlength=len(parent)).astype(np.int64)


def degree_assignment(targets: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` parent indices such that parent ``i`` is used about ``targets[i]`` times: the slots of
    every parent, shuffled; short or long totals are evened out proportionally to the targets."""
    targets = np.maximum(targets, 0)
    total = int(targets.sum())
    if len(targets) == 0:  # nothing to point at: NULL (an error later if the FK is NOT NULL)
        return np.full(n, -1, dtype=np.int64)
    if total == 0:
        return rng.integers(0, len(targets), size=n)
    slots = np.repeat(np.arange(len(targets)), targets)
    rng.shuffle(slots)
    if total >= n:
        return slots[:n]
    extra = rng.choice(len(targets), size=n - total, p=targets / total)
    out = np.concatenate([slots, extra])
    rng.shuffle(out)
    return out


def forest_assignment(degrees: np.ndarray, roots: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Parent row for each row of a self-referencing table (-1 for a root), pointing only at earlier
    rows so the result is a forest that can be inserted in order. Row ``i`` gets about
    ``degrees[i]`` children: each parent's slots, in row order, go to the earliest later rows still
    free (a cumulative maximum, so no Python loop); rows left over point at a random earlier row."""
    n = len(degrees)
    parent = np.full(n, -1, dtype=np.int64)
    children = np.flatnonzero(~roots)
    children = children[children > 0]
    if len(children) == 0:
        return parent
    slots = np.repeat(np.arange(n), np.maximum(degrees, 0))  # ascending parent rows
    first = np.searchsorted(children, slots, side="right")  # earliest child after each slot's parent
    j = np.arange(len(slots))
    position = np.maximum.accumulate(first - j) + j if len(slots) else j
    ok = position < len(children)
    parent[children[position[ok]]] = slots[ok]
    rest = children[parent[children] < 0]
    parent[rest] = np.floor(rng.random(len(rest)) * rest).astype(np.int64)
    return parent
