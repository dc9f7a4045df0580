"""Learn a :class:`~dbsynth.model.Model` from a live database: profile every column, model each
table with a Bayesian network that also holds children-per-parent counts and the primary parent's
attributes (context), and keep only statistics — never a key, PII or free-text value."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from dbsynth.connect import create_engine
from dbsynth.errors import UsageError
from dbsynth.generators.bayesnet import BayesNetGenerator, mutual_information, needs_domain, structure_picks
from dbsynth.graph import Plan, plan
from dbsynth.model import ColumnModel, Model, TableModel
from dbsynth.privacy.accountant import DEFAULT_DELTA, DEFAULT_EPSILON, Accountant
from dbsynth.privacy.budget import TableBudget
from dbsynth.privacy.mechanisms import gaussian, gaussian_sigma
from dbsynth.privacy.profile import PROFILE_SHARE, dp_kind, dp_shape, profile_slots, thresholdable
from dbsynth.privacy.release import dp_count
from dbsynth.privacy.units import DEFAULT_CAP, bound_units, holdout_mask, root_contributions
from dbsynth.relational import children_per_parent, fk_id
from dbsynth.rules.learned import (
    aggregate_rules,
    dp_equality_rules,
    dp_order_rules,
    equality_rules,
    functional_dependencies,
    gap_seconds,
    learned_gaps,
    null_rules,
    order_candidates,
    order_rules,
)
from dbsynth.schema import Schema, reflect
from dbsynth.schema.model import Column, ForeignKey, Table, TypeKind
from dbsynth.schema.read import read_table
from dbsynth.semantics import ColumnKind, key_columns

__all__ = ["fit", "numeric_unit"]

log = logging.getLogger(__name__)
ROWS_SHARE = 0.05  # of the fit's ρ, for the private tables' row counts (see _row_counts)
RULE_TOLERANCE = 0.1  # a DP rule test is run only when 3σ of its count is under 10% of the table's rows
LEARNED = {ColumnKind.CATEGORICAL, ColumnKind.NUMERIC, ColumnKind.DATETIME, ColumnKind.BOOLEAN,
           ColumnKind.CONSTANT}
MAX_CONTEXT = 3
MAX_NULL_PARENT = 0.95  # a (noisy) share of rows without their primary parent is kept below this
PUBLIC_COUNT_BOUND = 50
Progress = Callable[[str, int], None]


def numeric_unit(col: Column, kind: ColumnKind) -> str | None:
    """How a learned column is discretised: ``None`` for categories, else the decoding unit."""
    t = col.type
    if kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN, ColumnKind.CONSTANT):
        return None
    if t.kind is TypeKind.INTEGER:
        return "int"
    if t.kind is TypeKind.DECIMAL:
        return f"decimal:{t.scale if t.scale is not None else 2}"
    if t.kind is TypeKind.DATE:
        return "date"
    if t.kind is TypeKind.DATETIME:
        return "datetime_tz" if t.timezone else "datetime"
    return "float"


def _primary(schema: Schema, the_plan: Plan, table: Table, frames: dict[str, pd.DataFrame],
             private: Collection[str] = ()) -> ForeignKey | None:
    """The FK whose referenced rows drive this table's row count: the one that covers the most
    distinct parent rows (rental → inventory, invoice_line → invoice, track → album). Under
    differential privacy a private parent comes first (then counts stay inside one privacy unit) and
    the choice ignores the data."""
    best: tuple[int, int, int, ForeignKey] | None = None
    for i, fk in enumerate(table.foreign_keys):
        if fk.referred == table.key or fk.referred not in schema or the_plan.is_deferred(table.key, fk):
            continue
        same_unit = 1 if fk.referred in private else 0
        coverage = 0 if private else len(frames[table.key].loc[:, list(fk.columns)].dropna().drop_duplicates())
        if best is None or (same_unit, coverage, -i) > best[:3]:
            best = (same_unit, coverage, -i, fk)
    return None if best is None else best[3]


def _context_columns(parent: TableModel, child_codes: dict[str, np.ndarray], child_cards: dict[str, int],
                     joined: pd.DataFrame) -> list[str]:
    """Up to ``MAX_CONTEXT`` learned parent columns that tell most about the child's columns."""
    scored = []
    gap = {hi for hi, _ in parent.gaps}
    for cm in parent.columns:
        if cm.kind not in LEARNED or cm.kind is ColumnKind.CONSTANT or cm.name in gap:
            continue
        disc = parent.generator.discretizers[cm.name]
        codes = disc.encode(joined[cm.name])
        score = max((mutual_information(c, child_cards[n], [codes], [disc.cardinality])
                     for n, c in child_codes.items()), default=0.0)
        scored.append((score, cm.name))
    scored.sort(key=lambda s: -s[0])
    return [name for score, name in scored[:MAX_CONTEXT] if score > 1e-3]


