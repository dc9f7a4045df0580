"""One table's fit, in stages over one frozen :class:`FitContext`: the network's nodes (own columns
and children-per-parent counts), the parent context, the table's share of ρ split between its parts,
the network itself, NULL rates, count means and the learned rules. :mod:`dbsynth.learn` orchestrates
(profiles, row counts, the budget split between tables) and calls :func:`fit_table` parents first.

Every stage reads the context and what earlier stages returned; none mutates them."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from dbsynth import registry
from dbsynth.generators.bayesnet import BayesNetGenerator
from dbsynth.generators.discretize import numeric_unit
from dbsynth.generators.dp_domain import schema_bounds
from dbsynth.generators.structure import mutual_information, needs_domain, structure_picks
from dbsynth.graph import Plan
from dbsynth.meetings import Meeting, agreeing, candidates, choose, fk_index
from dbsynth.model import ColumnModel, TableModel
from dbsynth.privacy.accountant import Accountant
from dbsynth.privacy.budget import TableBudget
from dbsynth.privacy.release import ScalarShare
from dbsynth.relational import children_per_parent, fk_id, join_parent
from dbsynth.rules.domains import ColumnDomain, column_domains
from dbsynth.rules.invariants import Aggregate, Dependency, Equality, LearnedRule
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
from dbsynth.schema import Schema
from dbsynth.schema.model import Column, ForeignKey, Table, TypeKind
from dbsynth.semantics import ColumnKind, key_columns
from dbsynth.synthesis import predicates_for

__all__ = ["COUNT_BOUND", "LEARNED", "FitContext", "fit_table"]

RULE_TOLERANCE = 0.1  # a DP rule test is run only when 3σ of its count is under 10% of the table's rows
# ... an ordering's alone up to 40 %, when most rows must also order it strictly; at a third Pagila's
# rentals at ε = 1 (3σ = 963 rows) lost their ordering whenever the noisy row count fell under 2,889 of ~3,100
ORDER_TOLERANCE = 0.4
LEARNED = {ColumnKind.CATEGORICAL, ColumnKind.NUMERIC, ColumnKind.DATETIME, ColumnKind.BOOLEAN,
           ColumnKind.CONSTANT}
MAX_CONTEXT = 3
MAX_NULL_PARENT = 0.95  # a (noisy) share of rows without their primary parent is kept below this
COUNT_BOUND = 50  # children per parent a private count node holds


@dataclass(frozen=True)
class FitContext:
    """What every table's fit reads: the bounded source rows, the plan and the privacy set-up."""

    schema: Schema
    plan: Plan
    frames: Mapping[str, pd.DataFrame]
    children: Mapping[str, Sequence[tuple[str, ForeignKey]]]  # table → (child table, FK) pairs
    delta_of: Mapping[str, int]  # private table → Δ, the most rows one person adds
    accountant: Accountant
    cap: int
    k: int
    rng: np.random.Generator
    owned: Mapping[str, pd.DataFrame]  # every private row owned by one person, not capped (children per parent)
    engine: str = "bayesnet"  # the generator of DP fits (exact fits: the Bayesian network), see learn.ENGINES
    generators: Mapping[str, str] = field(default_factory=dict)  # table → its own engine (--generator TABLE=neural)
    device: str = "cpu"  # where a neural generator trains
    seed: int = 0
    training: Callable[[str, int, float, float], None] | None = None  # table, epoch, loss, ε so far

    def count_sensitivity(self, key: str, child_key: str) -> float:
        """L2 sensitivity of the histogram of ``child_key``-rows per ``key``-row, for one unit.

        Removing a unit removes up to Δ(key) rows of ``key`` (when private), each with its count.
        Under a private ``key`` that is all: every private row belongs to one person, and all its
        private FKs lead to that person's rows (rows that led to two were dropped, see
        privacy.units.bound_units), so none of the person's ``child_key`` rows hangs under another
        person's row. Under a public ``key`` (a store's customers) the person's up to Δ(child) rows
        each change one count by one bin: √(2·Δ(child)). (Adding √10 for a payment's second private
        FK, to its rental, once made Pagila's payments-per-customer histogram four times noisier
        than it needs to be: σ 199 for 48, and 8,061 payments for 16,049 at ε = 1.)"""
        own = float(self.delta_of.get(key, 0))
        if child_key not in self.delta_of or key in self.delta_of:
            return own
        return math.sqrt(2.0 * self.delta_of[child_key])


