"""FK paths that meet: a table that reaches the same ancestor table along two FK paths.

A Pagila payment references a customer and a rental, and the rental references a customer: the two
customers are the same in 16,044 of 16,049 source payments. Drawn independently, each FK following
its own degree model, they agreed in 19 generated payments — a payment by one person for another
person's rental. The same shape is everywhere (an order line's product and its order's shop, a
rental's staff member and its inventory's store).

The fit finds every such pair from the schema alone (:func:`meetings`: for two FKs of a table, the
nearest ancestor table both reach within :data:`MAX_HOPS` FKs) and learns ``agreement``, the share
of the table's rows whose two paths end on the same ancestor row (a noisy count under DP, like a
NULL rate). Generation keeps one of the two FKs as drawn (the *anchor*: the primary FK, whose parent
drove the row count) and redraws the other (*fixed*) for just enough rows that the same share agree:
each such row's new parent is drawn among the parent rows that reach its anchor's ancestor, using the
slots of their learned children-per-parent counts first, so the parents' degrees survive. When the
fixed FK points at the ancestor itself (the payment's customer) the choice is the ancestor row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dbsynth.graph import Plan
from dbsynth.relational import fk_id, parent_positions
from dbsynth.schema.model import ForeignKey, Schema, Table

__all__ = ["MAX_HOPS", "Meeting", "agree", "agreeing", "candidates", "choose", "fk_index", "path_positions"]

MAX_HOPS = 3  # FKs on one path: a payment's rental's inventory's store is as far as a meeting is looked for


@dataclass(frozen=True)
class Meeting:
    """Two FK paths from one table to rows of ``ancestor`` (FK ids as :func:`fk_id` names them, the
    table's own FK first); ``agreement`` is the share of the table's rows whose paths end on the same
    ancestor row. Generation redraws the first FK of ``fixed`` (see the module docstring)."""

    fixed: tuple[str, ...]
    anchor: tuple[str, ...]
    ancestor: str
    agreement: float

    def describe(self) -> str:
        return (f"{' → '.join(self.fixed)} and {' → '.join(self.anchor)} reach the same {self.ancestor} row "
                f"in {self.agreement:.1%} of rows")


def fk_index(schema: Schema) -> dict[str, tuple[str, ForeignKey]]:
    """Every FK of ``schema`` by its id: (its table, the FK)."""
    return {fk_id(t.key, fk): (t.key, fk) for t in schema.tables for fk in t.foreign_keys}


def _usable(schema: Schema, the_plan: Plan, table: str, fk: ForeignKey) -> bool:
    return fk.referred != table and fk.referred in schema and not the_plan.is_deferred(table, fk)


def _ancestors(schema: Schema, the_plan: Plan, table: str, fk: ForeignKey) -> dict[str, tuple[str, ...]]:
    """The tables ``fk`` leads to within MAX_HOPS FKs, each with its shortest path (FK ids)."""
    out: dict[str, tuple[str, ...]] = {fk.referred: (fk_id(table, fk),)}
    frontier = [fk.referred]
    for _ in range(MAX_HOPS - 1):
        reached = []
        for t in frontier:
            for f in schema.table(t).foreign_keys:
                if _usable(schema, the_plan, t, f) and f.referred not in out and f.referred != table:
                    out[f.referred] = (*out[t], fk_id(t, f))
                    reached.append(f.referred)
        frontier = reached
    return out


def candidates(schema: Schema, the_plan: Plan, table: Table, primary: ForeignKey | None
               ) -> list[tuple[tuple[str, ...], tuple[str, ...], str]]:
    """(fixed path, anchor path, ancestor) for every pair of the table's FKs that reach a common
    ancestor: the nearest one (fewest FKs on both paths). The anchor is the primary FK when the pair
    holds it, else the earlier FK. From the schema alone, so a DP fit may choose by it."""
    fks = [fk for fk in table.foreign_keys if _usable(schema, the_plan, table.key, fk)]
    reach = [_ancestors(schema, the_plan, table.key, fk) for fk in fks]
    out = []
    for i in range(len(fks)):
        for j in range(i + 1, len(fks)):
            common = [a for a in reach[i] if a in reach[j]]
            if not common:
                continue
            ancestor = min(common, key=lambda a: len(reach[i][a]) + len(reach[j][a]))
            first, second = reach[i][ancestor], reach[j][ancestor]
            fixed, anchor = (first, second) if fks[j] is primary else (second, first)
            out.append((fixed, anchor, ancestor))
    return out


def path_positions(frames: Mapping[str, pd.DataFrame], index: Mapping[str, tuple[str, ForeignKey]],
                   path: Sequence[str], start: np.ndarray) -> np.ndarray:
    """The ancestor row position (-1: none) reached from rows whose first-step parents are at
    ``start`` (positions in the first FK's referenced table), following ``path[1:]``."""
    pos = start
    for fid in path[1:]:
        table, fk = index[fid]
        step = parent_positions(frames[table], frames[fk.referred], fk)
        pos = np.where(pos >= 0, step[np.maximum(pos, 0)] if len(step) else -1, -1)
    return np.where(pos >= 0, pos, -1)


def agreeing(frames: Mapping[str, pd.DataFrame], index: Mapping[str, tuple[str, ForeignKey]], table: str,
             fixed: Sequence[str], anchor: Sequence[str]) -> int:
    """How many rows of ``table`` in ``frames`` reach the same ancestor row along both paths."""
    ends = []
    for path in (fixed, anchor):
        _, fk = index[path[0]]
        ends.append(path_positions(frames, index, path, parent_positions(frames[table], frames[fk.referred], fk)))
    return int(((ends[0] >= 0) & (ends[0] == ends[1])).sum())


def choose(found: Sequence[Meeting]) -> tuple[Meeting, ...]:
    """The meetings generation applies, most agreeing first: an FK is redrawn for one meeting at most,
    and never once another meeting anchors on it (or the first would be undone)."""
    fixed: set[str] = set()
    anchors: set[str] = set()
    out = []
    for m in sorted(found, key=lambda m: -m.agreement):
        if m.agreement <= 0 or m.fixed[0] in fixed | anchors or m.anchor[0] in fixed:
            continue
        fixed.add(m.fixed[0])
        anchors.add(m.anchor[0])
        out.append(m)
    return tuple(out)


def agree(fixed_idx: np.ndarray, target: np.ndarray, ancestor_of: np.ndarray, slots: np.ndarray, share: float,
          rng: np.random.Generator) -> np.ndarray:
    """``fixed_idx`` (each row's parent position, -1 for NULL) with rows redrawn until ``share`` of all
    rows reach ``target`` (their ancestor through the anchor path, -1 none) through it; ``ancestor_of``
    is each parent row's ancestor, ``slots`` the children each parent row should get. A redrawn row
    takes a free slot of a parent with its ancestor when there is one, else a parent with that
    ancestor weighted by its slots. Rows that agree already, and NULL FKs, are kept."""
    n = len(fixed_idx)
    set_rows = (fixed_idx >= 0) & (target >= 0)
    now = np.zeros(n, dtype=bool)
    if len(ancestor_of):
        now[set_rows] = ancestor_of[fixed_idx[set_rows]] == target[set_rows]
    need = round(share * n) - int(now.sum())
    if need <= 0 or not len(ancestor_of):
        return fixed_idx
    valid = np.flatnonzero(ancestor_of >= 0)
    parents = valid[np.argsort(ancestor_of[valid], kind="stable")]  # parent rows grouped by ancestor
    groups = ancestor_of[parents]
    rows = np.flatnonzero(set_rows & ~now)
    start, end = np.searchsorted(groups, target[rows], "left"), np.searchsorted(groups, target[rows], "right")
    rows = rows[end > start]
    if len(rows) > need:
        rows = np.sort(rng.choice(rows, size=need, replace=False))
    if not len(rows):
        return fixed_idx
    out = fixed_idx.copy()
    # free slots first: every parent's slots, grouped by ancestor and shuffled inside each group
    counts = np.maximum(slots[parents], 0).astype(np.int64)
    slot_parent = np.repeat(parents, counts)
    slot_group = np.repeat(groups, counts)
    shuffle = np.lexsort((rng.random(len(slot_parent)), slot_group))
    slot_parent, slot_group = slot_parent[shuffle], slot_group[shuffle]
    order = rows[np.lexsort((rng.random(len(rows)), target[rows]))]
    t = target[order]
    rank = np.arange(len(order)) - np.searchsorted(t, t, "left")
    first = np.searchsorted(slot_group, t, "left")
    free = rank < np.searchsorted(slot_group, t, "right") - first
    out[order[free]] = slot_parent[first[free] + rank[free]]
    # the rest: a parent of the right ancestor, weighted by its slots
    rest = order[~free]
    if len(rest):
        s, e = np.searchsorted(groups, target[rest], "left"), np.searchsorted(groups, target[rest], "right")
        cum = np.cumsum(counts + 1e-3)
        low = np.where(s > 0, cum[np.maximum(s - 1, 0)], 0.0)
        u = low + rng.random(len(rest)) * (cum[e - 1] - low)
        out[rest] = parents[np.clip(np.searchsorted(cum, u, side="right"), s, e - 1)]
    return out
