"""A per-table Bayesian network over discretised columns, with vectorised forward sampling.

Nodes in sampling order, context nodes (attributes of the referenced parent row) first and without
a CPT, so sampling conditions on them exactly. The structure search and the CPTs are
:mod:`dbsynth.generators.structure`'s.

Why not pgmpy's estimators and sampler: the differential-privacy work needs to own the counts (noise,
consistency post-processing) and the structure scores (exponential mechanism); stratified sampling
and context evidence need control of the draw; and the model file stores plain arrays. Everything
here is numpy on integer codes (560k rows/s on a 10-column table, ``benchmarks/fit_generate.py``).
:func:`dbsynth.export.to_pgmpy` hands a fitted network to pgmpy for inspection and inference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from dbsynth.errors import DbsynthError
from dbsynth.generators.base import TableGenerator
from dbsynth.generators.discretize import Discretizer, fit_discretizer
from dbsynth.generators.dp_domain import dp_discretizer
from dbsynth.generators.structure import Node, Search, joint, needs_domain
from dbsynth.privacy.budget import TableBudget
from dbsynth.rules.learned import MAX_GAP
from dbsynth.schema.model import Table

__all__ = ["BayesNet", "BayesNetGenerator"]

@dataclass
class BayesNet:
    """Nodes in sampling order (context nodes first)."""

    nodes: list[Node] = field(default_factory=list)

    @classmethod
    def fit(cls, codes: dict[str, np.ndarray], cards: dict[str, int], *, context: tuple[str, ...] = (),
            k: int = 2, budget: TableBudget | None = None, n_public: int | None = None,
            not_null: frozenset[str] = frozenset()) -> BayesNet:
        """Greedy structure plus CPTs. With a ``budget`` every choice that touches a private node is
        made by the exponential mechanism and every such CPT comes from noisy counts; ``n_public`` is
        the (noisy) row count the sensitivities use."""
        n = len(next(iter(codes.values()))) if codes else 0
        search = Search.of(codes, cards, context, k, budget, n if n_public is None else n_public)
        placed = [Node(c, cards[c]) for c in context]
        todo = [c for c in search.order if c not in context]
        if not placed and todo:
            first = search.first(todo)
            placed.append(search.node(first, (), first in not_null))
            todo.remove(first)
        while todo:
            names = [p.name for p in placed]
            phase = [c for c in todo if c in search.exact] or todo  # the exact nodes first, among themselves
            _, x, parents = search.choose([o for x in phase for o in search.options(x, names)])
            placed.append(search.node(x, parents, x in not_null))
            todo.remove(x)
        return cls(placed)

    def sample(self, n: int, rng: np.random.Generator, evidence: dict[str, np.ndarray] | None = None,
               allowed: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Forward-sample ``n`` rows; ``evidence`` gives the codes of context nodes; ``allowed``
        limits a node to some of its states (an intervention: its CPT rows restricted to them, the
        nodes below it drawn given what it took)."""
        out: dict[str, np.ndarray] = {}
        for node in self.nodes:
            if node.cpt is None:
                given = (evidence or {}).get(node.name)
                out[node.name] = given if given is not None else np.zeros(n, dtype=np.int64)
                continue
            cfg, _ = joint([out[p] for p in node.parents], [self.card(p) for p in node.parents])
            if not node.parents:
                cfg = np.zeros(n, dtype=np.int64)
            cpt = node.cpt if allowed is None or node.name not in allowed else _restrict(node.cpt, allowed[node.name])
            out[node.name] = _draw(cpt, cfg, rng)
        return out

    def card(self, name: str) -> int:
        return next(nd.cardinality for nd in self.nodes if nd.name == name)

    def to_json(self, arrays: dict[str, np.ndarray], prefix: str) -> list[dict[str, Any]]:
        out = []
        for i, nd in enumerate(self.nodes):
            key = None
            if nd.cpt is not None:
                key = f"{prefix}/cpt{i}"
                arrays[key] = nd.cpt
            out.append({"name": nd.name, "cardinality": nd.cardinality, "parents": list(nd.parents), "cpt": key})
        return out

    @classmethod
    def from_json(cls, data: list[dict[str, Any]], arrays: dict[str, np.ndarray]) -> BayesNet:
        return cls([Node(d["name"], d["cardinality"], tuple(d["parents"]),
                         None if d["cpt"] is None else arrays[d["cpt"]]) for d in data])


