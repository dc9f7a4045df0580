"""The neural generator from outside: what it learns exactly, that its draws follow the parent context,
that a seed fixes an exact fit, and that its DP-SGD spend in the ledger is what Opacus' own accountant
gives for the steps taken, composed within the fit's ε."""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np
import pytest

from dbsynth.errors import UsageError
from dbsynth.generators.neural import NeuralGenerator, NeuralNet
from dbsynth.privacy.accountant import ORDERS, Accountant, eps_from_rho
from dbsynth.privacy.budget import TableBudget
from dbsynth.schema.model import Table
from tests.conftest import dependent_codes

pytest.importorskip("torch")
pytest.importorskip("opacus")


def _generator(units: list[str], seed: int = 0) -> NeuralGenerator:
    return NeuralGenerator(Table(None, "t", columns=()), units=dict.fromkeys(units), seed=seed)


def test_an_exact_fit_learns_the_dependency_and_a_seed_fixes_it() -> None:
    codes, cards = dependent_codes(4_000)
    nets = [_generator(list(codes), seed=7)._learn(codes, cards, None, frozenset()) for _ in range(2)]
    assert isinstance(nets[0], NeuralNet) and isinstance(nets[1], NeuralNet)
    assert all(np.array_equal(w, v) for k in nets[0].weights for w, v in zip(nets[0].weights[k], nets[1].weights[k],
                                                                             strict=True))
    drawn = nets[0].sample(20_000, np.random.default_rng(2))
    assert np.mean(drawn["a"] == drawn["b"]) > 0.8  # 0.9 in the data, 0.25 if independent
    shares = np.bincount(drawn["c"], minlength=3) / 20_000
    assert np.abs(shares - np.bincount(codes["c"], minlength=3) / 4_000).max() < 0.03


def test_draws_follow_the_parent_context() -> None:
    rng = np.random.default_rng(3)
    ctx = rng.integers(0, 2, 5_000)
    x = np.where(rng.random(5_000) < 0.95, ctx, 1 - ctx)
    gen = _generator(["x"])
    gen.context = {"^p": None}  # type: ignore[dict-item]  # only its name orders the nodes
    net = gen._learn({"^p": ctx, "x": x}, {"^p": 2, "x": 2}, None, frozenset())
    evidence = np.repeat([0, 1], 5_000)
    drawn = net.sample(10_000, np.random.default_rng(4), {"^p": evidence})
    assert np.mean(drawn["x"] == evidence) > 0.9


def test_dp_sgd_spends_what_opacus_accounts_for_its_steps() -> None:
    from opacus.accountants import RDPAccountant
    from opacus.accountants.analysis.rdp import compute_rdp

    codes, cards = dependent_codes(3_000, seed=1)
    acc = Accountant(5.0, 1e-6)
    rows_per_person = 3.0
    budget = TableBudget(acc, "t", 0.05, dict.fromkeys(codes, rows_per_person), np.random.default_rng(1))
    budget.use(["structure", "cpt"])
    net = _generator(list(codes))._learn(codes, cards, budget, frozenset())
    (entry,) = [e for e in acc.entries if e.rdp]
    assert entry.rho <= 0.05 * (1 + 1e-9) and entry.steps > 0
    batches = math.ceil(3_000 / 256)
    assert entry.sample_rate == pytest.approx(1 - (1 - 1 / batches) ** rows_per_person)
    sigma = entry.scale  # noise σ·C with C = 1
    theirs = RDPAccountant()
    theirs.history = [(sigma, entry.sample_rate, entry.steps)]
    assert entry.epsilon == pytest.approx(theirs.get_epsilon(acc.conversion_delta), rel=0.02)
    assert entry.rdp == pytest.approx(tuple(compute_rdp(q=entry.sample_rate, noise_multiplier=sigma,
                                                        steps=entry.steps, orders=list(entry.orders))))
    assert entry.orders[-1] == pytest.approx(acc.conversion_order) and entry.orders[:-1] == ORDERS
    # composed with zCDP releases, the fit stays within its ε
    acc.spend("t", "rest", "Gaussian", acc.total_rho - acc.spent_rho, sensitivity=1.0, scale=1.0)
    assert acc.spent_epsilon <= 5.0 * (1 + 1e-9)
    assert acc.spent_epsilon < eps_from_rho(acc.spent_rho + 1e-3, acc.conversion_delta)
    drawn = net.sample(20_000, np.random.default_rng(2))
    assert np.mean(drawn["a"] == drawn["b"]) > 0.35  # noisy (0.46 once), but there: 0.25 if independent


def test_without_the_extra_the_neural_generator_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import dbsynth

    real_import = builtins.__import__

    def no_torch(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] in ("torch", "opacus"):
            raise ImportError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(UsageError, match=r"pip install 'dbsynth\[neural\]'"):
        dbsynth.fit("postgresql://nobody@127.0.0.1:1/none", engine="neural")
    with pytest.raises(UsageError, match=r"dbsynth\[neural\]"):
        dbsynth.fit("postgresql://nobody@127.0.0.1:1/none", generators={"t": "neural"})