def _check_params(*, epsilon: float, delta: float, cap: int, holdout: float) -> None:
    """Fit parameters a run could not honour are usage errors, raised before the source is read."""
    if not epsilon > 0:
        raise UsageError(f"--epsilon must be a positive number or inf (got {epsilon})")
    if not 0 < delta < 1:
        raise UsageError(f"--delta must lie strictly between 0 and 1 (got {delta})")
    if cap < 1:
        raise UsageError(f"--cap must be at least 1 child per parent (got {cap})")
    if not 0 <= holdout < 1:
        raise UsageError(f"--holdout must be a fraction in [0, 1): the share of rows set aside (got {holdout})")


def fit(url: str, *, schemas: Sequence[str] | None = None, epsilon: float = DEFAULT_EPSILON,
        delta: float = DEFAULT_DELTA, public: Sequence[str] = (), cap: int = DEFAULT_CAP, k: int = 2,
        seed: int = 0, holdout: float = 0.0, progress: Progress | None = None) -> Model:
    """Learn a model of the database at ``url``.

    With a finite ``epsilon`` (the default, :data:`DEFAULT_EPSILON`) every statistic about a private
    table is released under (ε, δ)-differential privacy for a whole privacy unit (see
    :mod:`dbsynth.privacy.units`); ``public`` names lookup tables learned exactly. ``epsilon=inf``
    turns noise off, and the model file says so. ``holdout`` sets that fraction of every private
    table's rows aside (see :func:`~dbsynth.privacy.units.holdout_mask`), so the privacy report can
    compare the synthetic rows with rows the model never saw.
    """
    _check_params(epsilon=epsilon, delta=delta, cap=cap, holdout=holdout)
    engine = create_engine(url)
    try:
        schema = reflect(engine, schemas=schemas)
        the_plan = plan(schema)
        frames = {key: read_table(engine, schema.table(key)) for key in the_plan.order}
    finally:
        engine.dispose()
    public = [schema.resolve(p, option="--public") for p in public]
    dp = not math.isinf(epsilon)
    roots = root_contributions(schema, the_plan, public, cap) if dp else {}
    delta_of = {key: max(per_root.values()) for key, per_root in roots.items()}  # Δ: the most rows one person adds
    children: dict[str, list[tuple[str, ForeignKey]]] = {k_: [] for k_ in the_plan.order}
    for key in the_plan.order:
        for fk in schema.table(key).foreign_keys:
            if fk.referred in schema and not the_plan.is_deferred(key, fk):
                children[fk.referred].append((key, fk))  # self-references too: their fan-out
    noise_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0xD1FF,)))
    if holdout > 0:
        frames = {key: f[~holdout_mask(f, _key_columns(schema.table(key)), holdout, seed)] if key not in public else f
                  for key, f in frames.items()}
    # bound every unit's contribution first: all statistics, counts included, come from capped rows
    frames = bound_units(schema, the_plan, frames, delta_of, cap, noise_rng)
    shared = [key for key, per_root in roots.items() if len(per_root) > 1]
    if shared:  # see dbsynth.privacy.units
        log.warning("%s: rows that belong to persons of two private root tables (%s); removing one person can "
                    "change which of another's rows are kept in learning, so these tables' bound is not proven. "
                    "Mark one of the roots --public", ", ".join(shared),
                    ", ".join(sorted({r for t in shared for r in roots[t]})))
    learnable = {key: [c for c in schema.table(key).writable_columns if c.name in frames[key].columns]
                 for key in the_plan.order}
    # planned from the schema: at most one thresholded release per private column (see privacy.profile)
    accountant = Accountant(epsilon, delta, thresholds=sum(
        thresholdable(schema.table(key), c) for key in delta_of for c in learnable[key]))
    slots = sum(profile_slots(schema.table(key), c) for key in delta_of for c in learnable[key])
    profile_rho = PROFILE_SHARE * accountant.total_rho / slots if slots else 0.0
    rows_of = _row_counts(frames, delta_of, ROWS_SHARE * accountant.total_rho, accountant, noise_rng)
    profiles = {key: [_dp_profile(schema.table(key), c, frames[key][c.name], delta_of[key], profile_rho,
                                  rows_of[key], accountant, noise_rng) if key in delta_of
                      else ColumnModel.profile(schema.table(key), c, frames[key][c.name])
                      for c in learnable[key]]
                for key in the_plan.order}
    # what the row counts and kinds left, per table in proportion to its private nodes × Δ (see
    # _private_nodes, dbsynth.privacy.budget)
    weight = {key: _private_nodes(schema, the_plan, key, profiles[key], children, delta_of) for key in the_plan.order}
    total_weight = sum(weight.values())
    left = accountant.total_rho - accountant.spent_rho
    rho_of = {key: left * w / total_weight if total_weight else 0.0 for key, w in weight.items()}
    tables: dict[str, TableModel] = {}
    for key in the_plan.order:  # parents first: a child's context needs its parent's discretisers
        tables[key] = _fit_table(schema, the_plan, key, frames, profiles[key], children, tables, delta_of,
                                 accountant, rho_of[key], rows_of.get(key, float(len(frames[key]))), cap, k, noise_rng)
        if progress:
            progress(key, len(frames[key]))
    tables = _released_means(tables, {fk_id(c, fk): c for key in the_plan.order for c, fk in children[key]})
    return Model(schema=schema, tables=tables, epsilon=epsilon, k=k, privacy=accountant,
                 public=tuple(p for p in public), cap=cap, holdout=holdout, seed=seed)


