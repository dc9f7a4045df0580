"""Learn a :class:`~dbsynth.model.Model` from a live database: profile every column, model each
table with a Bayesian network that also holds children-per-parent counts and the primary parent's
attributes (context), and keep only statistics — never a key, PII or free-text value."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from dbsynth.connect import create_engine
from dbsynth.errors import UsageError
from dbsynth.fit_table import COUNT_BOUND, LEARNED, FitContext, fit_table
from dbsynth.graph import Plan, plan
from dbsynth.model import ColumnModel, Model, TableModel
from dbsynth.privacy.accountant import DEFAULT_DELTA, DEFAULT_EPSILON, Accountant
from dbsynth.privacy.mechanisms import gaussian, gaussian_sigma
from dbsynth.privacy.profile import PROFILE_SHARE, dp_kind, dp_shape, profile_slots, thresholdable
from dbsynth.privacy.units import (
    DEFAULT_CAP,
    bound_units,
    contributions,
    holdout_mask,
    private_tables,
    propose_unit,
)
from dbsynth.relational import fk_id
from dbsynth.schema import Schema, reflect
from dbsynth.schema.model import Column, ForeignKey, Table
from dbsynth.schema.read import read_table
from dbsynth.semantics import ColumnKind

__all__ = ["fit"]

log = logging.getLogger(__name__)
ROWS_SHARE = 0.08  # of the fit's ρ, for the private tables' row counts (see _row_counts)
UNIT_ROWS = 0.5  # of that, for the unit table's
Progress = Callable[[str, int], None]
ENGINES = ("bayesnet", "marginal", "neural")  # the generators a fit can learn (exact fits: bayesnet or neural)
DEFAULT_ENGINE = "bayesnet"


def _check_params(*, epsilon: float, delta: float, cap: int, holdout: float, engine: str,
                  generators: Mapping[str, str], device: str = "cpu") -> None:
    """Fit parameters a run could not honour are usage errors, raised before the source is read."""
    for name, chosen in [("", engine), *generators.items()]:
        if chosen not in ENGINES:
            raise UsageError(f"--{'generator ' + name + '=' if name else 'engine '}{chosen}: the generator must be "
                             f"one of {', '.join(ENGINES)}")
        if chosen == "neural":
            try:
                import opacus  # noqa: F401
                import torch
            except ImportError as exc:
                raise UsageError(f"the neural generator needs torch and Opacus: pip install 'dbsynth[neural]' "
                                 f"({exc.name} is missing)") from exc
            if device != "cpu" and not (device.startswith("cuda") and torch.cuda.is_available()):
                raise UsageError(f"--device {device}: " + ("torch sees no CUDA device here; use --device cpu"
                                                             if device.startswith("cuda") else "use cpu or cuda"))
    if not epsilon > 0:
        raise UsageError(f"--epsilon must be a positive number or inf (got {epsilon})")
    if not 0 < delta < 1:
        raise UsageError(f"--delta must lie strictly between 0 and 1 (got {delta})")
    if cap < 1:
        raise UsageError(f"--cap must be at least 1 child per parent (got {cap})")
    if not 0 <= holdout < 1:
        raise UsageError(f"--holdout must be a fraction in [0, 1): the share of rows set aside (got {holdout})")


def fit(url: str, *, schemas: Sequence[str] | None = None, epsilon: float = DEFAULT_EPSILON,
        delta: float = DEFAULT_DELTA, unit: str | None = None, cap: int = DEFAULT_CAP, k: int = 2,
        seed: int = 0, holdout: float = 0.0, engine: str = DEFAULT_ENGINE, progress: Progress | None = None,
        generators: Mapping[str, str] | None = None, device: str = "cpu",
        training: Callable[[str, int, float, float], None] | None = None) -> Model:
    """Learn a model of the database at ``url``.

    With a finite ``epsilon`` (the default, :data:`DEFAULT_EPSILON`) every statistic about a private
    table is released under (ε, δ)-differential privacy for a whole privacy unit (see
    :mod:`dbsynth.privacy.units`): a row of the ``unit`` table (the people; proposed from the schema
    when not given) with every row that references it. The other tables are reference data, learned
    exactly; the model lists them. ``epsilon=inf`` turns noise off, and the model file says so.
    ``holdout`` sets that fraction of every private table's rows aside (see
    :func:`~dbsynth.privacy.units.holdout_mask`), so the privacy report can compare the synthetic
    rows with rows the model never saw.
    """
    _check_params(epsilon=epsilon, delta=delta, cap=cap, holdout=holdout, engine=engine,
                  generators=generators or {}, device=device)
    schema, the_plan, frames = _read(url, schemas)
    per_table = {schema.resolve(name): chosen for name, chosen in (generators or {}).items()}
    unit, proposed = _unit(schema, the_plan, frames, unit) if not math.isinf(epsilon) else (None, None)
    private = private_tables(schema, the_plan, unit) if unit else []
    public = [key for key in the_plan.order if key not in private]
    delta_of = contributions(schema, the_plan, private, cap)  # Δ: the most rows one person adds
    # the fit's random choices that are not noise (which children capping keeps, the first node of a
    # network under DP); the noise comes from OpenDP's secret generator (see privacy.mechanisms)
    choice_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0xD1FF,)))
    if holdout > 0:
        frames = {key: f[~holdout_mask(f, _key_columns(schema.table(key)), holdout, seed)] if key not in public else f
                  for key, f in frames.items()}
    # every private row owned by one person (the bound without its cap): the children-per-parent
    # counts come from these, so a person's counts are theirs alone (see fit_table._nodes)
    owned = bound_units(schema, the_plan, frames, delta_of, None, choice_rng)
    # bound every unit's contribution: all other statistics come from capped rows
    frames = bound_units(schema, the_plan, frames, delta_of, cap, choice_rng)
    learnable = {key: [c for c in schema.table(key).writable_columns if c.name in frames[key].columns]
                 for key in the_plan.order}
    # planned from the schema: at most one thresholded release per private column (see privacy.profile)
    accountant = Accountant(epsilon, delta, thresholds=sum(
        thresholdable(schema.table(key), c) for key in delta_of for c in learnable[key]))
    ctx = FitContext(schema, the_plan, frames, _children(schema, the_plan), delta_of, accountant, cap, k, choice_rng,
                     owned, engine, per_table, device, seed, training)
    rows_of = _row_counts(frames, delta_of, ROWS_SHARE * accountant.total_rho, accountant, unit)
    profiles = _profiles(ctx, learnable, rows_of)
    rho_of = _table_shares(ctx, profiles)
    tables: dict[str, TableModel] = {}
    for key in the_plan.order:  # parents first: a child's context needs its parent's discretisers
        tables[key] = fit_table(ctx, key, profiles[key], tables, rho_of[key], rows_of.get(key, float(len(frames[key]))))
        if progress:
            progress(key, len(frames[key]))
    tables = _released_means(tables, {fk_id(c, fk): c for key in the_plan.order for c, fk in ctx.children[key]},
                             unit, delta_of, cap)
    return Model(schema=schema, tables=tables, epsilon=epsilon, k=k, privacy=accountant,
                 public=tuple(public) if unit else (), unit=unit, unit_proposed=proposed, cap=cap, holdout=holdout,
                 seed=seed)


def _read(url: str, schemas: Sequence[str] | None) -> tuple[Schema, Plan, dict[str, pd.DataFrame]]:
    """The source's schema, its plan and every table's rows."""
    engine = create_engine(url)
    try:
        schema = reflect(engine, schemas=schemas)
        the_plan = plan(schema)
        return schema, the_plan, {key: read_table(engine, schema.table(key)) for key in the_plan.order}
    finally:
        engine.dispose()


def _children(schema: Schema, the_plan: Plan) -> dict[str, list[tuple[str, ForeignKey]]]:
    """Per table, the (child table, FK) pairs that reference it, self-references too (their fan-out)."""
    children: dict[str, list[tuple[str, ForeignKey]]] = {key: [] for key in the_plan.order}
    for key in the_plan.order:
        for fk in schema.table(key).foreign_keys:
            if fk.referred in schema and not the_plan.is_deferred(key, fk):
                children[fk.referred].append((key, fk))
    return children


def _unit(schema: Schema, the_plan: Plan, frames: dict[str, pd.DataFrame], unit: str | None
          ) -> tuple[str, str | None]:
    """The privacy unit's table: ``unit`` as given, else the proposal and why (see propose_unit)."""
    if unit is not None:
        return schema.resolve(unit, option="--unit"), None
    proposal = propose_unit(schema, the_plan, frames)
    if proposal is None:
        raise UsageError("no table looks like people (none has a name or email column): name the table whose "
                         "rows are the people with --unit TABLE, or fit without privacy with --epsilon inf")
    return proposal


