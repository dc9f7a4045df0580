"""Learned networks exported to pgmpy: pgmpy's exact inference on the export must give the
marginals dbsynth's own sampler draws, for every learned table of Pagila and Chinook."""

from __future__ import annotations

import numpy as np
import pytest
from pgmpy.inference import VariableElimination

import dbsynth
from dbsynth.export import to_pgmpy

DRAWS = 100_000


@pytest.mark.parametrize("name", ["pagila", "chinook"])
def test_pgmpy_marginals_equal_the_generators(name: str, source_databases: dict[str, str]) -> None:
    model = dbsynth.fit(source_databases[name], seed=3, epsilon=float("inf"))  # exact: the strongest links
    learned = [k for k, tm in model.tables.items() if tm.generator.net.nodes]
    assert len(learned) >= 5
    rng = np.random.default_rng(0)
    for key in learned:
        net = model.tables[key].generator.net
        exported = to_pgmpy(model, key)
        inputs = [node.name for node in net.nodes if node.cpt is None]
        # the parent-context inputs held at one state each, as one parent row would hold them
        given = {n: int(rng.integers(0, net.card(n))) for n in inputs}
        drawn = net.sample(DRAWS, rng, {n: np.full(DRAWS, s, dtype=np.int64) for n, s in given.items()})
        infer = VariableElimination(exported)
        evidence = {n: exported.get_cpds(n).state_names[n][s] for n, s in given.items()}
        for node in net.nodes:
            if node.cpt is None:
                continue
            # the joint of each node with its first parent: a CPT read in the wrong order shows here
            # even where the marginals alone would agree
            names = [node.name, *[q for q in node.parents if q not in given][:1]]
            exact = infer.query(names, joint=True, evidence=evidence or None, show_progress=False)
            states = [exported.get_cpds(n).state_names[n] for n in names]
            expected = exact.values.transpose([exact.variables.index(n) for n in names])
            expected = expected[np.ix_(*[[exact.state_names[n].index(s) for s in ss]
                                         for n, ss in zip(names, states, strict=True)])]
            codes = np.ravel_multi_index([drawn[n] for n in names], expected.shape)
            observed = np.bincount(codes, minlength=expected.size).reshape(expected.shape) / DRAWS
            assert np.abs(observed - expected).max() < 0.01, (key, names)