def _private_nodes(schema: Schema, the_plan: Plan, key: str, cols: list[ColumnModel],
                   children: dict[str, list[tuple[str, ForeignKey]]], delta_of: dict[str, int]) -> float:
    """The table's claim on the budget: how many nodes of its network carry private statistics (its
    learned columns when the table is private, every children-per-parent count with a private side)
    times Δ, the rows one person reaches in it. Noise relative to a count grows with Δ, so tables
    deep under the people (payments under rentals under customers) get more ρ; over four seeds this
    lifted Pagila's column shapes at ε = 5 from 0.86 (an equal share per table) to 0.91. Decided by
    the schema and the column kinds, like everything else that shapes the model."""
    columns = sum(1 for c in cols if c.kind in LEARNED) if key in delta_of else 0
    counts = sum(1 for child, fk in children[key] if _count_sensitivity(schema, the_plan, key, child, fk, delta_of) > 0)
    return (columns + counts) * max(delta_of.get(key, 1), 1)


def _released_means(tables: dict[str, TableModel], child_of: dict[str, str]) -> dict[str, TableModel]:
    """Children per parent row for every noisy count node: the child table's released row count
    (times its share of rows with the FK set) over the parent's, post-processing of what is already
    released. The mean of a noisy count histogram drifts towards the middle of its domain: Chinook's 8
    public employees drew ~400 customers each (3,220 customers for 59) and the invoices and lines
    below them multiplied with them; the row counts are unbiased and size each table as learned."""
    out = dict(tables)
    for key, tm in tables.items():
        if any(math.isnan(mean) for _, _, mean in tm.counts):
            out[key] = replace(tm, counts=tuple(
                (node, fid, tables[child_of[fid]].rows * (1 - tables[child_of[fid]].fk_null_rates.get(fid, 0.0))
                 / max(tm.rows, 1)) if math.isnan(mean) else (node, fid, mean)
                for node, fid, mean in tm.counts))
    return out


