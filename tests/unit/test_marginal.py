"""The marginal engine (MST + Private-PGM) from outside: what the tree finds, what its CPTs say, what
the ledger records, and that context nodes are conditioned on."""

from __future__ import annotations

import numpy as np
import pytest

from dbsynth.generators.marginal import mst_net
from dbsynth.privacy.accountant import Accountant
from dbsynth.privacy.budget import TableBudget
from tests.conftest import dependent_codes


def test_the_exact_tree_links_the_dependent_pair_and_its_cpt_is_the_data_conditional() -> None:
    codes, cards = dependent_codes(20_000)
    net = mst_net(codes, cards)
    parents = {nd.name: nd.parents for nd in net.nodes}
    assert parents["b"] == ("a",) or parents["a"] == ("b",)
    child = next(nd for nd in net.nodes if nd.name in ("a", "b") and nd.parents)
    assert child.cpt is not None
    given, x = child.parents[0], child.name
    counts = np.zeros((4, 4))
    np.add.at(counts, (codes[given], codes[x]), 1)
    assert np.abs(child.cpt - counts / counts.sum(axis=1, keepdims=True)).max() < 0.01


def test_a_dp_tree_spends_what_the_table_was_given_and_its_draws_keep_the_dependency() -> None:
    codes, cards = dependent_codes(5_000, seed=1)
    acc = Accountant(5.0, 1e-6)
    budget = TableBudget(acc, "t", 0.05, dict.fromkeys(codes, 1.0), np.random.default_rng(1))
    budget.use(["structure", "cpt"])
    net = mst_net(codes, cards, budget=budget, n_public=5_000)
    assert acc.spent_rho == pytest.approx(0.05, rel=1e-9)
    labels = [e.component for e in acc.entries]
    assert sum(lb.startswith("marginal") and "×" not in lb for lb in labels) == 3  # every one-way
    assert sum("×" in lb for lb in labels) == 2  # the tree's two pairs
    drawn = net.sample(20_000, np.random.default_rng(2))
    assert np.mean(drawn["a"] == drawn["b"]) > 0.8  # 0.9 in the data, 0.25 if independent


def test_context_nodes_are_roots_and_the_draw_follows_the_evidence() -> None:
    rng = np.random.default_rng(3)
    ctx = rng.integers(0, 2, 10_000)
    x = np.where(rng.random(10_000) < 0.95, ctx, 1 - ctx)
    net = mst_net({"^p": ctx, "x": x}, {"^p": 2, "x": 2}, context=("^p",))
    assert net.nodes[0].name == "^p" and net.nodes[0].cpt is None
    evidence = np.repeat([0, 1], 5_000)
    drawn = net.sample(10_000, np.random.default_rng(4), {"^p": evidence})
    assert np.mean(drawn["x"] == evidence) > 0.9


def test_a_not_null_column_never_draws_its_null_state() -> None:
    codes, cards = dependent_codes(2_000, seed=5)
    codes["c"][:50] = 3  # a NULL state (the last) in the data
    cards["c"] = 4
    acc = Accountant(1.0, 1e-6)
    budget = TableBudget(acc, "t", 0.01, dict.fromkeys(codes, 1.0), np.random.default_rng(5))
    budget.use(["structure", "cpt"])
    net = mst_net(codes, cards, budget=budget, n_public=2_000, not_null=frozenset({"c"}))
    assert not np.any(net.sample(20_000, np.random.default_rng(6))["c"] == 3)
