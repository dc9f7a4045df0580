"""A learned table's Bayesian network as a pgmpy model, to inspect it and run inference on it.

``to_pgmpy(model, "rental")`` gives a :class:`pgmpy.models.DiscreteBayesianNetwork` with one
:class:`~pgmpy.factors.discrete.TabularCPD` per node of the table's network, the very tables dbsynth
samples from (noisy ones under DP: the export releases nothing new). Node names are the model
file's: a column (``rental_rate``), a children-per-row count (``#payment(rental_id)``), or the
primary parent's column the table is conditioned on (``^store_id``). State names are the
discretizer's states as text — a value (``PG-13``), a bin (``[0.99, 2.99)``) or ``NULL``.

Parent-context nodes are inputs: generation takes them from the parent row, so the export gives
them a uniform prior. Query with them as evidence (``VariableElimination(net).query(["rating"],
evidence={"^store_id": "1"})``) to read the distribution for a given parent row.

pgmpy is an optional dependency (``pip install 'dbsynth[pgmpy]'``); generation does not need it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dbsynth.errors import UsageError
from dbsynth.generators.discretize import Discretizer
from dbsynth.model import Model

__all__ = ["state_names", "to_pgmpy"]


def state_names(d: Discretizer) -> list[str]:
    """The states of ``d`` as text, in code order (NULL last when it has one)."""
    if d.kind == "values":
        names = ["NULL" if v is None else str(v) for v in d.values]
    else:
        names = [f"[{lo:g}, {hi:g})" for lo, hi in zip(d.edges[:-1], d.edges[1:], strict=True)]
    if d.has_null:
        names.append("NULL")
    # a value that prints as "NULL", or two that print alike, must still name distinct states
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _rows(cpt: np.ndarray) -> np.ndarray:
    """Rows normalised as sampling normalises them (negative mass clipped, an empty row uniform)."""
    p = np.clip(np.asarray(cpt, dtype=float), 0.0, None)
    totals = p.sum(axis=1, keepdims=True)
    return np.where(totals > 0, p / np.where(totals > 0, totals, 1.0), 1.0 / p.shape[1])


def to_pgmpy(model: Model, table: str) -> Any:
    """The network of ``table`` (a key of ``model.tables``) as a pgmpy ``DiscreteBayesianNetwork``."""
    try:
        from pgmpy.factors.discrete import TabularCPD
        from pgmpy.models import DiscreteBayesianNetwork
    except ImportError as exc:
        raise UsageError("exporting to pgmpy needs pgmpy: pip install 'dbsynth[pgmpy]'") from exc
    if table not in model.tables:
        raise UsageError(f"no learned table {table!r}; the model has {', '.join(model.tables)}")
    gen = model.tables[table].generator
    if gen.kind == "neural":
        raise UsageError(f"{table}: learned by the neural generator, which has no probability tables to export")
    if not gen.net.nodes:
        raise UsageError(f"{table}: nothing was learned (no column is modelled by a network)")
    discretizers = {**gen.context, **gen.discretizers}
    names = {node.name: state_names(discretizers[node.name]) for node in gen.net.nodes}
    net = DiscreteBayesianNetwork()
    net.add_nodes_from(names)
    net.add_edges_from([(p, node.name) for node in gen.net.nodes for p in node.parents])
    cards = {node.name: node.cardinality for node in gen.net.nodes}
    for node in gen.net.nodes:
        # a parent-context input is uniform, to be given as evidence; a CPT is cpt[configuration,
        # state] with the first parent varying slowest, pgmpy's column order
        values = np.full((node.cardinality, 1), 1.0 / node.cardinality) if node.cpt is None else _rows(node.cpt).T
        net.add_cpds(TabularCPD(
            node.name, node.cardinality, values, evidence=list(node.parents) or None,
            evidence_card=[cards[p] for p in node.parents] or None,
            state_names={n: names[n] for n in (node.name, *node.parents)}))
    net.check_model()
    return net
