"""Generate every table of a plan, in order: own values, keys, then validity.

For one table: its generator makes the own columns; a single integer primary key becomes a
sequence; foreign keys are drawn from the key pools of tables generated earlier (self-references
from earlier rows, deferred cycle edges once all tables exist); then :func:`rules.enforce.enforce`
makes the rows satisfy CHECK, UNIQUE and NOT NULL before anything is written.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from dbsynth.config import Config
from dbsynth.errors import UsageError
from dbsynth.generators.providers import Providers
from dbsynth.generators.schema_only import SchemaOnlyGenerator
from dbsynth.graph import Plan
from dbsynth.relational import KeyRedraw, assign_foreign_keys, capacity, fill_self_reference, key_pool
from dbsynth.rules.checks import Predicate, compile_check
from dbsynth.rules.database import DatabaseChecker
from dbsynth.rules.enforce import EnforceReport, enforce
from dbsynth.rules.user import PARENT, apply_aggregates, attach_parents, user_predicates
from dbsynth.schema.model import Schema, Table, TypeKind, field_references

__all__ = ["Synthesis", "resolve_rows", "synthesize", "table_rng"]

log = logging.getLogger(__name__)
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class Synthesis:
    """The generated rows of every table, in plan order, and what enforcement did per table."""

    frames: Mapping[str, pd.DataFrame]
    reports: Mapping[str, EnforceReport]


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
    """The column of a single-column integer primary key that no FK fills: numbered 1..n."""
    if table.primary_key is None or len(table.primary_key.columns) != 1:
        return None
    col = table.column(table.primary_key.columns[0])
    fk_cols = {c for fk in table.foreign_keys for c in fk.columns}
    if col.type.kind is TypeKind.INTEGER and col.name not in fk_cols:
        return col.name
    return None


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
    """Generate ``sizes[t]`` rows for each table of ``plan``; see the module docstring. ``checker``
    evaluates the CHECKs dbsynth cannot translate in the target (see :mod:`dbsynth.rules.database`)."""
    providers = providers or Providers(seed=seed)
    config = config or Config()
    frames: dict[str, pd.DataFrame] = {}
    reports: dict[str, EnforceReport] = {}
    pools: dict[tuple[str, tuple[str, ...]], pd.DataFrame] = {}

    def pool(table: str, cols: tuple[str, ...]) -> pd.DataFrame:
        if (table, cols) not in pools:
            pools[(table, cols)] = key_pool(frames[table], cols)
        return pools[(table, cols)]

    for key in plan.order:
        table = schema.table(key)
        rng = table_rng(seed, key)
        own_rng, fk_rng, fix_rng = rng.spawn(3)
        rule_preds, needs = user_predicates(schema, table, config)
        preds = predicates_for(table, schema.dialect) + rule_preds
        if checker is not None:
            preds = checker.wrap(table, preds)
        gen = SchemaOnlyGenerator(table, predicates=preds, providers=providers)
        ready = [fk for fk in table.foreign_keys
                 if fk.referred != key and fk.referred in schema and not plan.is_deferred(key, fk)]
        n = sizes[key]
        cap = capacity(table, ready, {fk.referred: len(pool(fk.referred, fk.referred_columns))
                                      for fk in ready})
        if cap is not None and n > cap and key not in explicit:
            log.info("%s: %d rows requested, only %d distinct key combinations: using %d", key, n, cap, cap)
            n = cap
        frame = gen.sample(n, rng=own_rng)
        seq = sequence_key(table)
        if seq is not None:
            frame[seq] = np.arange(1, n + 1, dtype=np.int64)
        frame = assign_foreign_keys(
            table, frame, ready, {fk.referred: pool(fk.referred, fk.referred_columns) for fk in ready},
            fk_rng)
        for fk in table.foreign_keys:
            if fk.referred == key:
                frame = fill_self_reference(table, frame, fk, fk_rng)
            elif plan.is_deferred(key, fk) or fk.referred not in schema:
                for c in fk.columns:
                    frame[c] = pd.Series([None] * n, dtype=object)
        deferred_cols = {c for d in plan.deferred if d.table == key for c in d.fk.columns}
        frame = attach_parents(frame, needs, frames)
        reports[key] = EnforceReport()

        redraw = KeyRedraw(ready, {fk.referred: frames[fk.referred] for fk in ready})

        def resample(column: str, rows: np.ndarray, r: np.random.Generator, current: pd.DataFrame,
                     g: SchemaOnlyGenerator = gen, keys: KeyRedraw = redraw) -> pd.Series:
            if column in keys:
                return keys.draw(column, int(rows.sum()), r)
            return g.sample(int(rows.sum()), rng=r, columns=[column])[column]

        frame = enforce(
            key, frame,
            predicates=preds,
            unique_sets=table.unique_sets(),
            not_null=[c.name for c in table.writable_columns
                      if not c.nullable and c.name in frame.columns and c.name not in deferred_cols],
            resample=resample,
            resamplable=[c for c in gen.columns if c != seq] + redraw.columns,
            rng=fix_rng,
            report=reports[key],
        )
        frames[key] = frame.drop(columns=[c for c in frame.columns if c.startswith(PARENT)])
        if progress:
            progress(key, n)
    for edge in plan.deferred:
        table = schema.table(edge.table)
        frames[edge.table] = assign_foreign_keys(
            table, frames[edge.table], [edge.fk],
            {edge.fk.referred: pool(edge.fk.referred, edge.fk.referred_columns)},
            table_rng(seed, edge.table + "#deferred"))
    apply_aggregates(schema, frames, config, reports)
    return Synthesis({k: frames[k] for k in plan.order}, reports)