def _key_columns(table: Table) -> list[str]:
    return list(table.primary_key.columns) if table.primary_key else []


def _fit_table(schema: Schema, the_plan: Plan, key: str, frames: dict[str, pd.DataFrame], cols: list[ColumnModel],
               children: dict[str, list[tuple[str, ForeignKey]]], tables: dict[str, TableModel],
               delta_of: dict[str, int], accountant: Accountant, rho: float, n_rows: float, cap: int, k: int,
               rng: np.random.Generator) -> TableModel:
    table = schema.table(key)
    private = key in delta_of
    own_delta = float(delta_of.get(key, 0))
    frame = frames[key].copy()
    units: dict[str, str | None] = {cm.name: numeric_unit(table.column(cm.name), cm.kind)
                                    for cm in cols if cm.kind in LEARNED}
    sens: dict[str, float] = {c: own_delta for c in units}
    counts = []
    for child_key, fk in children[key]:
        node = "#" + fk_id(child_key, fk)
        sens[node] = _count_sensitivity(schema, the_plan, key, child_key, fk, delta_of)
        # a private count is bounded: by the cap when this table is private (children were capped
        # per parent), else by PUBLIC_COUNT_BOUND; exact counts keep their values
        bound = (cap if private else PUBLIC_COUNT_BOUND) if sens[node] > 0 else 1000
        frame[node] = np.minimum(children_per_parent(frame, frames[child_key], fk), bound)
        units[node] = f"count:{bound}" if sens[node] > 0 else "int"
        counts.append((node, fk_id(child_key, fk), child_key, fk))
    budget = TableBudget(accountant, key, rho, sens, rng) if rho > 0 else None
    primary = _primary(schema, the_plan, table, frames, delta_of)
    nullable_fks = [fk for fk in table.foreign_keys if all(table.column(c).nullable for c in fk.columns)]
    ordered = {c.name: c.kind is ColumnKind.DATETIME for c in cols
               if c.kind in (ColumnKind.NUMERIC, ColumnKind.DATETIME)}
    rule_fks = [fk for fk in table.foreign_keys
                if fk.referred != key and fk.referred in tables and not the_plan.is_deferred(key, fk)]
    learned = [c.name for c in cols if c.kind in LEARNED and c.kind is not ColumnKind.CONSTANT]
    order_pairs = order_candidates(ordered) if private else []
    equal_pairs = [(fk, c) for fk in rule_fks for c in learned
                   if any(pc.name == c and pc.kind in LEARNED and pc.kind is not ColumnKind.CONSTANT
                          for pc in tables[fk.referred].columns)] if private else []
    counts_out = (sum(1 for c in cols if c.kind not in LEARNED and table.column(c.name).nullable)
                  + len(nullable_fks)) if private else 0  # NULL rates; rule tests come on top
    labels = {c: _public_domain(table.column(c)) for c in units
              if not c.startswith("#") and table.column(c).type.kind in (TypeKind.ENUM, TypeKind.BOOLEAN)}
    # under DP the context is a data-independent choice: the parent's first learned columns
    dp_context = [cm.name for cm in tables[primary.referred].columns
                  if cm.kind in LEARNED and cm.kind is not ColumnKind.CONSTANT
                  and cm.name not in {hi for hi, _ in tables[primary.referred].gaps}][:MAX_CONTEXT] \
        if budget is not None and primary is not None else []
    private_nodes = [n for n in units if sens[n] > 0] + (dp_context if own_delta > 0 else [])

    def scalars_for(releases: int) -> _Scalars:
        """Spend the table's ρ only on the parts it has (the scalars when ``releases`` > 0)."""
        if budget is not None:
            budget.use([part for part, used in (
                ("scalars", private and releases > 0),
                ("domain", any(sens[c] > 0 and needs_domain(units[c], labels.get(c)) for c in units)),
                ("structure", bool(private_nodes) and structure_picks(len(dp_context), len(units)) > 0),
                ("cpt", bool(private_nodes))) if used])
        return _Scalars(budget, own_delta, releases)

    scalars = scalars_for(counts_out + 2 * len(order_pairs) + len(equal_pairs))
    rule_notes: tuple[str, ...] = ()
    threshold = 3 * scalars.sigma
    if private and (order_pairs or equal_pairs) and threshold > RULE_TOLERANCE * max(n_rows, 1.0):
        rule_notes = (f"rules not tested: one count's noise (σ = {scalars.sigma:,.0f} rows; a privacy unit "
                      f"reaches up to {own_delta:,.0f} of this table's rows) swamps its ~{n_rows:,.0f} rows; "
                      "mark lookup tables --public, lower --cap or raise --epsilon",)
        order_pairs, equal_pairs = [], []
        scalars = scalars_for(counts_out)  # the tests' share goes to the NULL rates, or to the other parts
    # orderings between dates first: each one found is learned as a gap (see learned_gaps)
    dates = [c for c, dated in ordered.items() if dated]
    if private:
        date_rules = dp_order_rules(frame, [p for p in order_pairs if p[0] in dates], scalars.count, threshold, {})
    else:
        date_rules = order_rules(frame, dates)
    # a NOT NULL later date over a nullable earlier one stays a plain rule: its gap would have nothing
    # to be added to
    gaps = [(hi, lo) for hi, lo in learned_gaps(date_rules, {c for c in units if not c.startswith("#")})
            if table.column(hi).nullable or not table.column(lo).nullable]
    for hi, lo in gaps:
        frame[hi] = gap_seconds(frame[hi], frame[lo])
        units[hi] = "float"
    probe = BayesNetGenerator(table, units=units, k=k, labels=labels)
    context: list[tuple[str, str]] = []
    context_frame = pd.DataFrame(index=frame.index)
    if primary is not None and (private or len(frame)):  # under DP even an empty table is not told apart
        parent = tables[primary.referred]
        joined = _join_parent(frame, frames[primary.referred], primary)
        if budget is None:
            codes = probe.discretize(frame)
            chosen = _context_columns(parent, codes, {n: probe.discretizers[n].cardinality for n in codes}, joined)
        else:
            chosen = dp_context
        for pc in chosen:
            context.append(("^" + pc, pc))
            context_frame["^" + pc] = joined[pc].to_numpy()
            sens["^" + pc] = own_delta
    gen = BayesNetGenerator(
        table, units=units, k=k, labels=labels, discretizers=probe.discretizers if budget is None else None,
        n_public=int(n_rows),
        context={node: tables[primary.referred].generator.discretizers[pc] for node, pc in context}
        if primary is not None else {})
    gen.fit(frame, context=context_frame, budget=budget if budget is not None else math.inf)
    if private:  # NULL rates: noisy counts for generated columns, the network's for learned ones
        shares = gen.null_shares()  # text lengths are not released
        cols = [replace(c, null_rate=shares.get(c.name, 0.0)) if c.kind in LEARNED else
                replace(c, lengths=(), null_rate=scalars.rate(frame[c.name].isna().sum(), n_rows, f"nulls {c.name}")
                        if table.column(c.name).nullable else 0.0)
                for c in cols]
    fk_nulls = {}
    for fk in table.foreign_keys:
        nulls = float(frame.loc[:, list(fk.columns)].isna().any(axis=1).sum())
        nullable = all(table.column(c).nullable for c in fk.columns)
        fk_nulls[fk_id(key, fk)] = (0.0 if not nullable else scalars.rate(nulls, n_rows, f"nulls {fk_id(key, fk)}")
                                    if private else nulls / max(len(frame), 1))
    means = []
    for node, child, child_key, fk in counts:
        if budget is not None and budget.private(node):
            mean = math.nan  # set by _released_means once the child table has its released row count
        else:
            linked = float(frames[child_key].loc[:, list(fk.columns)].notna().all(axis=1).sum())
            mean = linked / max(n_rows, 1.0)
        means.append((node, child, mean))
    # rows without their primary parent: the primary FK's NULL rate, released once above
    null_parent_rate = min(fk_nulls[fk_id(key, primary)], MAX_NULL_PARENT) \
        if primary is not None and (private or len(frame)) else 0.0
    equalities: list[tuple[str, str, str, str]] = []
    dependencies: tuple[tuple[str, str, tuple[tuple[Any, Any], ...]], ...] = ()  # exact fits only
    aggregates: list[tuple[str, str, str, str]] = []  # exact fits only
    if private:  # each candidate rule costs one noisy count (see dbsynth.rules.learned)
        ranges = {c: (d.edges[0], d.edges[-1]) for c, d in gen.discretizers.items() if d.kind == "bins"}
        rules = tuple(date_rules + dp_order_rules(frame, [p for p in order_pairs if p[0] not in dates],
                                                  scalars.count, threshold, ranges))
        for fk in rule_fks:
            pairs = [(c, c) for f, c in equal_pairs if f is fk]
            if pairs:
                joined = _join_parent(frame, frames[fk.referred], fk)
                equalities += [(c, fk_id(key, fk), fk.referred, p)
                               for c, p in dp_equality_rules(frame, joined, pairs, scalars.count, threshold)]
    else:  # conditional nullness is learned from exact data only: under DP the network's NULL states carry it
        categories = [c.name for c in cols if c.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN)]
        nullable_cols = [c.name for c in cols if table.column(c.name).nullable]
        rules = tuple(date_rules + order_rules(frame, [c for c in ordered if c not in dates])
                      + null_rules(frames[key], categories, nullable_cols))
        dependencies = tuple((a, b, tuple(m.items())) for a, b, m in functional_dependencies(frames[key], categories))
        numbers = [c.name for c in cols if c.kind is ColumnKind.NUMERIC]
        for child_key, fk in children[key] if numbers else []:
            child_table = schema.table(child_key)
            measures = [c.name for c in child_table.writable_columns if c.name not in key_columns(child_table)
                        and c.type.kind in (TypeKind.INTEGER, TypeKind.DECIMAL, TypeKind.FLOAT)]
            aggregates += [(p, child_key, fk_id(child_key, fk), expr) for p, expr in aggregate_rules(
                frames[key], frames[child_key], numbers, measures, list(fk.columns), list(fk.referred_columns))
                if p not in {a[0] for a in aggregates}]
        for fk in rule_fks:
            parent_cols = [c.name for c in tables[fk.referred].columns
                           if c.kind in LEARNED and c.kind is not ColumnKind.CONSTANT]
            joined = _join_parent(frames[key], frames[fk.referred], fk)
            equalities += [(c, fk_id(key, fk), fk.referred, p) for c, p in
                           equality_rules(frames[key], frames[fk.referred], joined, learned, parent_cols)]
    return TableModel(
        key=key, rows=round(n_rows), columns=tuple(cols), generator=gen,
        primary=None if primary is None else fk_id(key, primary), context=tuple(context),
        counts=tuple(means), fk_null_rates=fk_nulls, null_parent_rate=null_parent_rate, rules=rules,
        equalities=tuple(equalities), rule_notes=rule_notes, gaps=tuple(gaps), dependencies=dependencies,
        aggregates=tuple(aggregates))


