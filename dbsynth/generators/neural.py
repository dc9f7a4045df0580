"""The neural generator: an autoregressive network over a table's discretised nodes, trained in torch,
under differential privacy with DP-SGD (Opacus).

Model. The Bayesian network's own discretisers (mode-normalised numbers become bins, categories stay
categories, under DP their domains released the same way) and its node order: context nodes (the
parent row's attributes) first, then the table's columns and children-per-parent counts. Node *i*
is a categorical whose logits an MLP computes from the one-hot codes of every node before it (one
hidden layer of :data:`HIDDEN` units per node: a MADE-style factorisation without masks). Why this
and not a VAE or GAN: it conditions on the parent context exactly as the network does (context
nodes are given, never sampled), so relational sampling, count nodes, stratified redraws and
scenarios are unchanged; each node sees *all* nodes before it instead of the network's two parents,
which is where wide tables with non-linear relations gain; the likelihood is exact, so validation
loss is a plain early-stopping criterion; and sampling is a few matrix products in numpy, so the
model file holds the weights as arrays and generating needs neither torch nor pickle.

Privacy. Under DP the table's structure and CPT shares of ρ pay for DP-SGD. One person adds at most
Δ rows to the table; each row's gradient is clipped to ``C/Δ``, so a person moves a batch's clipped
sum by at most ``C`` whatever subset of their rows is sampled, and Gaussian noise of standard
deviation ``σ·C`` is added (Opacus' ``noise_multiplier`` is ``σ·Δ`` of its per-row ``max_grad_norm``).
Rows are Poisson-sampled at rate ``q``, so a person is in a batch with probability at most
``q' = 1 − (1 − q)^Δ``; the batch sum is then a mixture of Gaussians shifted by at most ``C``, whose
Rényi divergence from the unshifted one is, by joint convexity, at most that of one element sampled
at ``q'`` with shift ``C``: each step is the ``q'``-subsampled Gaussian mechanism for a person, whose
RDP Opacus' accountant computes (``compute_rdp``). The steps' RDP curve goes into the ledger at the
accountant's orders, composed with the zCDP releases (ρ·α at every order) and converted to (ε, δ)
at the best order (see :mod:`dbsynth.privacy.accountant`); σ is the smallest that keeps the curve
under the table's share ρ_t·α at the order where the fit's whole ρ converts, so the fit's ε is never
exceeded. Validation under DP would be a further release: DP fits train a fixed number of epochs.
"""

from __future__ import annotations

import math
import secrets
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dbsynth.errors import DbsynthError, UsageError
from dbsynth.generators.bayesnet import BayesNet, BayesNetGenerator, _draw, _restrict
from dbsynth.generators.structure import Node
from dbsynth.privacy.budget import TableBudget
from dbsynth.schema.model import Table

__all__ = ["NeuralGenerator", "NeuralNet", "dp_sgd_sigma"]

HIDDEN = 64
STEPS = 3000  # the most optimiser steps of an exact fit (it stops earlier on the validation loss)
PATIENCE = 200  # steps without a better validation loss before an exact fit stops
DP_EPOCHS = 10
BATCH = 256
CLIP = 1.0  # C: a person's clipped gradient norm in a batch
LR = 1e-2
VALIDATE = 5_000  # rows from which an exact fit holds a tenth out to stop on
Progress = Callable[[int, float, float], None]  # epoch, loss, ε spent so far


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise UsageError("the neural generator needs torch: pip install 'dbsynth[neural]'") from exc
    return torch


