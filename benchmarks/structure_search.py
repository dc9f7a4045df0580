"""Structure search on the exact path (ε = ∞): dbsynth's greedy mutual-information search against
pgmpy's ``HillClimbSearch`` (BIC score, the same in-degree bound k = 2, context nodes kept as roots),
on every network a fit of Pagila and Chinook builds — one run.

Per dataset: the seconds each search takes over all networks; the held-out log-likelihood per row
(nats, higher is better) of 20% of the rows when both structures get their CPTs the same way from the
other 80%; and the fidelity score of generated data when ``dbsynth.fit`` uses each search (the
report's overall score, SDMetrics' four properties).

    python benchmarks/structure_search.py [--url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from _datasets import scratch

import dbsynth
from dbsynth.connect import create_engine
from dbsynth.generators.bayesnet import BayesNet
from dbsynth.generators.structure import Node, cpt_node, joint
from dbsynth.report.fidelity import fidelity_report
from dbsynth.schema import reflect
from dbsynth.schema.read import read_table

warnings.filterwarnings("ignore", category=FutureWarning)  # pgmpy's own deprecation notices
Call = tuple[dict[str, np.ndarray], dict[str, int], tuple[str, ...], int, frozenset[str]]
_ours = BayesNet.fit.__func__  # type: ignore[attr-defined]


def pgmpy_structure(codes: dict[str, np.ndarray], cards: dict[str, int], context: tuple[str, ...], k: int
                    ) -> list[tuple[str, tuple[str, ...]]]:
    """(node, parents) in a topological order, context nodes first, from pgmpy's hill climbing."""
    from pgmpy.causal_discovery import ExpertKnowledge
    from pgmpy.estimators import HillClimbSearch

    free = [c for c in codes if c not in context]
    if len(codes) < 2:
        return [(c, ()) for c in [*context, *free]]
    data = pd.DataFrame({c: pd.Categorical(codes[c], categories=range(cards[c])) for c in codes})
    forbidden = [(x, c) for c in context for x in codes if x != c]  # nothing points into a context node
    dag = HillClimbSearch(data).estimate(scoring_method="bic-d", max_indegree=k, show_progress=False,
                                         expert_knowledge=ExpertKnowledge(forbidden_edges=forbidden))
    graph = nx.DiGraph(dag.edges())
    graph.add_nodes_from(codes)
    order = [c for c in nx.lexicographical_topological_sort(graph, key=lambda c: (c not in context, c))]
    return [(c, tuple(sorted(graph.predecessors(c)))) for c in order]


def fit_with(structure: list[tuple[str, tuple[str, ...]]], codes: dict[str, np.ndarray], cards: dict[str, int],
             not_null: frozenset[str], context: tuple[str, ...]) -> BayesNet:
    """CPTs exactly as dbsynth estimates them (context nodes carry none), over a given structure."""
    return BayesNet([Node(c, cards[c]) if c in context else cpt_node(c, ps, codes, cards, not_null=c in not_null)
                     for c, ps in structure])


def held_out_ll(net: BayesNet, codes: dict[str, np.ndarray], cards: dict[str, int], context: tuple[str, ...]) -> float:
    """Mean log-likelihood per row of ``codes`` (context given), probabilities floored at 1e-6."""
    total = np.zeros(len(next(iter(codes.values()))))
    for node in net.nodes:
        if node.name in context:
            continue
        cfg, _ = joint([codes[p] for p in node.parents], [cards[p] for p in node.parents])
        if not node.parents:
            cfg = np.zeros(len(total), dtype=np.int64)
        assert node.cpt is not None
        total += np.log(np.maximum(node.cpt[cfg, codes[node.name]], 1e-6))
    return float(total.mean())


