"""The marginal-based engine: MST (McKenna, Miklau & Sheldon, "Winning the NIST Contest", 2021) over a
table's discretised nodes, its noisy marginals made consistent by Private-PGM (``mbi``), the library
MST and AIM are built on.

Every node's one-way marginal is measured with Gaussian noise; the pairs that the independent model
misses most are chosen, one exponential-mechanism pick at a time, as the edges of a spanning tree
(Kruskal); each chosen pair is measured; ``mbi`` estimates the one distribution that agrees best with
all the measurements (non-negative, consistent between a pair and its one-ways). A tree model is a
Bayesian network with one parent per node, so the estimate becomes one: each node's CPT is its
estimated pair with its parent, divided by the parent's marginal. Sampling, conditioning on the parent
row (context nodes are the tree's roots, merged into one component before the search, so every
own node hangs under them), the model file and the pgmpy export are the Bayesian network's.

Why the noisy-CPT network does worse under DP (``benchmarks/dp_anchors.py``): its CPTs are noisy
counts of up to 2 parents × the node, each node's one-way marginal implied by noisy conditionals;
here each one-way marginal is measured directly and the pairs are reconciled with it.

Cost: ``mbi`` runs on JAX (jax + jaxlib ≈ 380 MB installed, an ~85 MB wheel), imported on the first
DP fit only; JIT compilation takes ~1-3 s per table shape, the estimate itself milliseconds.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy as np

from dbsynth.errors import UsageError
from dbsynth.generators.bayesnet import BayesNet, BayesNetGenerator
from dbsynth.generators.structure import Node, joint
from dbsynth.privacy.budget import TableBudget
from dbsynth.privacy.mechanisms import gaussian, gaussian_sigma
from dbsynth.privacy.release import pick

__all__ = ["MarginalGenerator", "mst_net"]

EXACT_SD = 1e-3  # the "noise" of an exact measurement (a public node's marginal): weighs it ~certain
COUNT_FLOOR = 3.0  # a count node's bins whose noisy one-way count is under this many σ stay empty
ITERATIONS = 1000


class MarginalGenerator(BayesNetGenerator):
    """The Bayesian network's discretisers and sampler, with the network learned by MST + Private-PGM."""

    kind = "marginal"

    def _learn(self, codes: dict[str, np.ndarray], cards: dict[str, int], budget: TableBudget | None,
               not_null: frozenset[str]) -> BayesNet:
        return mst_net(codes, cards, context=tuple(self.context), budget=budget,
                       n_public=self.n_public, not_null=not_null)


def _mbi() -> Any:
    """``mbi`` with JAX in float64 (its estimates stall in float32 on larger tables, its own warning;
    the setting is process-wide, as JAX's configuration is)."""
    try:
        import jax

        jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import mbi
    except ModuleNotFoundError as exc:
        raise UsageError(f"--engine marginal needs {exc.name}, which is not installed: "
                         "pip install 'dbsynth[marginal]'") from exc
    return mbi


class _Measure:
    """Histograms of node sets, noisy where a node is private, each spend in the ledger."""

    def __init__(self, codes: dict[str, np.ndarray], cards: dict[str, int], budget: TableBudget | None) -> None:
        self.codes, self.cards, self.budget = codes, cards, budget

    def sens(self, nodes: tuple[str, ...]) -> float:
        if self.budget is None:
            return 0.0
        return max(self.budget.node_sensitivity.get(x, 0.0) for x in nodes)

    def counts(self, nodes: tuple[str, ...]) -> np.ndarray:
        index, size = joint([self.codes[x] for x in nodes], [self.cards[x] for x in nodes])
        return np.bincount(index, minlength=size).astype(float)

    def __call__(self, nodes: tuple[str, ...], parts: int) -> tuple[np.ndarray, float]:
        """The (noisy) histogram of ``nodes`` and its noise σ (``EXACT_SD`` when exact)."""
        exact = self.counts(nodes)
        sens = self.sens(nodes)
        if self.budget is None or sens == 0:
            return exact, EXACT_SD
        rho = self.budget.part("cpt", parts)
        sigma = gaussian_sigma(sens, rho)
        self.budget.accountant.spend(self.budget.table, f"marginal {' × '.join(nodes)}", "gaussian", rho,
                                     sensitivity=sens, scale=sigma)
        return gaussian(exact, sens, rho), sigma