def _restrict(cpt: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """``cpt`` with only the ``allowed`` states; a row with no mass on them takes the node's average
    row restricted alike, else the allowed states evenly; with none allowed, ``cpt`` as it is."""
    if not allowed.any():
        return cpt
    kept = cpt * allowed
    fallback = cpt.mean(axis=0) * allowed
    if fallback.sum() <= 0:
        fallback = allowed.astype(float)
    kept = np.where(kept.sum(axis=1, keepdims=True) > 0, kept, fallback)
    return kept / kept.sum(axis=1, keepdims=True)


def _draw(cpt: np.ndarray, cfg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One categorical draw per row from ``cpt[cfg[row]]``, stratified: the rows that share a parent
    configuration get the states in the proportions of their CPT row (floors plus systematic
    sampling of the remainders), in random order. Same expectation as independent draws, with the
    sampling noise removed — which matters for small tables (16 categories in 16 rows). Vectorised
    over all configurations at once."""
    n = len(cfg)
    card = cpt.shape[1]
    if n == 0:
        return np.empty(0, dtype=np.int64)
    groups, sizes = np.unique(cfg, return_counts=True)
    p = np.clip(cpt[groups], 0.0, None)
    totals = p.sum(axis=1, keepdims=True)
    p = np.where(totals > 0, p / np.where(totals > 0, totals, 1.0), 1.0 / card)
    ideal = p * sizes[:, None]
    base = np.floor(ideal)
    cum = np.cumsum(ideal - base, axis=1)
    u = rng.random(len(groups))[:, None]
    upper = np.floor(cum + u)
    lower = np.floor(np.concatenate([np.zeros((len(groups), 1)), cum[:, :-1]], axis=1) + u)
    counts = (base + (upper - lower)).astype(np.int64)
    # rounding can leave a group one short or over: settle it on its most likely state
    diff = sizes - counts.sum(axis=1)
    counts[np.arange(len(groups)), np.argmax(p, axis=1)] += diff
    codes = np.repeat(np.tile(np.arange(card), len(groups)), counts.ravel())
    rows = np.lexsort((rng.random(n), cfg))  # rows grouped by configuration, shuffled within
    out = np.empty(n, dtype=np.int64)
    out[rows] = codes
    return out


class BayesNetGenerator(TableGenerator):
    """The learned generator of one table: discretisers plus a :class:`BayesNet`.

    ``units`` names the learned columns and how each is discretised (``None``: categories; see
    :mod:`dbsynth.generators.discretize`); columns starting with ``#`` are children-per-parent
    counts. ``context`` maps context node names (``^col``) to the parent's discretisers: at fit and
    sample time their values come in ``context``/``parent_context`` frames.
    """

    kind = "bayesnet"
    net_type: ClassVar[type[BayesNet]] = BayesNet  # what the model file's "net" is read as

    def __init__(self, table: Table, *, units: Mapping[str, str | None],
                 context: Mapping[str, Discretizer] | None = None, k: int = 2,
                 discretizers: Mapping[str, Discretizer] | None = None, net: BayesNet | None = None,
                 labels: Mapping[str, tuple[Any, ...]] | None = None, n_public: int | None = None,
                 bounds: Mapping[str, tuple[float, float, float]] | None = None,
                 gaps: frozenset[str] = frozenset()) -> None:
        super().__init__(table)
        self.bounds = dict(bounds or {})  # fit only: what the schema allows each column
        self.gaps = gaps  # fit only: columns that hold a gap in seconds, not their own values
        self.units = dict(units)
        self.labels = dict(labels or {})  # public domains: enum labels, booleans
        self.n_public = n_public
        self.context = dict(context or {})
        self.k = k
        self.discretizers: dict[str, Discretizer] = dict(discretizers or {})
        self.net = net or BayesNet()

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.units)

    def discretize(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Fit the discretisers (once) and return the codes of ``frame``'s learned columns."""
        for col, unit in self.units.items():
            if col not in self.discretizers:
                self.discretizers[col] = fit_discretizer(frame[col], unit)
        return {c: self.discretizers[c].encode(frame[c]) for c in self.units}

    def _fit(self, frame: pd.DataFrame, *, context: pd.DataFrame | None, budget: Any) -> None:
        dp = budget if isinstance(budget, TableBudget) else None
        if dp is None and budget is not None and not math.isinf(budget):
            raise DbsynthError("a finite budget needs a TableBudget from the privacy accountant")
        if dp is not None:
            private = [c for c in self.units if dp.private(c) and c not in self.discretizers]
            spending = sum(1 for c in private if needs_domain(self.units[c], self.labels.get(c)))
            for col in private:
                self.discretizers[col] = dp_discretizer(frame[col], self.units[col], labels=self.labels.get(col),
                                                        node=col, budget=dp, parts=spending, bounds=self._bounds(col),
                                                        rows=self.n_public)
        codes = self.discretize(frame)
        for node, disc in self.context.items():
            assert context is not None, "context columns need a context frame"
            codes[node] = disc.encode(context[node])
        cards = {n: (self.context.get(n) or self.discretizers[n]).cardinality for n in codes}
        not_null = frozenset(c for c in self.units if not c.startswith("#") and not self.table.column(c).nullable)
        self.net = self._learn(codes, cards, dp, not_null) if codes else BayesNet()

    def _learn(self, codes: dict[str, np.ndarray], cards: dict[str, int], budget: TableBudget | None,
               not_null: frozenset[str]) -> BayesNet:
        """The network over the nodes' codes (context nodes first, without a CPT); the one step a
        generator on the same discretisers and sampler does differently (see generators.marginal)."""
        return BayesNet.fit(codes, cards, context=tuple(self.context), k=self.k, budget=budget,
                            n_public=self.n_public, not_null=not_null)

    def _sample(self, n: int, *, rng: np.random.Generator, columns: Sequence[str],
                parent_context: pd.DataFrame | None, allowed: Mapping[str, np.ndarray] | None = None
                ) -> pd.DataFrame:
        evidence = {}
        for node, disc in self.context.items():
            if parent_context is not None:
                evidence[node] = disc.encode(parent_context[node])
            else:  # no parent rows given (resampling a few values): draw the context at random
                evidence[node] = rng.integers(0, disc.cardinality, size=n)
        codes = self.net.sample(n, rng, evidence, allowed) if self.net.nodes else {}
        return pd.DataFrame({c: self.discretizers[c].decode(codes[c], rng).array for c in columns},
                            index=pd.RangeIndex(n))

    def sample_within(self, n: int, *, rng: np.random.Generator, parent_context: pd.DataFrame | None,
                      tests: Mapping[str, Callable[[pd.Series], np.ndarray]]) -> pd.DataFrame:
        """``n`` rows with each column of ``tests`` drawn only from states where some decoded value
        passes its test (see :meth:`BayesNet.sample`'s ``allowed``); the scenario's fallback for a
        row whose parent context never drew it (see dbsynth.scenarios)."""
        allowed = {}
        for column, test in tests.items():
            d = self.discretizers[column]
            probe = np.repeat(np.arange(d.cardinality), 16)
            ok = test(d.decode(probe, rng).reset_index(drop=True))
            allowed[column] = np.bincount(probe[ok], minlength=d.cardinality) > 0
        return self._sample(n, rng=rng, columns=self.columns, parent_context=parent_context, allowed=allowed)

    def _bounds(self, column: str) -> tuple[float, float, float] | None:
        """The range the schema allows a column (see values.schema_bounds); None for counts, whose
        bins are public; a gap lies between 0 and MAX_GAP seconds (Pagila at ε = 5 once released a
        noise-born cell of the signed grid at 4.8e11 s, and a rental came back 15,000 years later)."""
        unit = self.units.get(column) or ""
        if column in self.gaps:
            return (0.0, MAX_GAP, 1.0)
        return None if unit.startswith("count:") else self.bounds.get(column)

    def null_shares(self, n: int = 20_000, seed: int = 0) -> dict[str, float]:
        """The share of rows each column's NULL state gets in ``n`` rows drawn from the network, parent
        context at random: under DP the NULL rate of a column whose domain held nothing (generated
        schema-only) comes from the released CPTs, post-processing, never from the data."""
        rng = np.random.default_rng(seed)
        evidence = {node: rng.integers(0, d.cardinality, size=n) for node, d in self.context.items()}
        codes = self.net.sample(n, rng, evidence) if self.net.nodes else {}
        return {c: float(np.mean(codes[c] == d.null_state)) if d.has_null else 0.0
                for c, d in self.discretizers.items() if c in codes}

    def means(self, nodes: Sequence[str], n: int = 20_000, seed: int = 0) -> dict[str, float]:
        """The mean of each node's values in ``n`` rows drawn from the network, parent context at
        random (post-processing of the released CPTs)."""
        if not nodes or not self.net.nodes:
            return {}
        drawn = self.sample(n, rng=np.random.default_rng(seed), columns=list(nodes))
        return {c: float(pd.to_numeric(drawn[c], errors="coerce").fillna(0).mean()) for c in nodes}

    def any_released(self, column: str, n: int, rng: np.random.Generator) -> pd.Series:
        """``n`` values of ``column`` drawn uniformly from its released states, never NULL: what
        enforcement falls back on when the network's own draws keep breaking a rule, so a value never
        leaves the column's released domain."""
        d = self.discretizers[column]
        states = np.flatnonzero([v is not None for v in d.values]) if d.kind == "values" \
            else np.arange(len(d.edges) - 1)
        return d.decode(states[rng.integers(0, len(states), size=n)], rng)

    def released(self, column: str) -> bool:
        """Whether the column's domain holds any value (under DP a rare-valued column may hold none;
        it is then generated schema-only)."""
        d = self.discretizers.get(column)
        return d is not None and (d.kind == "bins" or any(v is not None for v in d.values))

    def to_json(self, arrays: dict[str, np.ndarray], prefix: str) -> dict[str, Any]:
        return {"units": self.units, "k": self.k,
                "context": {n: d.to_json() for n, d in self.context.items()},
                "discretizers": {n: d.to_json() for n, d in self.discretizers.items()},
                "net": self.net.to_json(arrays, prefix)}

    @classmethod
    def from_json(cls, table: Table, data: dict[str, Any], arrays: dict[str, np.ndarray]) -> BayesNetGenerator:
        return cls(table, units=data["units"], k=data["k"],
                   context={n: Discretizer.from_json(d) for n, d in data["context"].items()},
                   discretizers={n: Discretizer.from_json(d) for n, d in data["discretizers"].items()},
                   net=cls.net_type.from_json(data["net"], arrays))