@contextmanager
def search(kind: str, calls: list[Call], seconds: list[float]) -> Iterator[None]:
    """``BayesNet.fit`` with the given search (``"dbsynth"`` or ``"pgmpy"``), recording its inputs."""
    def fit(cls: type[BayesNet], codes: dict[str, np.ndarray], cards: dict[str, int], *,
            context: tuple[str, ...] = (), k: int = 2, not_null: frozenset[str] = frozenset(), **kw: Any) -> BayesNet:
        calls.append((codes, cards, context, k, not_null))
        start = time.perf_counter()
        if kind == "dbsynth" or kw.get("budget") is not None:
            net = _ours(cls, codes, cards, context=context, k=k, not_null=not_null, **kw)
        else:
            net = fit_with(pgmpy_structure(codes, cards, context, k), codes, cards, not_null, context)
        seconds.append(time.perf_counter() - start)
        return net

    original = BayesNet.fit
    BayesNet.fit = classmethod(fit)  # type: ignore[assignment]
    try:
        yield
    finally:
        BayesNet.fit = original  # type: ignore[method-assign]


def split(codes: dict[str, np.ndarray], rng: np.random.Generator) -> tuple[dict[str, np.ndarray], ...]:
    test = rng.random(len(next(iter(codes.values())))) < 0.2
    return {c: v[~test] for c, v in codes.items()}, {c: v[test] for c, v in codes.items()}


def compare(src: str) -> dict[str, float]:
    engine = create_engine(src)
    try:
        schema = reflect(engine)
        real = {t.key: read_table(engine, t) for t in schema.tables}
    finally:
        engine.dispose()
    out: dict[str, float] = {}
    for kind in ("dbsynth", "pgmpy"):
        calls: list[Call] = []
        seconds: list[float] = []
        with search(kind, calls, seconds):
            model = dbsynth.fit(src, epsilon=math.inf)
        synth = dbsynth.sample(model, seed=2)
        out[f"{kind} search s"] = sum(seconds)
        for part, value in fidelity_report(schema, real, synth).overall().items():
            out[f"{kind} {part}"] = value or 0.0
        if kind == "dbsynth":
            lls: dict[str, list[float]] = {"dbsynth": [], "pgmpy": []}
            rng = np.random.default_rng(0)
            for codes, cards, context, k, not_null in calls:
                if not codes or len(next(iter(codes.values()))) < 50:
                    continue
                train, test = split(codes, rng)
                ours = _ours(BayesNet, train, cards, context=context, k=k, not_null=not_null)
                theirs = fit_with(pgmpy_structure(train, cards, context, k), train, cards, not_null, context)
                lls["dbsynth"].append(held_out_ll(ours, test, cards, context))
                lls["pgmpy"].append(held_out_ll(theirs, test, cards, context))
            out["networks"] = len(lls["dbsynth"])
            for name, values in lls.items():
                out[f"{name} held-out ll"] = float(np.sum(values))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    results: dict[str, dict[str, float]] = {}
    with scratch(args.url) as dbs:
        for name in ("pagila", "chinook"):
            results[name] = compare(dbs.source(name))
    show: Callable[[float], str] = lambda v: f"{v:.3f}"  # noqa: E731
    print(f"{'dataset':8} {'networks':>8} {'search s (dbsynth / pgmpy)':>27} "
          f"{'held-out ll/row, summed (dbsynth / pgmpy)':>42} {'fidelity (dbsynth / pgmpy)':>27}")
    for name, r in results.items():
        print(f"{name:8} {r['networks']:>8.0f} {show(r['dbsynth search s']):>13} / {show(r['pgmpy search s']):<11} "
              f"{show(r['dbsynth held-out ll']):>21} / {show(r['pgmpy held-out ll']):<18} "
              f"{show(r['dbsynth score']):>13} / {show(r['pgmpy score'])}")
    print("\nfidelity by property (dbsynth / pgmpy)")
    for name, r in results.items():
        parts = ("column_shapes", "pair_trends", "cardinality", "inter_table_trends")
        print(f"{name:8} " + "  ".join(f"{p} {show(r['dbsynth ' + p])} / {show(r['pgmpy ' + p])}" for p in parts))


if __name__ == "__main__":
    main()
