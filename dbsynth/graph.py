"""Plan the write: the foreign-key graph (networkx) → a deterministic insertion order.

Cycles between tables are broken at one edge each: a DEFERRABLE FK is written with its real values
inside a transaction that defers the check; a nullable FK is written NULL and UPDATEd once the
referenced rows exist. A cycle of NOT NULL, non-deferrable FKs (a store's manager is a staff member,
every staff member works in a store) is still filled: keys are known before rows are generated, so
the edge's values are drawn from the referenced table's key pool, and the sink loads with that check
off and validates it afterwards — PostgreSQL re-creates every FK after COPY, SQLite defers FK checks
to the commit, MySQL/MariaDB loads with ``FOREIGN_KEY_CHECKS = 0`` and then runs one anti-join per
FK, as their own dumps do. Self-references need none of this: the generator points each row at an
earlier row of the same table (the first row at itself when the FK is NOT NULL).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import networkx as nx

from dbsynth.schema.model import ForeignKey, Schema

__all__ = ["BreakStrategy", "DeferredEdge", "Plan", "plan"]


class BreakStrategy(enum.StrEnum):
    DEFERRED_CONSTRAINT = "deferred constraint"
    NULL_THEN_UPDATE = "NULL, then UPDATE"
    CHECKED_AFTER_LOAD = "checked after the load"


@dataclass(frozen=True)
class DeferredEdge:
    """An FK whose values are filled after the referenced table has been generated."""

    table: str
    fk: ForeignKey
    strategy: BreakStrategy

    def describe(self) -> str:
        return f"{self.fk.describe(self.table)} [{self.strategy}]"


@dataclass(frozen=True)
class Plan:
    """Insertion order plus the FK edges that order could not satisfy."""

    order: tuple[str, ...]
    deferred: tuple[DeferredEdge, ...]
    cycles: tuple[tuple[str, ...], ...]
    self_references: tuple[tuple[str, ForeignKey], ...]

    def is_deferred(self, table: str, fk: ForeignKey) -> bool:
        return any(d.table == table and d.fk == fk for d in self.deferred)

    def roots(self, schema: Schema) -> tuple[str, ...]:
        """Tables with no FK to another table except deferred ones: they take ``--rows N``."""
        out = []
        for key in self.order:
            t = schema.table(key)
            if all(fk.referred == key or self.is_deferred(key, fk) for fk in t.foreign_keys):
                out.append(key)
        return tuple(out)


def _nullable(schema: Schema, table: str, fk: ForeignKey) -> bool:
    t = schema.table(table)
    return all(t.column(c).nullable for c in fk.columns)


def _strategy(schema: Schema, table: str, fk: ForeignKey) -> BreakStrategy:
    if fk.deferrable and schema.dialect in ("postgresql", "sqlite"):
        return BreakStrategy.DEFERRED_CONSTRAINT
    if _nullable(schema, table, fk):
        return BreakStrategy.NULL_THEN_UPDATE
    return BreakStrategy.CHECKED_AFTER_LOAD


def plan(schema: Schema) -> Plan:
    """Order ``schema``'s tables so that every non-deferred FK points at an earlier table.

    Deterministic: ties are broken by table name, and among a cycle's edges a deferrable one is
    preferred, then a nullable one, then one checked after the load; then the lexically first.
    """
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(t.key for t in schema.tables)
    self_refs = []
    for t in schema.tables:
        for fk in t.foreign_keys:
            if fk.referred not in schema:
                continue  # a table outside the reflected schemas: nothing to generate for it
            if fk.referred == t.key:
                self_refs.append((t.key, fk))
                continue
            graph.add_edge(fk.referred, t.key, key=fk.name or fk.describe(t.key), fk=fk)
    deferred: list[DeferredEdge] = []
    cycles: list[tuple[str, ...]] = []
    while True:
        try:
            cycle = nx.find_cycle(graph, source=sorted(graph.nodes))
        except nx.NetworkXNoCycle:
            break
        edges = [(u, v, k, graph.edges[u, v, k]["fk"]) for u, v, k in cycle]
        rank = list(BreakStrategy)
        _, v, k, u, fk, strategy = min(((rank.index(s), v, k, u, fk, s) for u, v, k, fk in edges
                                        for s in [_strategy(schema, v, fk)]), key=lambda o: o[:3])
        tables = tuple(v for _, v, _, _ in edges)
        graph.remove_edge(u, v, key=k)
        deferred.append(DeferredEdge(v, fk, strategy))
        cycles.append(tables)
    order = tuple(nx.lexicographical_topological_sort(graph))
    return Plan(order, tuple(deferred), tuple(cycles), tuple(self_refs))