def _count_sensitivity(schema: Schema, the_plan: Plan, key: str, child_key: str, fk: ForeignKey,
                       delta_of: dict[str, int]) -> float:
    """L2 sensitivity of the histogram of ``child_key``-rows per ``key``-row, for one unit.

    Removing a unit removes up to Δ(key) rows of ``key`` (when private). Its rows of ``child_key``
    that hang under *other* units' ``key`` rows change up to Δ(child) counts by one bin each:
    √(2·Δ(child)) — which only happens when the child reaches a private table other than through
    this FK, or when ``key`` itself is public."""
    own = float(delta_of.get(key, 0))
    if child_key not in delta_of:
        return own
    other = any(f.referred in delta_of and f.referred != key and not the_plan.is_deferred(child_key, f)
                for f in schema.table(child_key).foreign_keys if f is not fk)
    spill = math.sqrt(2.0 * delta_of[child_key]) if (other or key not in delta_of) else 0.0
    return own + spill


def _row_counts(frames: dict[str, pd.DataFrame], delta_of: dict[str, int], rho: float, accountant: Accountant,
                rng: np.random.Generator) -> dict[str, float]:
    """Every private table's noisy row count, from one share of ρ split equally: a row count sizes
    everything generated under the table, and one person reaches about Δ of its ~units × Δ rows, so
    equal ρ gives every table the same noise relative to its size. At least 1: a table whose count
    the noise pushed to zero would leave every table that needs it empty (post-processing)."""
    out = {}
    for key in delta_of:
        sens, share = float(delta_of[key]), rho / len(delta_of)
        accountant.spend(key, "row count", "gaussian", share, sensitivity=sens, scale=gaussian_sigma(sens, share))
        out[key] = max(float(gaussian(np.array([len(frames[key])], dtype=float), sens, share, rng)[0]), 1.0)
    return out


