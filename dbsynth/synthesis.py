"""The one generation loop: every table of a plan, in order, whatever makes its rows.

A :class:`TableSource` draws one table's rows — its own columns, its sequence key, its foreign keys
— given the tables generated before it: :class:`SchemaSource` from the schema alone (``seed``), the
learned model's source (:mod:`dbsynth.model`) from the fitted networks (``generate``). Everything
else happens here, once, for both: the table's predicates (CHECKs, user rules, the source's learned
rules; those the target must evaluate wrapped by the :class:`DatabaseChecker`), enforcement of
CHECK, UNIQUE and NOT NULL (:func:`rules.enforce.enforce`), the deferred cycle edges once every table
exists, learned rules on those edges, and aggregate rules.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
import pandas as pd

from dbsynth.config import Config, UserRule
from dbsynth.errors import UsageError
from dbsynth.generators.providers import Providers
from dbsynth.generators.schema_only import SchemaOnlyGenerator
from dbsynth.graph import Plan
from dbsynth.relational import KeyRedraw, assign_foreign_keys, capacity, fill_self_reference, key_pool
from dbsynth.rules.checks import Predicate, compile_check
from dbsynth.rules.database import DatabaseChecker
from dbsynth.rules.enforce import EnforceReport, Resampler, enforce
from dbsynth.rules.user import PARENT, apply_aggregates, attach_parents, user_predicates
from dbsynth.scenarios import Derived, settle
from dbsynth.schema.model import ForeignKey, Schema, Table, TypeKind, field_references

__all__ = ["Drawn", "Generated", "SchemaSource", "Synthesis", "TableSource", "generate", "resolve_rows",
           "synthesize", "table_rng"]

log = logging.getLogger(__name__)
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class Synthesis:
    """The generated rows of every table, in plan order, and what enforcement did per table."""

    frames: Mapping[str, pd.DataFrame]
    reports: Mapping[str, EnforceReport]
    counts: Mapping[str, dict[str, np.ndarray]] = field(default_factory=dict)  # children per row, per child FK


def table_rng(seed: int, table: str) -> np.random.Generator:
    """A table's own stream: depends on the run's seed and the table's name only, so adding a
    table to the schema does not change the rows of the others."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(table.encode()),)))


def resolve_rows(schema: Schema, plan: Plan, rows: Mapping[str, int], default: int) -> dict[str, int]:
    """Row count per table: explicit ``rows`` first, else ``default``. Validates names and signs."""
    if default < 0:
        raise UsageError(f"--rows must not be negative (got {default})")
    for name, n in rows.items():
        if n < 0:
            raise UsageError(f"--rows {name}={n}: a row count must not be negative")
    keyed = {name if name in schema else schema.resolve(name): n for name, n in rows.items()}
    return {t: keyed.get(t, default) for t in plan.order}


def predicates_for(table: Table, dialect: str) -> list[Predicate]:
    """The table's CHECKs (a composite's ``(column).field`` read as its field column)."""
    names = [c.name for c in table.columns]
    return [replace(compile_check(c.name, field_references(c.sqltext, table.composites), dialect=dialect,
                                  columns=names), sqltext=c.sqltext)
            for c in table.checks]


def sequence_key(table: Table) -> str | None:
    """The column numbered 1..n: a single-column integer primary key that no FK fills, or else the
    integer primary-key column a sequence or identity fills (Pagila's ``payment_id`` beside the
    ``payment_date`` its partitioned table adds to the key)."""
    if table.primary_key is None:
        return None
    fk_cols = {c for fk in table.foreign_keys for c in fk.columns}
    cols = [table.column(c) for c in table.primary_key.columns if c not in fk_cols]
    ints = [c for c in cols if c.type.kind is TypeKind.INTEGER]
    if len(table.primary_key.columns) == 1:
        return ints[0].name if ints else None
    numbered = [c for c in ints if c.sequence is not None or c.identity is not None]
    return numbered[0].name if len(numbered) == 1 else None


@dataclass
class Generated:
    """A generated table: its rows, its children-per-row counts (learned runs size child tables with
    them) and the learned rules left for after its cycle FKs are filled."""

    frame: pd.DataFrame
    counts: dict[str, np.ndarray] = field(default_factory=dict)
    late: list[Predicate] = field(default_factory=list)


@dataclass
class Drawn:
    """A source's rows for one table, before enforcement: ``resample`` redraws a failing column's
    rows (any of ``resamplable``), ``rng`` is the stream enforcement draws from."""

    frame: pd.DataFrame
    resample: Resampler
    resamplable: list[str]
    rng: np.random.Generator
    counts: dict[str, np.ndarray] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)  # resamplable FK columns: redrawn last (see enforce)