def _tree(measure: _Measure, names: list[str], context: tuple[str, ...], one: Mapping[str, np.ndarray],
          n: float) -> list[tuple[str, str]]:
    """Kruskal over the nodes, context nodes merged into one component first: at each step the pair
    (across two components) whose histogram is farthest in L1 from the product of its noisy one-ways,
    picked by the exponential mechanism (sensitivity Δ: a unit's rows move the histogram by that much
    in L1, the one-ways are released). ``one`` holds the normalised one-way estimates."""
    budget = measure.budget
    component = {x: (context[0] if x in context else x) for x in names}
    picks = len(set(component.values())) - 1
    edges: list[tuple[str, str]] = []
    candidates = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
                  if not (a in context and b in context)]
    scores = {(a, b): float(np.abs(measure.counts((a, b)) - n * np.outer(one[a], one[b]).ravel()).sum())
              for a, b in candidates}
    while len(set(component.values())) > 1:
        open_ = [p for p in candidates if component[p[0]] != component[p[1]]]
        sens = max(measure.sens(p) for p in open_)
        values = [scores[p] for p in open_]
        if budget is not None and sens > 0:
            chosen = open_[pick(values, sens, budget, f"tree edge {len(edges) + 1}", picks)]
        else:
            chosen = open_[int(np.argmax(values))]
        edges.append(chosen)
        old, new = component[chosen[1]], component[chosen[0]]
        component = {x: new if c == old else c for x, c in component.items()}
    return edges


def mst_net(codes: dict[str, np.ndarray], cards: dict[str, int], *, context: tuple[str, ...] = (),
            budget: TableBudget | None = None, n_public: int | None = None,
            not_null: frozenset[str] = frozenset()) -> BayesNet:
    """A tree-shaped network: one-way measurements (the CPT part's first half), a spanning tree by
    the exponential mechanism (the structure part), the tree's pairs measured (the second half), a
    consistent estimate by mbi, and CPTs read from it. Exact (``budget`` None) every measurement is
    exact and the tree maximises the L1 distance from independence."""
    names = list(codes)
    n = float(len(next(iter(codes.values()))) if n_public is None else n_public)
    measure = _Measure(codes, cards, budget)
    private = [x for x in names if measure.sens((x,)) > 0]
    halves = 2 if len(names) > 1 else 1  # a lone node's one-way takes the whole CPT part
    ones = {x: measure((x,), halves * len(private)) for x in names}
    one = {}
    for x, (y, _) in ones.items():
        y = np.clip(y, 0.0, None)
        one[x] = y / y.sum() if y.sum() > 0 else np.full(cards[x], 1.0 / cards[x])
    edges = _tree(measure, names, context, one, n)
    pairs = {e: measure(e, 2 * sum(1 for p in edges if measure.sens(p) > 0)) for e in edges}
    mbi = _mbi()
    domain = mbi.Domain(names, [cards[x] for x in names])
    measurements = [mbi.LinearMeasurement(y, nodes, stddev=sd)
                    for nodes, (y, sd) in [*(((x,), v) for x, v in ones.items()), *pairs.items()]]
    model = mbi.estimation.MirrorDescent().estimate(domain, measurements, known_total=n, iters=ITERATIONS)

    def table(nodes: tuple[str, ...]) -> np.ndarray:
        return np.clip(np.asarray(model.project(nodes).datavector(flatten=False), dtype=float), 0.0, None)

    floors = {x: ones[x][0] < COUNT_FLOOR * ones[x][1] for x in names if x.startswith("#") and x in private}
    placed: list[Node] = [Node(c, cards[c]) for c in context]
    graph = nx.Graph(edges)
    graph.add_nodes_from(names)
    roots = list(context) or [max(names, key=lambda x: graph.degree[x])]
    if not context:
        placed.append(_node(roots[0], (), table((roots[0],))[None, :], cards, floors, not_null))
    for parent, child in nx.bfs_edges(graph, source=roots[0]) if not context else _from_all(graph, roots):
        placed.append(_node(child, (parent,), table((parent, child)), cards, floors, not_null))
    return BayesNet(placed)


def _from_all(graph: nx.Graph, roots: list[str]) -> list[tuple[str, str]]:
    """Breadth-first edges from several roots at once (the context nodes)."""
    hub = object()
    g = graph.copy()
    g.add_edges_from((hub, r) for r in roots)
    return [(u, v) for u, v in nx.bfs_edges(g, source=hub) if u is not hub]


def _node(name: str, parents: tuple[str, ...], joint_table: np.ndarray, cards: dict[str, int],
          floors: Mapping[str, np.ndarray], not_null: frozenset[str]) -> Node:
    """``P(name | parent)`` from an estimated joint ``[parent state, state]``. A count node's bins its
    noisy one-way showed empty stay empty (noise clipped at zero would draw the mean up; see
    structure.cpt_node); a NOT NULL column's NULL state gets nothing (the schema says so)."""
    cpt = joint_table.reshape(-1, cards[name]).copy()
    if name in floors:
        cpt[:, floors[name]] = 0.0
    if name in not_null and cards[name] > 1:
        cpt[:, -1] = 0.0
    marginal = cpt.sum(axis=0)
    marginal = marginal / marginal.sum() if marginal.sum() > 0 else np.full(cards[name], 1.0 / cards[name])
    totals = cpt.sum(axis=1, keepdims=True)
    return Node(name, cards[name], parents, np.where(totals > 0, cpt / np.maximum(totals, 1e-12), marginal))