def _profiles(ctx: FitContext, learnable: dict[str, list[Column]], rows_of: dict[str, float]
              ) -> dict[str, list[ColumnModel]]:
    """Every column's kind and shape: noisy (PROFILE_SHARE of ρ, split over the slots the schema
    plans) for a private table, exact for a public one."""
    schema, delta_of = ctx.schema, ctx.delta_of
    slots = sum(profile_slots(schema.table(key), c) for key in delta_of for c in learnable[key])
    rho = PROFILE_SHARE * ctx.accountant.total_rho / slots if slots else 0.0
    return {key: [_dp_profile(schema.table(key), c, ctx.frames[key][c.name], delta_of[key], rho, rows_of[key],
                              ctx.accountant) if key in delta_of
                  else ColumnModel.profile(schema.table(key), c, ctx.frames[key][c.name])
                  for c in learnable[key]]
            for key in ctx.plan.order}


def _table_shares(ctx: FitContext, profiles: dict[str, list[ColumnModel]]) -> dict[str, float]:
    """What the row counts and kinds left, per table in proportion to its private nodes × Δ (see
    _private_nodes, dbsynth.privacy.budget)."""
    weight = {key: _private_nodes(ctx, key, profiles[key]) for key in ctx.plan.order}
    total = sum(weight.values())
    left = ctx.accountant.total_rho - ctx.accountant.spent_rho
    return {key: left * w / total if total else 0.0 for key, w in weight.items()}


