"""FK paths that meet: which pairs the schema offers, and redrawing one FK until they agree."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dbsynth.graph import plan
from dbsynth.meetings import Meeting, agree, candidates, choose
from dbsynth.schema.model import Column, ColumnType, ForeignKey, PrimaryKey, Schema, Table, TypeKind


def _table(name: str, cols: list[str], fks: list[tuple[str, str]]) -> Table:
    integer = ColumnType(TypeKind.INTEGER, "integer", bits=32)
    return Table(None, name, tuple(Column(c, integer, nullable=c != "id") for c in ["id", *cols]),
                 PrimaryKey(None, ("id",)), tuple(ForeignKey(f"{name}_{c}", (c,), ref, ("id",)) for c, ref in fks))


def test_pairs_meet_at_the_nearest_common_ancestor_and_the_primary_is_the_anchor() -> None:
    """An order line reaches a shop through its product and through its order; the region above the
    shop is farther, so it is not the meeting."""
    schema = Schema("postgresql", (
        _table("region", [], []), _table("shop", ["region_id"], [("region_id", "region")]),
        _table("product", ["shop_id"], [("shop_id", "shop")]), _table("orders", ["shop_id"], [("shop_id", "shop")]),
        _table("line", ["order_id", "product_id"], [("order_id", "orders"), ("product_id", "product")])))
    line = schema.table("line")
    order_fk, product_fk = line.foreign_keys
    assert candidates(schema, plan(schema), line, order_fk) == [
        (("line(product_id)", "product(shop_id)"), ("line(order_id)", "orders(shop_id)"), "shop")]
    assert candidates(schema, plan(schema), line, product_fk)[0][:2] == (
        ("line(order_id)", "orders(shop_id)"), ("line(product_id)", "product(shop_id)"))


def test_choose_never_redraws_an_anchor_or_one_fk_twice() -> None:
    a = Meeting(("t(b)",), ("t(a)", "x(b)"), "b", 0.99)
    b = Meeting(("t(a)",), ("t(c)",), "a", 0.9)  # would redraw a's anchor
    c = Meeting(("t(b)", "b(z)"), ("t(c)", "c(z)"), "z", 0.5)  # t(b) is redrawn already
    d = Meeting(("t(d)",), ("t(a)", "x(d)"), "d", 0.0)  # never agrees: nothing to keep
    assert choose([c, b, d, a]) == (a,)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(0, 300), parents=st.integers(1, 40),
       ancestors=st.integers(1, 8), share=st.floats(0, 1))
def test_agree_reaches_the_share_and_keeps_what_agrees(seed: int, rows: int, parents: int, ancestors: int,
                                                       share: float) -> None:
    rng = np.random.default_rng(seed)
    ancestor_of = rng.integers(-1, ancestors, size=parents)  # -1: a parent row with no ancestor
    fixed = rng.integers(-1, parents, size=rows)  # -1: a NULL FK
    target = rng.integers(-1, ancestors, size=rows)
    slots = rng.integers(0, 4, size=parents)
    out = agree(fixed, target, ancestor_of, slots, share, rng)

    def agreeing(idx: np.ndarray) -> np.ndarray:
        return (idx >= 0) & (target >= 0) & (ancestor_of[np.maximum(idx, 0)] == target)

    before, after = agreeing(fixed), agreeing(out)
    changed = out != fixed
    assert (before <= after).all()  # what agreed still does
    assert after[changed].all() and (fixed[changed] >= 0).all()  # a redrawn row agrees; NULLs stay NULL
    # as many as asked for, where a parent row reaches a disagreeing row's target
    fixable = ~before & (fixed >= 0) & np.isin(target, ancestor_of[ancestor_of >= 0])
    assert after.sum() == before.sum() + min(max(round(share * rows) - before.sum(), 0), fixable.sum())