class TableSource(Protocol):
    """What the loop asks of whatever makes the rows."""

    def rules(self, table: Table) -> list[Predicate]:
        """Predicates of its own (learned rules) besides the schema's and the user's."""

    def aggregates(self) -> tuple[UserRule, ...]:
        """Aggregate rules of its own (learned), applied with the user's."""

    def draw(self, table: Table, done: Mapping[str, Generated], rng: np.random.Generator,
             predicates: list[Predicate]) -> Drawn:
        """``table``'s rows with own columns, sequence key and foreign keys (deferred ones NULL)."""


def generate(schema: Schema, plan: Plan, source: TableSource, *, seed: int, config: Config | None = None,
             checker: DatabaseChecker | None = None, progress: Progress | None = None,
             given: Mapping[str, Generated] | None = None, stream: str = "") -> Synthesis:
    """Every table of ``plan`` from ``source``, valid, in plan order (see the module docstring).

    ``given``: tables generated before (a partition's reference tables, see :mod:`dbsynth.partition`)
    that ``plan``'s tables may reference; ``stream`` names the random streams apart (a partition's
    number), so that each table's rows depend on the seed, the table and the stream only."""
    config = config or Config()
    done: dict[str, Generated] = dict(given or {})
    reports: dict[str, EnforceReport] = {}
    constraints: dict[str, list[Predicate]] = {}  # every table's own, for changes made after its loop
    for key in plan.order:
        table = schema.table(key)
        rule_preds, needs = user_predicates(schema, table, config)
        preds = predicates_for(table, schema.dialect) + rule_preds + source.rules(table)
        if checker is not None:
            preds = checker.wrap(table, preds)
        constraints[key] = [p for p in preds if not p.learned and p.supported]
        drawn = source.draw(table, done, table_rng(seed, key + stream), preds)
        deferred = {c for d in plan.deferred if d.table == key for c in d.fk.columns}
        # a learned rule on a cycle's FK is settled once that FK is filled (settle_late_rules):
        # checked now, it could only be met by redrawing its other columns, skewing them (every
        # country in Antarctica, the one continent the source left without a capital)
        late = [p for p in preds if p.learned and p.columns & deferred]
        report = reports[key] = EnforceReport()
        start = time.perf_counter()
        frame = attach_parents(drawn.frame, needs, {k: g.frame for k, g in done.items()})
        report.seconds += time.perf_counter() - start
        frame = enforce(
            key, frame, predicates=[p for p in preds if p not in late], unique_sets=table.unique_sets(),
            not_null=[c.name for c in table.writable_columns
                      if not c.nullable and c.name in frame.columns and c.name not in deferred],
            resample=drawn.resample, resamplable=drawn.resamplable, keys=drawn.keys, rng=drawn.rng, report=report,
            types={c.name: c.type for c in table.columns})
        done[key] = Generated(frame.drop(columns=[c for c in frame.columns if c.startswith(PARENT)]),
                              drawn.counts, late)
        if progress:
            progress(key, len(done[key].frame))
    for edge in plan.deferred:
        done[edge.table].frame = assign_foreign_keys(
            schema.table(edge.table), done[edge.table].frame, [edge.fk],
            {edge.fk.referred: key_pool(done[edge.fk.referred].frame, edge.fk.referred_columns)},
            table_rng(seed, edge.table + "#deferred" + stream))
    for key in dict.fromkeys(edge.table for edge in plan.deferred):
        if done[key].late:
            fks = [e.fk for e in plan.deferred if e.table == key]
            done[key].frame = settle_late_rules(
                schema.table(key), done[key].frame, done[key].late, fks,
                {fk.referred: done[fk.referred].frame for fk in fks}, table_rng(seed, key + "#late" + stream),
                reports[key])
    frames = {k: done[k].frame for k in plan.order}
    # an aggregate whose tables were generated before (a partition's reference tables) is settled there
    aggregates = replace(config, rules=tuple(r for r in config.rules + source.aggregates()
                                             if not r.child or (r.table in frames and r.child in frames)))
    apply_aggregates(schema, frames, aggregates, reports)
    if config.scenario.wheres:
        def valid(key: str, frame: pd.DataFrame) -> np.ndarray:
            ok = np.ones(len(frame), dtype=bool)
            for p in constraints[key]:
                ok &= ~p.violations(frame)
            for cols in schema.table(key).unique_sets():
                ok &= ~frame.duplicated(list(cols), keep=False).to_numpy()
            return ok

        derived = [d for r in aggregates.aggregates if r.child and r.column and r.aggregate
                   and (d := Derived.of(schema, r.table, r.column, r.child, r.aggregate)) is not None]
        settle(schema, frames, config.scenario.wheres, derived, lambda: apply_aggregates(schema, frames, aggregates,
               reports), valid, table_rng(seed, "#where"))
    return Synthesis(frames, reports, {k: done[k].counts for k in plan.order})