def _private_nodes(ctx: FitContext, key: str, cols: list[ColumnModel]) -> float:
    """The table's claim on the budget: how many nodes of its network carry private statistics (its
    learned columns when the table is private, every children-per-parent count with a private side)
    times Δ, the rows one person reaches in it. Noise relative to a count grows with Δ, so tables
    deep under the people (payments under rentals under customers) get more ρ; over four seeds this
    lifted Pagila's column shapes at ε = 5 from 0.86 (an equal share per table) to 0.91. Decided by
    the schema and the column kinds, like everything else that shapes the model."""
    columns = sum(1 for c in cols if c.kind in LEARNED) if key in ctx.delta_of else 0
    counts = sum(1 for child, _ in ctx.children[key] if ctx.count_sensitivity(key, child) > 0)
    return (columns + counts) * max(ctx.delta_of.get(key, 1), 1)


def _released_means(tables: dict[str, TableModel], child_of: dict[str, str], unit: str | None,
                    private: Collection[str], cap: int) -> dict[str, TableModel]:
    """Children per parent row for every noisy count node, post-processing of what is already
    released. Under the unit table (a customer's rentals): the mean of the node's own released
    histogram (its empty bins under 3σ zeroed), whose counts were taken before capping (see
    fit_table._nodes), so the child table is generated at the source's size (Pagila at ε = 5:
    16,775 rentals for 16,044, where the cap of 5 a customer made 3,016). Elsewhere: the child
    table's released row count (times its share of rows with the FK set) over the parent's. Deeper
    down one person holds Δ > 1 parent rows, and a histogram of few rows under that much noise
    drifts towards the middle of its domain (Chinook at ε = 5: 15,476 invoice lines for 2,240); so
    do a handful of public rows (Chinook's 8 employees drew ~400 customers each, 3,220 customers
    for 59). No mean exceeds what a count node holds (COUNT_BOUND), and under a ``private`` parent,
    whose capped rows hold at most ``cap`` children each, none exceeds ``cap``: a noisy
    row count near zero under a noisy count of children made 1,548 lines an invoice, and at ε = 1
    (σ ≈ 950 lines for 2,240) 50 an invoice."""
    out = dict(tables)
    for key, tm in tables.items():
        if not any(math.isnan(mean) for _, _, mean in tm.counts):
            continue
        most = cap if key in private else COUNT_BOUND
        means = tm.generator.means([node for node, _, mean in tm.counts if math.isnan(mean)]) if key == unit else {}
        out[key] = replace(tm, counts=tuple(
            (node, fid, min(means[node], COUNT_BOUND) if node in means else min(
                tables[child_of[fid]].rows * (1 - tables[child_of[fid]].fk_null_rates.get(fid, 0.0)) / max(tm.rows, 1),
                most))
            if math.isnan(mean) else (node, fid, mean) for node, fid, mean in tm.counts))
    return out


def _key_columns(table: Table) -> list[str]:
    return list(table.primary_key.columns) if table.primary_key else []


def _row_counts(frames: dict[str, pd.DataFrame], delta_of: dict[str, int], rho: float, accountant: Accountant,
                unit: str | None) -> dict[str, float]:
    """Every private table's noisy row count, from one share of ρ: half of it for the unit table,
    whose count is the number of people generated and so scales every private table (Chinook at
    ε = 1, an equal third of 5 %: σ = 41 for 59 customers, and fits with 1 customer); the rest split
    equally between the others, whose counts only enter as ratios (lines per invoice), and one person
    reaches about Δ of a table's ~units × Δ rows, so equal ρ gives each the same relative noise. At
    least 1: a table whose count the noise pushed to zero would leave every table that needs it
    empty (post-processing)."""
    out = {}
    shares = dict.fromkeys(delta_of, 1.0 / max(len(delta_of), 1))
    if unit in delta_of and len(delta_of) > 1:
        shares = {key: UNIT_ROWS if key == unit else (1 - UNIT_ROWS) / (len(delta_of) - 1) for key in delta_of}
    for key in delta_of:
        sens, share = float(delta_of[key]), rho * shares[key]
        accountant.spend(key, "row count", "gaussian", share, sensitivity=sens, scale=gaussian_sigma(sens, share))
        out[key] = max(float(gaussian(np.array([len(frames[key])], dtype=float), sens, share)[0]), 1.0)
    return out


def _dp_profile(table: Table, column: Column, values: pd.Series, sensitivity: float, rho: float, rows: float,
                accountant: Accountant) -> ColumnModel:
    """A private column's model under DP: its kind and shape from noisy releases; its NULL rate is
    released later (see fit_table) and its text lengths never."""
    kind = dp_kind(table, column, values, sensitivity=sensitivity, rho=rho, rows=rows, accountant=accountant)
    shape = dp_shape(table, column, values, sensitivity=sensitivity, rho=rho, accountant=accountant) \
        if kind is ColumnKind.SHAPE else None
    return ColumnModel(column.name, ColumnKind.TEXT if kind is ColumnKind.SHAPE and shape is None else kind, 0.0,
                       (), shape)