@dataclass(frozen=True)
class _Nodes:
    """A table's network nodes before fitting: the frame they are read from (own columns plus a
    ``#fk`` children-per-parent count per child FK), how each is discretised (``units``) and its
    sensitivity (0: exact)."""

    frame: pd.DataFrame
    units: dict[str, str | None]
    sens: dict[str, float]
    counts: tuple[tuple[str, str, ForeignKey], ...]  # (node, child table, child FK)
    labels: dict[str, tuple[object, ...]]
    domains: Mapping[str, ColumnDomain]  # what the table's CHECKs allow each column


@dataclass(frozen=True)
class _Tests:
    """The rule candidates a table tests, and the parent context a DP fit chooses from the schema."""

    rule_fks: tuple[ForeignKey, ...]
    order_pairs: tuple[tuple[str, str], ...]
    equal_pairs: tuple[tuple[ForeignKey, str], ...]
    dp_context: tuple[str, ...]
    meetings: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = ()  # FK paths that meet (see meetings)


@dataclass(frozen=True)
class _Rules:
    rules: tuple[LearnedRule, ...] = ()
    equalities: tuple[Equality, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    aggregates: tuple[Aggregate, ...] = ()


def fit_table(ctx: FitContext, key: str, cols: list[ColumnModel], parents: Mapping[str, TableModel], rho: float,
              n_rows: float) -> TableModel:
    """The model of table ``key`` from its profiled columns ``cols``, its parents' models, its share
    ``rho`` of the budget (0: exact) and its (noisy) row count ``n_rows``."""
    table = ctx.schema.table(key)
    private = key in ctx.delta_of
    own_delta = float(ctx.delta_of.get(key, 0))
    primary = primary_fk(ctx.schema, ctx.plan, table, ctx.frames, ctx.delta_of)
    nodes = _nodes(ctx, table, cols)
    tests = _tests(ctx, table, cols, parents, primary, dp=rho > 0)
    has_context = primary is not None and (private or len(nodes.frame) > 0)  # under DP even an empty table
    if has_context:
        nodes.sens.update({"^" + pc: own_delta for pc in tests.dp_context})
    budget = TableBudget(ctx.accountant, key, rho, nodes.sens, ctx.rng) if rho > 0 else None
    scalars, tests, notes = _scalar_share(table, cols, nodes, tests, budget, own_delta if private else None, n_rows)
    threshold = 3 * scalars.sigma
    dates = _dates(cols)
    date_rules = dp_order_rules(nodes.frame, [p for p in tests.order_pairs if p[0] in dates], scalars.count,
                                threshold, {}, n_rows / 2) if private else order_rules(nodes.frame, dates)
    nodes, gaps = _with_gaps(table, nodes, date_rules)
    gen, context = _network(ctx, table, nodes, parents, primary if has_context else None, budget,
                            tests.dp_context, n_rows, frozenset(hi for hi, _ in gaps))
    if private:  # NULL rates: noisy counts for generated columns, the network's for learned ones
        shares = gen.null_shares()  # text lengths are not released
        cols = [replace(c, null_rate=shares.get(c.name, 0.0)) if c.kind in LEARNED else
                replace(c, lengths=(), null_rate=scalars.rate(nodes.frame[c.name].isna().sum(), n_rows,
                                                              f"nulls {c.name}")
                        if table.column(c.name).nullable else 0.0)
                for c in cols]
    fk_nulls = _fk_null_rates(table, nodes.frame, scalars if private else None, n_rows)
    null_parent_rate = min(fk_nulls[fk_id(key, primary)], MAX_NULL_PARENT) if has_context and primary else 0.0
    if private:  # each candidate rule costs one noisy count (see dbsynth.rules.learned)
        rules = _dp_rules(ctx, table, nodes.frame, gen, tests, scalars, date_rules, dates, n_rows)
    else:  # conditional nullness is learned from exact data only: under DP the network's NULL states carry it
        rules = _exact_rules(ctx, table, cols, parents, tests, date_rules)
    meetings = _meetings(ctx, table, tests, scalars if private else None, n_rows)
    return TableModel(
        key=key, rows=round(n_rows), columns=tuple(cols), generator=gen,
        primary=None if primary is None else fk_id(key, primary), context=context,
        counts=_count_means(ctx, nodes, budget, n_rows), fk_null_rates=fk_nulls, null_parent_rate=null_parent_rate,
        rules=rules.rules, equalities=rules.equalities, rule_notes=notes, gaps=tuple(gaps),
        dependencies=rules.dependencies, aggregates=rules.aggregates, meetings=meetings)


def _meetings(ctx: FitContext, table: Table, tests: _Tests, scalars: ScalarShare | None, n_rows: float
              ) -> tuple[Meeting, ...]:
    """How often each pair of the table's FK paths that meet reach the same ancestor row: one noisy
    count per pair under DP (``scalars``), exact otherwise. The table's own rows are the capped ones
    (at most Δ a person); the paths run through the uncapped parents each person owns, or capping
    would have dropped most payments' rentals and the count with them (1.0 read as 0.05)."""
    if not tests.meetings:
        return ()
    index = fk_index(ctx.schema)
    n = len(ctx.frames[table.key])
    frames = {**ctx.owned, table.key: ctx.frames[table.key]}
    found = []
    for fixed, anchor, ancestor in tests.meetings:
        same = agreeing(frames, index, table.key, fixed, anchor)
        share = scalars.rate(same, n_rows, f"path agreement {fixed[0]}") if scalars else same / max(n, 1)
        found.append(Meeting(fixed, anchor, ancestor, share))
    return choose(found)


def primary_fk(schema: Schema, the_plan: Plan, table: Table, frames: Mapping[str, pd.DataFrame],
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


def _learned_names(cols: Sequence[ColumnModel]) -> list[str]:
    """Columns the network learns that vary (a constant has nothing to tell)."""
    return [c.name for c in cols if c.kind in LEARNED and c.kind is not ColumnKind.CONSTANT]


def _context_candidates(parent: TableModel) -> list[str]:
    """The parent's columns a child may take as context: learned and varying. A date learned as a gap
    is offered as the gap (a rental's days out, which a payment's late fee follows)."""
    return _learned_names(parent.columns)


def _dates(cols: Sequence[ColumnModel]) -> list[str]:
    return [c.name for c in cols if c.kind is ColumnKind.DATETIME]


def _ordered(cols: Sequence[ColumnModel]) -> dict[str, bool]:
    """Numeric and date columns (→ is a date), the candidates for order rules."""
    return {c.name: c.kind is ColumnKind.DATETIME for c in cols if c.kind in (ColumnKind.NUMERIC, ColumnKind.DATETIME)}


def _nodes(ctx: FitContext, table: Table, cols: Sequence[ColumnModel]) -> _Nodes:
    """Own learned columns, then one count node per child FK. A private count is bounded by
    COUNT_BOUND; exact counts keep their values. Under a private parent the counts are taken before
    capping, from rows each owned by one person: a person's rows in this table (at most Δ) carry
    their own counts whatever those are, so the larger bound costs no sensitivity, and the child
    table is generated at its size, not at the cap's."""
    frame = ctx.frames[table.key].copy()
    own_delta = float(ctx.delta_of.get(table.key, 0))
    units: dict[str, str | None] = {cm.name: numeric_unit(table.column(cm.name), cm.kind)
                                    for cm in cols if cm.kind in LEARNED}
    sens: dict[str, float] = dict.fromkeys(units, own_delta)
    counts = []
    for child_key, fk in ctx.children[table.key]:
        node = "#" + fk_id(child_key, fk)
        sens[node] = ctx.count_sensitivity(table.key, child_key)
        bound = COUNT_BOUND if sens[node] > 0 else 1000
        children = ctx.owned[child_key] if table.key in ctx.delta_of else ctx.frames[child_key]
        frame[node] = np.minimum(children_per_parent(frame, children, fk), bound)
        units[node] = f"count:{bound}" if sens[node] > 0 else "int"
        counts.append((node, child_key, fk))
    domains = column_domains(predicates_for(table, ctx.schema.dialect))
    labels = {c: found for c in units if not c.startswith("#")
              and (found := _public_domain(table.column(c), domains.get(c))) is not None}
    return _Nodes(frame, units, sens, tuple(counts), labels, domains)


def _tests(ctx: FitContext, table: Table, cols: Sequence[ColumnModel], parents: Mapping[str, TableModel],
           primary: ForeignKey | None, *, dp: bool) -> _Tests:
    """Rule candidates (under DP, from the schema only) and, under DP, the parent context: the
    primary parent's first learned columns, a data-independent choice."""
    key = table.key
    rule_fks = tuple(fk for fk in table.foreign_keys
                     if fk.referred != key and fk.referred in parents and not ctx.plan.is_deferred(key, fk))
    private = key in ctx.delta_of
    learned = _learned_names(cols)
    equal_pairs = tuple((fk, c) for fk in rule_fks for c in learned
                        if c in _learned_names(parents[fk.referred].columns)) if private else ()
    dp_context = tuple(_context_candidates(parents[primary.referred])[:MAX_CONTEXT]) \
        if dp and primary is not None else ()
    # under DP only pairs where one FK leads straight to the ancestor (a payment's customer and its
    # rental's): each pair costs a count of the scalar share that the orderings also need, and two
    # long paths meet on rows that noisy degrees scatter anyway
    meetings = tuple(m for m in candidates(ctx.schema, ctx.plan, table, primary)
                     if not private or min(len(m[0]), len(m[1])) == 1)
    return _Tests(rule_fks, tuple(order_candidates(_ordered(cols))) if private else (), equal_pairs, dp_context,
                  meetings)


def _scalar_share(table: Table, cols: Sequence[ColumnModel], nodes: _Nodes, tests: _Tests,
                  budget: TableBudget | None, own_delta: float | None, n_rows: float
                  ) -> tuple[ScalarShare, _Tests, tuple[str, ...]]:
    """The table's ρ spent only on the parts it has; the scalars (NULL rates, one count per rule
    test) split equally. When one count's noise would swamp the rows, the rule tests are dropped
    and their share goes to the NULL rates or to the other parts. ``own_delta``: None for a public
    table."""
    private = own_delta is not None
    delta = own_delta or 0.0
    nullable_fks = [fk for fk in table.foreign_keys if all(table.column(c).nullable for c in fk.columns)]
    counts_out = (sum(1 for c in cols if c.kind not in LEARNED and table.column(c.name).nullable)
                  + len(nullable_fks) + len(tests.meetings)) if private else 0  # NULL rates, path agreements;
    # rule tests come on top
    private_nodes = [n for n in nodes.units if nodes.sens[n] > 0] + (list(tests.dp_context) if delta > 0 else [])

    def scalars_for(releases: int) -> ScalarShare:
        if budget is not None:
            budget.use([part for part, used in (
                ("scalars", private and releases > 0),
                ("domain", any(nodes.sens[c] > 0 and needs_domain(nodes.units[c], nodes.labels.get(c))
                               for c in nodes.units)),
                ("structure", bool(private_nodes) and structure_picks(len(tests.dp_context), len(nodes.units)) > 0),
                ("cpt", bool(private_nodes))) if used])
        return ScalarShare(budget, delta, releases)

    def swamps(scalars: ScalarShare, tolerance: float) -> bool:
        return 3 * scalars.sigma > tolerance * max(n_rows, 1.0)

    scalars = scalars_for(counts_out + 2 * len(tests.order_pairs) + len(tests.equal_pairs))
    if not private or not (tests.order_pairs or tests.equal_pairs) or not swamps(scalars, RULE_TOLERANCE):
        return scalars, tests, ()
    why = (f"one count's noise (σ = {scalars.sigma:,.0f} rows; a privacy unit reaches up to {delta:,.0f} of this "
           f"table's rows) swamps its ~{n_rows:,.0f} rows; lower --cap or raise --epsilon")
    orders = scalars_for(counts_out + 2 * len(tests.order_pairs))
    if tests.order_pairs and not swamps(orders, ORDER_TOLERANCE):
        # an ordering either holds or is broken in most rows; its test also asks that most rows
        # order the pair strictly (see dp_order_rules), so 40 % of rows of noise still tells the
        # two apart (Pagila at ε = 1: returns before rentals in half the rows without it)
        note = ("parent equalities not tested: " + why,) if tests.equal_pairs else ()
        return orders, replace(tests, equal_pairs=()), note
    return scalars_for(counts_out), replace(tests, order_pairs=(), equal_pairs=()), ("rules not tested: " + why,)


def _with_gaps(table: Table, nodes: _Nodes, date_rules: Sequence[LearnedRule]
               ) -> tuple[_Nodes, list[tuple[str, str]]]:
    """Orderings between dates are learned as gaps (see learned_gaps): the later column's node holds
    the seconds after the earlier one. A NOT NULL later date over a nullable earlier one stays a
    plain rule: its gap would have nothing to be added to."""
    gaps = [(hi, lo) for hi, lo in learned_gaps(date_rules, {c for c in nodes.units if not c.startswith("#")})
            if table.column(hi).nullable or not table.column(lo).nullable]
    if not gaps:
        return nodes, gaps
    frame = nodes.frame.assign(**{hi: gap_seconds(nodes.frame[hi], nodes.frame[lo]) for hi, lo in gaps})
    return replace(nodes, frame=frame, units={**nodes.units, **dict.fromkeys((hi for hi, _ in gaps), "float")}), gaps


def _network(ctx: FitContext, table: Table, nodes: _Nodes, parents: Mapping[str, TableModel],
             primary: ForeignKey | None, budget: TableBudget | None, dp_context: Sequence[str], n_rows: float,
             gaps: frozenset[str]) -> tuple[BayesNetGenerator, tuple[tuple[str, str], ...]]:
    """The table's Bayesian network over its nodes and up to MAX_CONTEXT ``^column`` nodes of the
    primary parent (exact fits: the parent columns that tell most about the child's; DP fits:
    ``dp_context``). ``primary`` is None when the table has no context."""
    probe = BayesNetGenerator(table, units=nodes.units, k=ctx.k, labels=nodes.labels)
    context_frame = pd.DataFrame(index=nodes.frame.index)
    chosen: Sequence[str] = ()
    if primary is not None:
        parent = parents[primary.referred]
        joined = parent.as_held(join_parent(nodes.frame, ctx.frames[primary.referred], primary),
                                _context_candidates(parent))
        if budget is None:
            codes = probe.discretize(nodes.frame)
            chosen = _context_columns(parent, codes, {n: probe.discretizers[n].cardinality for n in codes}, joined)
        else:
            chosen = dp_context
        for pc in chosen:
            context_frame["^" + pc] = joined[pc].to_numpy()
    kind = ctx.generators.get(table.key, ctx.engine)
    # exact fits learn the Bayesian network, unless the neural generator is asked for
    engine = BayesNetGenerator if budget is None and kind != "neural" else registry.load("dbsynth.generators", kind)
    neural: dict[str, Any] = {} if kind != "neural" else {
        "device": ctx.device, "seed": ctx.seed,
        "progress": None if ctx.training is None else partial(ctx.training, table.key)}
    gen = engine(
        table, units=nodes.units, k=ctx.k, labels=nodes.labels, **neural,
        discretizers=probe.discretizers if budget is None else None, n_public=int(n_rows), gaps=gaps,
        bounds=schema_bounds(table, ctx.schema.dialect, nodes.domains),
        context={"^" + pc: parents[primary.referred].generator.discretizers[pc] for pc in chosen}
        if primary is not None else {})
    gen.fit(nodes.frame, context=context_frame, budget=budget if budget is not None else math.inf)
    return gen, tuple(("^" + pc, pc) for pc in chosen)


def _context_columns(parent: TableModel, child_codes: dict[str, np.ndarray], child_cards: dict[str, int],
                     joined: pd.DataFrame) -> list[str]:
    """Up to ``MAX_CONTEXT`` learned parent columns that tell most about the child's columns."""
    scored = []
    for name in _context_candidates(parent):
        disc = parent.generator.discretizers[name]
        codes = disc.encode(joined[name])
        score = max((mutual_information(c, child_cards[n], [codes], [disc.cardinality])
                     for n, c in child_codes.items()), default=0.0)
        scored.append((score, name))
    scored.sort(key=lambda s: -s[0])
    return [name for score, name in scored[:MAX_CONTEXT] if score > 1e-3]


def _fk_null_rates(table: Table, frame: pd.DataFrame, scalars: ScalarShare | None, n_rows: float) -> dict[str, float]:
    """Each FK's share of rows with the FK NULL: noisy (``scalars``) for a private table."""
    out = {}
    for fk in table.foreign_keys:
        nulls = float(frame.loc[:, list(fk.columns)].isna().any(axis=1).sum())
        nullable = all(table.column(c).nullable for c in fk.columns)
        fid = fk_id(table.key, fk)
        out[fid] = (0.0 if not nullable else scalars.rate(nulls, n_rows, f"nulls {fid}") if scalars is not None
                    else nulls / max(len(frame), 1))
    return out


def _count_means(ctx: FitContext, nodes: _Nodes, budget: TableBudget | None,
                 n_rows: float) -> tuple[tuple[str, str, float], ...]:
    """Children per row for every count node; NaN for a private one, set by learn._released_means
    from what is released once every table is fitted."""
    means = []
    for node, child_key, fk in nodes.counts:
        if budget is not None and budget.private(node):
            mean = math.nan
        else:
            linked = float(ctx.frames[child_key].loc[:, list(fk.columns)].notna().all(axis=1).sum())
            mean = linked / max(n_rows, 1.0)
        means.append((node, fk_id(child_key, fk), mean))
    return tuple(means)


def _dp_rules(ctx: FitContext, table: Table, frame: pd.DataFrame, gen: BayesNetGenerator, tests: _Tests,
              scalars: ScalarShare, date_rules: list[LearnedRule], dates: list[str], n_rows: float) -> _Rules:
    """Orderings and parent equalities, one noisy count per candidate; the ranges test uses the
    released bin edges (post-processing)."""
    threshold = 3 * scalars.sigma
    ranges = {c: (d.edges[0], d.edges[-1]) for c, d in gen.discretizers.items() if d.kind == "bins"}
    rules = tuple(date_rules + dp_order_rules(frame, [p for p in tests.order_pairs if p[0] not in dates],
                                              scalars.count, threshold, ranges, n_rows / 2))
    equalities: list[Equality] = []
    for fk in tests.rule_fks:
        pairs = [(c, c) for f, c in tests.equal_pairs if f is fk]
        if pairs:
            joined = join_parent(frame, ctx.frames[fk.referred], fk)
            equalities += [Equality(c, fk_id(table.key, fk), fk.referred, p)
                           for c, p in dp_equality_rules(frame, joined, pairs, scalars.count, threshold)]
    return _Rules(rules, tuple(equalities))


def _exact_rules(ctx: FitContext, table: Table, cols: Sequence[ColumnModel], parents: Mapping[str, TableModel],
                 tests: _Tests, date_rules: list[LearnedRule]) -> _Rules:
    """Orderings, conditional nullness, functional dependencies, parent aggregates and parent
    equalities that hold in every source row."""
    frame = ctx.frames[table.key]
    categories = [c.name for c in cols if c.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN)]
    nullable_cols = [c.name for c in cols if table.column(c.name).nullable]
    dates = _dates(cols)
    rules = tuple(date_rules + order_rules(frame, [c for c in _ordered(cols) if c not in dates])
                  + null_rules(frame, categories, nullable_cols))
    dependencies = tuple(Dependency(a, b, tuple(m.items())) for a, b, m in functional_dependencies(frame, categories))
    numbers = [c.name for c in cols if c.kind is ColumnKind.NUMERIC]
    aggregates: list[Aggregate] = []
    for child_key, fk in ctx.children[table.key] if numbers else []:
        child_table = ctx.schema.table(child_key)
        measures = [c.name for c in child_table.writable_columns if c.name not in key_columns(child_table)
                    and c.type.kind in (TypeKind.INTEGER, TypeKind.DECIMAL, TypeKind.FLOAT)]
        aggregates += [Aggregate(p, child_key, fk_id(child_key, fk), expr) for p, expr in aggregate_rules(
            frame, ctx.frames[child_key], numbers, measures, list(fk.columns), list(fk.referred_columns))
            if p not in {a.column for a in aggregates}]
    equalities: list[Equality] = []
    for fk in tests.rule_fks:
        joined = join_parent(frame, ctx.frames[fk.referred], fk)
        equalities += [Equality(c, fk_id(table.key, fk), fk.referred, p) for c, p in equality_rules(
            frame, ctx.frames[fk.referred], joined, _learned_names(cols), _learned_names(parents[fk.referred].columns))]
    return _Rules(rules, tuple(equalities), dependencies, tuple(aggregates))


def _public_domain(col: Column, domain: ColumnDomain | None) -> tuple[object, ...] | None:
    """Values a column can take that the schema already states — enum labels, booleans, a CHECK's
    ``IN (…)`` list — or None. Public, so released at no cost: every listed value keeps a state,
    and the noise decides only how often each comes (as smartnoise-synth and SDV are told a
    column's categories)."""
    kind = col.type.kind
    if kind is TypeKind.ENUM:
        return tuple(col.type.labels)
    if kind is TypeKind.BOOLEAN:
        return (False, True)
    if domain is None or not domain.choices:
        return None
    if kind not in (TypeKind.INTEGER, TypeKind.DECIMAL, TypeKind.FLOAT):
        return tuple(domain.choices)
    try:  # a cast in the CHECK (``code::text IN ('1', '2')``) lists a number column's values as text
        numbers = sorted({float(v) for v in domain.choices})
    except (TypeError, ValueError):
        return None
    return tuple(int(v) for v in numbers) if kind is TypeKind.INTEGER else tuple(numbers)