@dataclass
class NeuralNet(BayesNet):
    """Nodes in order (context first), and per node after the context its MLP's weights:
    ``w1`` (inputs × HIDDEN), ``b1``, ``w2`` (HIDDEN × states), ``b2``; the inputs are a constant 1
    and the one-hot codes of the nodes before it."""

    weights: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def sample(self, n: int, rng: np.random.Generator, evidence: dict[str, np.ndarray] | None = None,
               allowed: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Forward-sample ``n`` rows as :meth:`BayesNet.sample` does. Rows whose nodes so far agree
        share one distribution for the next node (computed once) and are drawn from it stratified (see
        ``bayesnet._draw``): a small table gets its categories in their learned proportions (Chinook
        at ε = ∞: 0.81 → 0.85 against independent draws)."""
        starts = _starts([node.cardinality for node in self.nodes])
        out: dict[str, np.ndarray] = {}
        drawn = np.zeros((n, 0), dtype=np.int64)
        for i, node in enumerate(self.nodes):
            if node.name not in self.weights:  # a context node: given
                given = (evidence or {}).get(node.name)
                codes = np.asarray(given if given is not None else np.zeros(n, dtype=np.int64), dtype=np.int64)
            else:
                if drawn.shape[1]:
                    groups, cfg = np.unique(drawn, axis=0, return_inverse=True)
                else:
                    groups, cfg = np.zeros((1, 0), dtype=np.int64), np.zeros(n, dtype=np.int64)
                w1, b1, w2, b2 = self.weights[node.name]
                logits = np.maximum(_inputs(groups, starts[:i + 1]) @ w1 + b1, 0.0) @ w2 + b2
                p = np.exp(logits - logits.max(axis=1, keepdims=True))
                p /= p.sum(axis=1, keepdims=True)
                if allowed is not None and node.name in allowed:
                    p = _restrict(p, allowed[node.name])
                codes = _draw(p, cfg.reshape(-1), rng)
            out[node.name] = codes
            drawn = np.column_stack([drawn, codes])
        return out

    def to_json(self, arrays: dict[str, np.ndarray], prefix: str) -> list[dict[str, Any]]:
        out = []
        for i, nd in enumerate(self.nodes):
            keys = None
            if nd.name in self.weights:
                keys = [f"{prefix}/n{i}w{j}" for j in range(4)]
                for key, w in zip(keys, self.weights[nd.name], strict=True):
                    arrays[key] = w
            out.append({"name": nd.name, "cardinality": nd.cardinality, "weights": keys})
        return out

    @classmethod
    def from_json(cls, data: list[dict[str, Any]], arrays: dict[str, np.ndarray]) -> NeuralNet:
        nodes, weights, width = [], {}, 1
        for d in data:
            nodes.append(Node(d["name"], d["cardinality"]))
            if d["weights"] is not None:
                w = [np.asarray(arrays[k], dtype=np.float32) for k in d["weights"]]
                if w[0].shape != (width, w[1].shape[0]) or w[2].shape != (w[1].shape[0], d["cardinality"]) \
                        or w[3].shape != (d["cardinality"],):
                    raise UsageError(f"model file: the weights of neural node {d['name']!r} have the wrong shapes")
                weights[d["name"]] = w
            width += d["cardinality"]
        return cls(nodes, weights)


def _starts(cards: Sequence[int]) -> list[int]:
    """The input layout: a constant 1 in column 0, then each node's one-hot codes from ``starts[i]``
    on (``starts[-1]`` is the width); node ``i``'s MLP reads the columns before ``starts[i]``."""
    return (1 + np.concatenate([[0], np.cumsum(cards)])).astype(int).tolist()


def _inputs(codes: np.ndarray, starts: Sequence[int]) -> np.ndarray:
    """The network's input for rows of ``codes`` (one column per node, in order): the constant 1 and
    each node's code one-hot, ``starts[-1]`` columns (see :func:`_starts`)."""
    out = np.zeros((len(codes), starts[-1]), dtype=np.float32)
    out[:, 0] = 1.0
    rows = np.arange(len(codes))
    for j in range(codes.shape[1]):
        out[rows, starts[j] + codes[:, j]] = 1.0
    return out


def _module(torch: Any, cards: Sequence[int], context: int) -> Any:
    """One MLP per node after the first ``context`` nodes, over the input columns before its own
    (see :func:`_starts`)."""
    nn = torch.nn
    starts = _starts(cards)

    class Autoregressive(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.heads = nn.ModuleList([
                nn.Sequential(nn.Linear(starts[i], HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, cards[i]))
                for i in range(context, len(cards))])

        def forward(self, x: Any) -> list[Any]:
            return [head(x[:, :starts[i]]) for i, head in zip(range(context, len(cards)), self.heads, strict=True)]

    return Autoregressive()


def dp_sgd_sigma(rate: float, steps: int, order: float, rho: float) -> tuple[float, float]:
    """The smallest noise multiplier σ whose ``steps`` ``rate``-subsampled Gaussian steps stay within
    ``rho · order`` at Rényi order ``order`` (bisection on Opacus' RDP), and that RDP."""
    from opacus.accountants.analysis.rdp import compute_rdp

    def rdp(sigma: float) -> float:
        return float(compute_rdp(q=rate, noise_multiplier=sigma, steps=steps, orders=[order])[0])

    lo, hi = 0.3, 1.0
    while rdp(hi) > rho * order:
        lo, hi = hi, hi * 2
        if hi > 1e6:
            raise UsageError("DP-SGD: the table's share of the privacy budget is too small to train on")
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if rdp(mid) <= rho * order else (mid, hi)
    return hi, rdp(hi)


class NeuralGenerator(BayesNetGenerator):
    """The Bayesian network's discretisers and decoding, with the nodes learned by an autoregressive
    network (see the module docstring)."""

    kind = "neural"
    net_type = NeuralNet

    def __init__(self, table: Table, *, device: str = "cpu", seed: int = 0, progress: Progress | None = None,
                 **kwargs: Any) -> None:
        super().__init__(table, **kwargs)
        self.device, self.seed, self.progress = device, seed, progress

    def _learn(self, codes: dict[str, np.ndarray], cards: dict[str, int], budget: TableBudget | None,
               not_null: frozenset[str]) -> BayesNet:
        torch = _torch()
        # context first; then the children counts, drawn stratified while rows still share a
        # distribution (Pagila's 2 stores of 500 with customers); then the columns
        names = [*self.context, *(c for c in self.units if c.startswith("#")),
                 *(c for c in self.units if not c.startswith("#") and c not in self.context)]
        card = [cards[n] for n in names]
        n = len(codes[names[0]]) if names else 0
        if n == 0 or len(names) == len(self.context):
            return NeuralNet([Node(nm, c) for nm, c in zip(names, card, strict=True)], {})
        # exact fits are deterministic on the CPU for a seed; DP-SGD's noise is never seeded (as no noise is)
        seed = self.seed if budget is None else secrets.randbits(63)
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        x = _inputs(np.stack([codes[nm] for nm in names], axis=1), _starts(card))
        y = np.stack([codes[nm] for nm in names[len(self.context):]], axis=1).astype(np.int64)
        module = _module(torch, card, len(self.context)).to(self.device)
        xs, ys = torch.from_numpy(x), torch.from_numpy(y)
        with warnings.catch_warnings():  # Opacus' notes on secure mode and on its hooks: see _train_private
            warnings.filterwarnings("ignore", message=".*(Secure RNG|Full backward hook).*")
            if budget is None:
                weights = self._train_exact(torch, module, xs, ys, gen)
            else:
                weights = self._train_private(torch, module, xs, ys, gen, budget)
        return NeuralNet([Node(nm, c) for nm, c in zip(names, card, strict=True)],
                         dict(zip(names[len(self.context):], weights, strict=True)))

    def _loss(self, torch: Any, module: Any, x: Any, y: Any) -> Any:
        logits = module(x.to(self.device))
        y = y.to(self.device)
        return sum(torch.nn.functional.cross_entropy(lg, y[:, i]) for i, lg in enumerate(logits))

    def _train_exact(self, torch: Any, module: Any, x: Any, y: Any, gen: Any) -> list[list[np.ndarray]]:
        """Adam until the loss on a tenth of the rows held out stops falling (``PATIENCE`` steps); a
        table under ``VALIDATE`` rows trains on all of them until its own loss stops falling: a held-out
        tenth of 500 stores may hold neither of the 2 with customers, and stopping on it drove their
        share towards none."""
        n = x.shape[0]
        perm = torch.randperm(n, generator=gen)
        cut = n // 10 if n >= VALIDATE else 0
        val, train = perm[:cut], perm[cut:]
        opt = torch.optim.Adam(module.parameters(), lr=LR)
        best, best_state, waited = math.inf, None, 0
        per_epoch = math.ceil(len(train) / BATCH)
        for epoch in range(math.ceil(STEPS / per_epoch)):
            module.train()
            order = train[torch.randperm(len(train), generator=gen)]
            for start in range(0, len(order), BATCH):
                idx = order[start:start + BATCH]
                opt.zero_grad()
                loss = self._loss(torch, module, x[idx], y[idx])
                loss.backward()
                opt.step()
            module.eval()
            with torch.no_grad():
                score = float(self._loss(torch, module, x[val] if cut else x, y[val] if cut else y))
            if self.progress:
                self.progress(epoch + 1, score, 0.0)
            if score < best - 1e-4:
                best, waited = score, 0
                best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
            else:
                waited += per_epoch
                if waited >= PATIENCE:
                    break
        if best_state is not None:
            module.load_state_dict(best_state)
        return _weights(module)

    def _train_private(self, torch: Any, module: Any, x: Any, y: Any, gen: Any,
                       budget: TableBudget) -> list[list[np.ndarray]]:
        """DP-SGD with Opacus (see the module docstring), spending the table's network shares."""
        from opacus import PrivacyEngine
        from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent

        from dbsynth.privacy.accountant import ORDERS

        n = x.shape[0]
        delta_rows = max(1.0, max(budget.node_sensitivity.values(), default=1.0))  # Δ: rows a person adds
        batches = math.ceil(n / BATCH)  # Opacus' Poisson loader samples each row at 1/len(loader)
        rate = 1 / batches
        steps = DP_EPOCHS * batches
        person_rate = 1 - (1 - rate) ** delta_rows
        rho = budget.part("structure") + budget.part("cpt")
        acc = budget.accountant
        order = acc.conversion_order
        sigma, _ = dp_sgd_sigma(person_rate, steps, order, rho)
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=math.ceil(n / batches),
                                             generator=gen)
        opt = torch.optim.Adam(module.parameters(), lr=LR)
        # the noise comes from torch's generator seeded from the OS (secrets), not from Opacus' secure
        # mode (torchcsprng, not installed): unpredictable, as the project's other noise is
        engine = PrivacyEngine(accountant="rdp", secure_mode=False)
        module, opt, loader = engine.make_private(module=module, optimizer=opt, data_loader=loader,
                                                  noise_multiplier=sigma * delta_rows,
                                                  max_grad_norm=CLIP / delta_rows, poisson_sampling=True)
        taken = 0
        for epoch in range(DP_EPOCHS):
            for xb, yb in loader:
                taken += 1
                if len(xb) == 0:
                    continue
                opt.zero_grad()
                loss = self._loss(torch, module, xb, yb)
                loss.backward()
                opt.step()
            if self.progress:
                rdp = compute_rdp(q=person_rate, noise_multiplier=sigma, steps=taken, orders=ORDERS)
                self.progress(epoch + 1, float(loss), float(get_privacy_spent(orders=ORDERS, rdp=rdp,
                                                                             delta=acc.conversion_delta)[0]))
        if taken != steps:
            raise DbsynthError(f"internal: DP-SGD on {budget.table} took {taken} steps, {steps} accounted for")
        orders = [*ORDERS, order]
        rdp = compute_rdp(q=person_rate, noise_multiplier=sigma, steps=taken, orders=orders)
        alone = float(get_privacy_spent(orders=orders, rdp=rdp, delta=acc.conversion_delta)[0])
        acc.spend_rdp(budget.table, "network (DP-SGD)", "subsampled Gaussian (Opacus RDP)", orders,
                      [float(r) for r in rdp], sensitivity=CLIP, scale=sigma * CLIP, epsilon=alone,
                      sample_rate=person_rate, steps=taken)
        return _weights(module._module if hasattr(module, "_module") else module)


def _weights(module: Any) -> list[list[np.ndarray]]:
    out = []
    for head in module.heads:
        first, last = head[0], head[2]
        out.append([first.weight.detach().cpu().numpy().T.copy(), first.bias.detach().cpu().numpy().copy(),
                    last.weight.detach().cpu().numpy().T.copy(), last.bias.detach().cpu().numpy().copy()])
    return out