def _dp_profile(table: Table, column: Column, values: pd.Series, sensitivity: float, rho: float, rows: float,
                accountant: Accountant, rng: np.random.Generator) -> ColumnModel:
    """A private column's model under DP: its kind and shape from noisy releases; its NULL rate is
    released later (see _fit_table) and its text lengths never."""
    kind = dp_kind(table, column, values, sensitivity=sensitivity, rho=rho, rows=rows, accountant=accountant,
                   rng=rng)
    shape = dp_shape(table, column, values, sensitivity=sensitivity, rho=rho, accountant=accountant, rng=rng) \
        if kind is ColumnKind.SHAPE else None
    return ColumnModel(column.name, ColumnKind.TEXT if kind is ColumnKind.SHAPE and shape is None else kind, 0.0,
                       (), shape)


def _public_domain(col: Column) -> tuple[object, ...]:
    """Values a column can take that the schema already states: enum labels, booleans."""
    return tuple(col.type.labels) if col.type.kind is TypeKind.ENUM else (False, True)


class _Scalars:
    """Noisy counts from a table's scalar share, split equally between its ``parts`` releases (NULL
    rates, rule tests …); exact when the table releases nothing private. The row count has its own
    share (see _row_counts)."""

    def __init__(self, budget: TableBudget | None, sensitivity: float, parts: int) -> None:
        self.budget, self.sensitivity = budget, sensitivity
        self.parts = max(parts, 1)

    @property
    def sigma(self) -> float:
        """The noise standard deviation of one count other than the row count (0 when exact)."""
        if self.budget is None or self.budget.shares["scalars"] == 0:
            return 0.0
        return gaussian_sigma(self.sensitivity or 1.0, self.budget.part("scalars", self.parts))

    def count(self, value: float, label: str, sensitivity: float | None = None) -> float:
        if self.budget is None:
            return float(value)
        return dp_count(float(value), self.budget, sensitivity or self.sensitivity or 1.0, label, self.parts)

    def rate(self, value: float, n: float, label: str) -> float:
        """A noisy share of ``n`` rows; 0 when the noisy count is within 2σ of none. Clipping a count at
        0 alone biases it upwards by ~0.4σ, and where σ swamps the rows that gave every nullable column
        a random NULL rate, and a nullable primary FK up to 95% of rows without a parent (Chinook at ε =
        5 generated 1,020 customers for 59). Post-processing: no budget."""
        noisy = self.count(value, label)
        return 0.0 if noisy < 2 * self.sigma else min(noisy / max(n, 1.0), 1.0)


def _join_parent(frame: pd.DataFrame, parent: pd.DataFrame, fk: ForeignKey) -> pd.DataFrame:
    """The parent row of every child row (NaN where the FK is NULL), aligned with ``frame``."""
    left = frame.loc[:, list(fk.columns)].copy()
    left.columns = list(fk.referred_columns)
    right = parent.copy()
    for c in fk.referred_columns:
        left[c] = left[c].astype(object)
        right[c] = right[c].astype(object)
    left["__row"] = np.arange(len(left))
    merged = left.merge(right, how="left", on=list(fk.referred_columns)).drop_duplicates("__row")
    return merged.sort_values("__row").reset_index(drop=True)
