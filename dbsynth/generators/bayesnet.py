"""A per-table Bayesian network over discretised columns, with vectorised forward sampling.

Structure: a greedy k-parent search in the PrivBayes style — nodes are added one at a time, each
with the parent set (at most ``k`` already-placed nodes) of highest mutual information; context
nodes (attributes of the referenced parent row) are placed first and have no CPT, so sampling
conditions on them exactly. Parameters: conditional probability tables from counts; an unseen parent
configuration falls back to the node's marginal.

Why not pgmpy's estimators and sampler: the differential-privacy work needs to own the counts (noise,
consistency post-processing) and the structure scores (exponential mechanism); stratified sampling
and context evidence need control of the draw; and the model file stores plain arrays. Everything
here is numpy on integer codes (560k rows/s on a 10-column table, ``benchmarks/fit_generate.py``).
:func:`dbsynth.export.to_pgmpy` hands a fitted network to pgmpy for inspection and inference.

Nor pgmpy's structure search on the exact path (ε = ∞): ``benchmarks/structure_search.py`` puts
``HillClimbSearch`` (BIC, in-degree ≤ 2, context nodes as roots, CPTs estimated alike) in place of
this search on every network of Pagila (13) and Chinook (6). Its structures fit held-out rows better
(log-likelihood per row, summed, −45.3 against −93.2 on Pagila, −35.4 against −40.4 on Chinook), but
generated data keep less: fidelity 0.958 against 0.989 (Pagila), 0.809 against 0.941 (Chinook),
where BIC drops the edges a small table cannot pay for (Chinook pair trends 0.677 against 0.966);
it takes 0.58 s against 0.04 s. Fidelity is what this path is for, so this search stays.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dbsynth.errors import DbsynthError
from dbsynth.generators.base import TableGenerator
from dbsynth.generators.discretize import Discretizer, fit_discretizer
from dbsynth.generators.dp_domain import dp_discretizer
from dbsynth.privacy.budget import TableBudget
from dbsynth.privacy.mechanisms import gaussian_sigma
from dbsynth.privacy.release import dp_cpt, mi_sensitivity, pick
from dbsynth.schema.model import Table

__all__ = ["BayesNet", "BayesNetGenerator", "Node", "mutual_information", "needs_domain", "structure_picks"]

MAX_PARENT_CONFIGS = 4096
THETA = 4.0
CANDIDATE_PARENTS = 6


@dataclass(frozen=True)
class Node:
    """``cpt[parent_config, state]``; ``parents`` are node names; context nodes have ``cpt`` None."""

    name: str
    cardinality: int
    parents: tuple[str, ...] = ()
    cpt: np.ndarray | None = None


def _entropy(codes: np.ndarray, size: int) -> float:
    counts = np.bincount(codes, minlength=size).astype(float)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def _joint(columns: list[np.ndarray], cards: list[int]) -> tuple[np.ndarray, int]:
    index = np.zeros(len(columns[0]) if columns else 0, dtype=np.int64)
    size = 1
    for codes, card in zip(columns, cards, strict=True):
        index = index * card + codes
        size *= card
    return index, size


def needs_domain(unit: str | None, labels: tuple[object, ...] | None) -> bool:
    """Whether a private column's domain is released with budget (counts and enum/boolean labels
    have public domains)."""
    return labels is None and not (unit or "").startswith("count:")


def structure_picks(context: int, nodes: int) -> int:
    """How many parent choices the exponential mechanism makes: one per node, except the first when
    there is no context to attach it to."""
    return max(nodes - (0 if context else 1), 0)


def mutual_information(x: np.ndarray, cx: int, parents: list[np.ndarray], cards: list[int]) -> float:
    """I(X; Π) = H(X) + H(Π) − H(X, Π), on integer codes."""
    if not parents:
        return 0.0
    pi, size = _joint(parents, cards)
    return _entropy(x, cx) + _entropy(pi, size) - _entropy(pi * cx + x, size * cx)


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
        search = _Search.of(codes, cards, context, k, budget, n if n_public is None else n_public)
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

    def sample(self, n: int, rng: np.random.Generator, evidence: dict[str, np.ndarray] | None = None
               ) -> dict[str, np.ndarray]:
        """Forward-sample ``n`` rows; ``evidence`` gives the codes of context nodes."""
        out: dict[str, np.ndarray] = {}
        for node in self.nodes:
            if node.cpt is None:
                given = (evidence or {}).get(node.name)
                out[node.name] = given if given is not None else np.zeros(n, dtype=np.int64)
                continue
            cfg, _ = _joint([out[p] for p in node.parents], [self.card(p) for p in node.parents])
            if not node.parents:
                cfg = np.zeros(n, dtype=np.int64)
            out[node.name] = _draw(node.cpt, cfg, rng)
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


@dataclass(frozen=True)
class _Search:
    """One table's structure search: pairwise mutual information, the nodes' sensitivities and, under
    DP, the shares of the structure and CPT parts.

    Under DP the exact nodes (a public table's own columns beside its private children counts) are
    placed first, with exact parents only: then only the private nodes split the structure and CPT
    shares, and all of both is spent (public tables spent 35-65% of theirs)."""

    codes: dict[str, np.ndarray]
    cards: dict[str, int]
    k: int
    budget: TableBudget | None
    n_cfg: int  # the (noisy) row count sensitivities and usefulness use
    pair: dict[tuple[str, str], float]
    order: list[str]  # exact nodes first (stable)
    exact: frozenset[str]
    parts: int  # private nodes: the CPT part is split between them
    picks: int  # structure choices: the structure part is split between them

    @classmethod
    def of(cls, codes: dict[str, np.ndarray], cards: dict[str, int], context: tuple[str, ...], k: int,
           budget: TableBudget | None, n_cfg: int) -> _Search:
        names = list(codes)
        pair = {(a, b): mutual_information(codes[a], cards[a], [codes[b]], [cards[b]])
                for a in names for b in names if a != b}
        sens = {c: budget.node_sensitivity.get(c, 0.0) if budget else 0.0 for c in names}
        order = sorted(names, key=lambda c: sens[c] > 0)
        exact = frozenset(c for c in order if c not in context and budget is not None and sens[c] == 0)
        private = [c for c in order if c not in context and c not in exact]
        return cls(codes, cards, k, budget, n_cfg, pair, order, exact, len(private),
                   structure_picks(len(context) + len(exact), len(private)))

    def delta(self, nodes: tuple[str, ...]) -> float:
        if self.budget is None:
            return 0.0
        return max((self.budget.node_sensitivity.get(x, 0.0) for x in nodes), default=0.0)

    def useful(self, x: str, parents: tuple[str, ...], configs: int) -> bool:
        """θ-usefulness (PrivBayes): a noisy CPT is worth having only while each cell can expect
        several times more rows than its noise; otherwise fewer parents are better."""
        if self.budget is None or self.delta((x, *parents)) == 0:
            return True
        sigma = gaussian_sigma(self.delta((x, *parents)), self.budget.part("cpt", self.parts))
        return self.n_cfg / (configs * self.cards[x]) >= THETA * sigma

    def first(self, todo: list[str]) -> str:
        """The first node without context: at random under DP (no exact node to start from), else the
        one that shares most information with the others."""
        budget = self.budget
        if budget is not None and not self.exact and any(budget.private(x) for x in todo):
            return todo[int(budget.rng.integers(len(todo)))]
        pool = [c for c in todo if c in self.exact] or todo
        return max(pool, key=lambda c: sum(self.pair[(c, o)] for o in pool if o != c))

    def options(self, x: str, placed: list[str]) -> list[tuple[float, str, tuple[str, ...]]]:
        """(score, node, parents) for every parent set of ``x`` among the ``placed`` nodes worth a CPT."""
        if x in self.exact:  # exact parents only, chosen exactly
            ranked = sorted((-self.pair[(x, p)], p) for p in placed if self.delta((p,)) == 0)
            candidates = [p for _, p in ranked[:CANDIDATE_PARENTS]]
        else:
            ranked = sorted((-self.pair[(x, p)], p) for p in placed)
            candidates = [p for _, p in ranked[:CANDIDATE_PARENTS]] if self.budget is None else placed
        out: list[tuple[float, str, tuple[str, ...]]] = [(0.0, x, ())]
        for size in range(1, min(self.k, len(candidates)) + 1):
            for parents in itertools.combinations(candidates, size):
                configs = int(np.prod([self.cards[p] for p in parents]))
                too_many = configs > MAX_PARENT_CONFIGS or configs > max(self.n_cfg, 64)
                if too_many or not self.useful(x, parents, configs):
                    continue
                mi = self.pair[(x, parents[0])] if size == 1 else mutual_information(
                    self.codes[x], self.cards[x], [self.codes[p] for p in parents], [self.cards[p] for p in parents])
                out.append((mi, x, tuple(parents)))
        return out

    def choose(self, options: list[tuple[float, str, tuple[str, ...]]]) -> tuple[float, str, tuple[str, ...]]:
        """The best option, or under DP one drawn by the exponential mechanism."""
        sens = max(self.delta((x, *ps)) for _, x, ps in options) * mi_sensitivity(self.n_cfg)
        if self.budget is not None and sens > 0:
            return options[pick([o[0] for o in options], sens, self.budget, f"structure {options[0][1]}…", self.picks)]
        return max(options, key=lambda o: o[0])

    def node(self, name: str, parents: tuple[str, ...], not_null: bool) -> Node:
        return _node(name, parents, self.codes, self.cards, self.budget, self.delta((name, *parents)), self.parts,
                     not_null)


def _node(name: str, parents: tuple[str, ...], codes: dict[str, np.ndarray], cards: dict[str, int],
          budget: TableBudget | None = None, sensitivity: float = 0.0, parts: int = 1,
          not_null: bool = False) -> Node:
    """A node and its CPT; ``not_null`` gives the NULL state (always the last) probability zero —
    the schema says so, so it costs no privacy."""
    card = cards[name]
    cfg, size = _joint([codes[p] for p in parents], [cards[p] for p in parents])
    if not parents:
        cfg, size = np.zeros(len(codes[name]), dtype=np.int64), 1
    counts = np.bincount(cfg * card + codes[name], minlength=size * card).reshape(size, card).astype(float)
    if budget is not None and sensitivity > 0:
        # a count node's empty bins lie far above its children-per-parent: the noise clipped at zero
        # in them drew the mean up (Chinook at ε = 5: 15 invoices a customer for 7); those under 2σ go
        cpt = dp_cpt(counts, sensitivity, budget, f"cpt {name}", parts, floor=2.0 if name.startswith("#") else 0.0)
        if not_null and card > 1:
            cpt[:, -1] = 0.0
            totals = cpt.sum(axis=1, keepdims=True)
            cpt = np.where(totals > 0, cpt / np.maximum(totals, 1e-12), 1.0 / (card - 1))
            cpt[:, -1] = 0.0
        return Node(name, card, parents, cpt)
    marginal = np.bincount(codes[name], minlength=card).astype(float)
    marginal = marginal / marginal.sum() if marginal.sum() else np.full(card, 1.0 / card)
    totals = counts.sum(axis=1, keepdims=True)
    cpt = np.where(totals > 0, counts / np.maximum(totals, 1.0), marginal)
    return Node(name, card, parents, cpt)


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
                                                        node=col, budget=dp, parts=spending, bounds=self._bounds(col))
        codes = self.discretize(frame)
        for node, disc in self.context.items():
            assert context is not None, "context columns need a context frame"
            codes[node] = disc.encode(context[node])
        cards = {n: (self.context.get(n) or self.discretizers[n]).cardinality for n in codes}
        not_null = frozenset(c for c in self.units if not c.startswith("#") and not self.table.column(c).nullable)
        self.net = BayesNet.fit(codes, cards, context=tuple(self.context), k=self.k, budget=dp,
                                n_public=self.n_public, not_null=not_null) if codes else BayesNet()

    def _sample(self, n: int, *, rng: np.random.Generator, columns: Sequence[str],
                parent_context: pd.DataFrame | None) -> pd.DataFrame:
        evidence = {}
        for node, disc in self.context.items():
            if parent_context is not None:
                evidence[node] = disc.encode(parent_context[node])
            else:  # no parent rows given (resampling a few values): draw the context at random
                evidence[node] = rng.integers(0, disc.cardinality, size=n)
        codes = self.net.sample(n, rng, evidence) if self.net.nodes else {}
        return pd.DataFrame({c: self.discretizers[c].decode(codes[c], rng).to_numpy() for c in columns},
                            index=pd.RangeIndex(n))

    def _bounds(self, column: str) -> tuple[float, float, float] | None:
        """The range the schema allows a column (see values.schema_bounds); None for counts and gaps,
        whose units are their own."""
        unit = self.units.get(column) or ""
        return None if unit.startswith("count:") or column in self.gaps else self.bounds.get(column)

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
                   net=BayesNet.from_json(data["net"], arrays))