def settle_late_rules(table: Table, frame: pd.DataFrame, rules: list[Predicate], fks: list[ForeignKey],
                      parents: Mapping[str, pd.DataFrame], rng: np.random.Generator,
                      report: EnforceReport) -> pd.DataFrame:
    """Learned rules on FKs that close a cycle, once those are filled: a row that breaks one gets a
    key where its FK is NULL, or NULL where the FK is nullable and set; a row still breaking it keeps
    its values, and the rule is given up on it (counted in the report, with a warning)."""
    frame = frame.copy()
    redraw = KeyRedraw(fks, parents)
    unique = set(table.unique_sets())
    for rule in rules:
        label = f"CHECK {rule.label}"
        before = rule.violations(frame)
        report.checked[label] = report.checked.get(label, 0) + len(frame)
        report.rejected[label] = report.rejected.get(label, 0) + int(before.sum())
        for col in (fk.columns[0] for fk in fks if len(fk.columns) == 1 and fk.columns[0] in rule.columns):
            bad = rule.violations(frame)
            empty = bad & frame[col].isna().to_numpy()
            if empty.any() and col in redraw and (col,) not in unique:  # a drawn key could repeat
                frame[col] = frame[col].astype(object)
                frame.loc[empty, col] = redraw.draw(col, int(empty.sum()), rng).to_numpy()
            bad = rule.violations(frame)
            if bad.any() and table.column(col).nullable:
                frame[col] = frame[col].astype(object)
                frame.loc[bad, col] = None
        after = rule.violations(frame)
        report.repaired[label] = report.repaired.get(label, 0) + int((before & ~after).sum())
        if after.any():
            report.dropped[label] = report.dropped.get(label, 0) + int(after.sum())
            log.warning("%s: %s does not hold on %d generated rows; the learned rule was dropped for them",
                        table.key, label, int(after.sum()))
    return frame


class SchemaSource:
    """Rows from the schema alone: ``sizes[t]`` rows per table (fewer where a link table's distinct
    parent combinations run out, unless the size was asked for explicitly), parents drawn uniformly."""

    def __init__(self, schema: Schema, plan: Plan, sizes: Mapping[str, int], providers: Providers,
                 explicit: frozenset[str] = frozenset()) -> None:
        self.schema, self.plan, self.sizes, self.providers, self.explicit = schema, plan, sizes, providers, explicit

    def rules(self, table: Table) -> list[Predicate]:
        return []

    def aggregates(self) -> tuple[UserRule, ...]:
        return ()

    def draw(self, table: Table, done: Mapping[str, Generated], rng: np.random.Generator,
             predicates: list[Predicate]) -> Drawn:
        key = table.key
        own_rng, fk_rng, fix_rng = rng.spawn(3)
        gen = SchemaOnlyGenerator(table, predicates=predicates, providers=self.providers)
        ready = [fk for fk in table.foreign_keys
                 if fk.referred != key and fk.referred in self.schema and not self.plan.is_deferred(key, fk)]
        pools = {fk.referred: key_pool(done[fk.referred].frame, fk.referred_columns) for fk in ready}
        n = self.sizes[key]
        cap = capacity(table, ready, {name: len(pool) for name, pool in pools.items()})
        if cap is not None and n > cap and key not in self.explicit:
            log.info("%s: %d rows requested, only %d distinct key combinations: using %d", key, n, cap, cap)
            n = cap
        frame = gen.sample(n, rng=own_rng)
        seq = sequence_key(table)
        if seq is not None:
            frame[seq] = np.arange(1, n + 1, dtype=np.int64)
        frame = assign_foreign_keys(table, frame, ready, pools, fk_rng)
        for fk in table.foreign_keys:
            if fk.referred == key:
                frame = fill_self_reference(table, frame, fk, fk_rng)
            elif self.plan.is_deferred(key, fk) or fk.referred not in self.schema:
                for c in fk.columns:
                    frame[c] = pd.Series([None] * n, dtype=object)
        redraw = KeyRedraw(ready, {fk.referred: done[fk.referred].frame for fk in ready})

        def resample(column: str, rows: np.ndarray, r: np.random.Generator, current: pd.DataFrame) -> pd.Series:
            if column in redraw:
                return redraw.draw(column, int(rows.sum()), r)
            return gen.sample(int(rows.sum()), rng=r, columns=[column])[column]

        return Drawn(frame, resample, [c for c in gen.columns if c != seq] + redraw.columns, fix_rng,
                     keys=redraw.columns)


def synthesize(
    schema: Schema,
    plan: Plan,
    sizes: Mapping[str, int],
    *,
    seed: int,
    explicit: frozenset[str] = frozenset(),
    providers: Providers | None = None,
    config: Config | None = None,
    checker: DatabaseChecker | None = None,
    progress: Progress | None = None,
) -> Synthesis:
    """Generate ``sizes[t]`` rows for each table of ``plan`` from the schema alone; ``checker``
    evaluates the CHECKs dbsynth cannot translate in the target (see :mod:`dbsynth.rules.database`)."""
    source = SchemaSource(schema, plan, sizes, providers or Providers(seed=seed), explicit)
    return generate(schema, plan, source, seed=seed, config=config, checker=checker, progress=progress)
