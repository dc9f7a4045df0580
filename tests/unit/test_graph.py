from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dbsynth.graph import BreakStrategy, plan
from dbsynth.schema.model import Column, ColumnType, ForeignKey, PrimaryKey, Schema, Table, TypeKind

INT = ColumnType(TypeKind.INTEGER, "integer", bits=32)


def table(name: str, *fks: tuple[str, str, bool, bool]) -> Table:
    """fks: (column, referenced table, nullable, deferrable)."""
    cols = [Column("id", INT, nullable=False)] + [Column(c, INT, nullable=n) for c, _, n, _ in fks]
    return Table(None, name, tuple(cols), PrimaryKey(None, ("id",)),
                 tuple(ForeignKey(f"{name}_{c}", (c,), ref, ("id",), deferrable=d) for c, ref, _, d in fks))


def test_order_is_topological_and_deterministic() -> None:
    tables = (table("c", ("b_id", "b", False, False), ("a_id", "a", False, False)),
              table("b", ("a_id", "a", False, False)), table("a"), table("z"))
    p = plan(Schema("postgresql", tables))
    assert p.order == ("a", "b", "c", "z")
    assert plan(Schema("postgresql", tuple(reversed(tables)))).order == p.order
    assert p.deferred == () and p.roots(Schema("postgresql", tables)) == ("a", "z")


def test_self_reference_needs_no_deferral() -> None:
    s = Schema("sqlite", (table("emp", ("boss_id", "emp", True, False)),))
    p = plan(s)
    assert p.order == ("emp",) and p.deferred == ()
    assert p.self_references[0][0] == "emp"


def test_cycle_broken_at_nullable_edge() -> None:
    s = Schema("mysql", (table("dept", ("head_id", "person", True, False)),
                         table("person", ("dept_id", "dept", False, False))))
    p = plan(s)
    assert p.order == ("dept", "person")
    (edge,) = p.deferred
    assert (edge.table, edge.fk.columns, edge.strategy) == ("dept", ("head_id",), BreakStrategy.NULL_THEN_UPDATE)


def test_deferrable_edge_preferred_over_nullable_on_postgres() -> None:
    s = Schema("postgresql", (table("a", ("b_id", "b", True, False)), table("b", ("a_id", "a", False, True))))
    (edge,) = plan(s).deferred
    assert edge.table == "b" and edge.strategy is BreakStrategy.DEFERRED_CONSTRAINT


def test_not_null_cycle_is_checked_after_the_load_on_mariadb() -> None:
    """MariaDB has no deferrable FKs: a NOT NULL cycle is loaded with its check off, then validated."""
    s = Schema("mysql", (table("a", ("b_id", "b", False, False)), table("b", ("a_id", "a", False, True))))
    p = plan(s)
    (edge,) = p.deferred
    assert (edge.table, edge.strategy) == ("a", BreakStrategy.CHECKED_AFTER_LOAD)
    assert p.order == ("a", "b") and set(p.cycles[0]) == {"a", "b"}


def test_three_table_cycle_plus_inner_cycle() -> None:
    s = Schema("postgresql", (
        table("a", ("c_id", "c", True, False)),
        table("b", ("a_id", "a", False, False), ("c_id", "c", True, False)),
        table("c", ("b_id", "b", False, False)),
    ))
    p = plan(s)
    assert len(p.deferred) == 2 and {d.table for d in p.deferred} <= {"a", "b"}
    pos = {t: i for i, t in enumerate(p.order)}
    for t in s.tables:
        for fk in t.foreign_keys:
            if not p.is_deferred(t.key, fk):
                assert pos[fk.referred] < pos[t.key]


def test_forest_assignment_points_backwards_and_keeps_fan_out() -> None:
    import numpy as np

    from dbsynth.relational import forest_assignment

    rng = np.random.default_rng(0)
    n = 2000
    degrees = np.where(np.arange(n) % 10 == 0, 10, 0)  # every tenth row manages ten others
    roots = np.zeros(n, dtype=bool)
    roots[0] = True
    parent = forest_assignment(degrees, roots, rng)
    assert parent[0] == -1
    assert (parent[1:] < np.arange(1, n)).all() and (parent[1:] >= 0).all()
    fan_out = np.bincount(parent[parent >= 0], minlength=n)
    assert (fan_out[degrees == 0] == 0).mean() > 0.95
    assert abs(fan_out[degrees == 10].mean() - 10) < 0.5


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=0, max_size=30, unique=True),
       st.lists(st.one_of(st.none(), st.integers(-5, 45)), min_size=0, max_size=60),
       st.sampled_from(["int64", "int32", "uint16", "Int64"]))
def test_integer_keys_find_the_parents_the_general_join_finds(parent_keys: list[int], child_keys: list[int | None],
                                                              dtype: str) -> None:
    """The hash lookup of integer keys gives every child row the parent row (-2: none; -1: the FK is
    NULL) that the join of keys as values gives, which mixed types need."""
    from dbsynth.relational import parent_positions

    fk = ForeignKey("fk", ("parent_id",), "parent", ("id",))
    parent = pd.DataFrame({"id": pd.array(parent_keys, dtype=dtype)})
    child = pd.DataFrame({"parent_id": pd.array(child_keys, dtype="Int64")})  # NULLs: pandas' nullable ints
    fast = parent_positions(child, parent, fk)
    general = parent_positions(child.astype(object), parent.astype(object), fk)
    assert fast.tolist() == general.tolist()
    assert [p == -1 for p in fast] == [k is None for k in child_keys]
    assert [p >= 0 for p in fast] == [k is not None and k in parent_keys for k in child_keys]
