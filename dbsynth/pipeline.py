"""The pipeline, top to bottom: reflect → plan → generate → check → write. Holds no algorithm."""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dbsynth import registry
from dbsynth.config import Config
from dbsynth.connect import DEFAULT_LOCK_TIMEOUT, create_engine, redact
from dbsynth.drift import Drift, drift, follow
from dbsynth.errors import UsageError
from dbsynth.generators.learned import LearnedSource, expected_sizes, learned_source
from dbsynth.generators.providers import Providers
from dbsynth.graph import Plan, plan
from dbsynth.model import Model
from dbsynth.partition import PartitionedRun, choose
from dbsynth.privacy.units import holdout_mask
from dbsynth.rules.database import DatabaseChecker
from dbsynth.rules.enforce import EnforceReport
from dbsynth.scenarios import Scenario
from dbsynth.schema import Schema, reflect
from dbsynth.schema.read import read_table
from dbsynth.sinks.base import Sink, WriteOptions, gather, physical
from dbsynth.sinks.files import check_format
from dbsynth.synthesis import SchemaSource, Synthesis, TableSource, generate, resolve_rows

if TYPE_CHECKING:  # the report's modules (scipy.stats) are imported when a report is asked for
    from dbsynth.report import FidelityReport
    from dbsynth.report.privacy import TablePrivacy

__all__ = ["Inspection", "SeedResult", "check_drift", "expected_rows", "inspect_database", "sample", "seed", "sink_for",
           "synthesize", "write_model"]

log = logging.getLogger(__name__)
Progress = Callable[[str, str, int], None]


@dataclass(frozen=True)
class SeedResult:
    """What a seed run did: rows per table, enforcement per table, and the time of each stage."""

    schema: Schema
    plan: Plan
    rows: Mapping[str, int]
    reports: Mapping[str, EnforceReport]
    generate_seconds: float
    write_seconds: float
    drift: Drift | None = None  # the target's additive drift from the model, if any

    def to_json(self) -> dict[str, object]:
        """The run summary CI logs keep (``--json``)."""
        return {
            "rows": dict(self.rows), "total_rows": sum(self.rows.values()),
            "generate_seconds": round(self.generate_seconds, 4), "write_seconds": round(self.write_seconds, 4),
            "rules": [{"table": t, **r} for t, rep in self.reports.items() for r in rep.rows()],
            "checked_at_write": sorted({u for r in self.reports.values() for u in r.unchecked}),
            "drift": self.drift.to_json() if self.drift is not None else None,
        }


@dataclass(frozen=True)
class Inspection:
    schema: Schema
    plan: Plan
    row_counts: Mapping[str, int]


def _check_format(to_dir: Path | None, format: str) -> None:
    """A bad ``--format`` is an error before anything is generated."""
    if to_dir is not None:
        check_format(format)


def _refuse_empty(synthesis: Synthesis, why: str) -> None:
    """A run that would write no row at all is a usage error, never a silent success that, with
    ``--truncate``, would only have emptied the target."""
    if not any(len(frame) for frame in synthesis.frames.values()):
        raise UsageError(f"{why}: nothing to write, and the target was left as it was")


def sink_for(target: Engine | str | Path, format: str = "csv") -> Sink:
    """PostgreSQL → COPY sink; other databases → SQLAlchemy sink; a directory path → file sink
    (``format``: csv, parquet or sql)."""
    if isinstance(target, Path):
        return registry.load("dbsynth.sinks", "files")(target, format)  # type: ignore[no-any-return]
    engine = target if isinstance(target, Engine) else create_engine(target)
    name = "postgresql" if engine.dialect.name == "postgresql" else "sqlalchemy"
    return registry.load("dbsynth.sinks", name)(engine)  # type: ignore[no-any-return]


def check_drift(model: Model, url: str) -> Drift:
    """The drift of the database at ``url`` from the schema ``model`` was fitted on."""
    engine = create_engine(url)
    try:
        return drift(model.schema, _reflect_like(engine, model.schema, require_tables=False))
    finally:
        engine.dispose()


def _reflect_like(engine: Engine, schema: Schema, *, require_tables: bool = True) -> Schema:
    """The target's tables in the schemas ``schema`` covers (on PostgreSQL; elsewhere the URL names
    the one database), so that tables of other schemas are not taken for additions."""
    names = (sorted({t.schema or schema.default_schema or "public" for t in schema.tables})
             if engine.dialect.name == schema.dialect == "postgresql" else None)
    return reflect(engine, schemas=names, require_tables=require_tables)


def inspect_database(url: str, *, schemas: Sequence[str] | None = None) -> Inspection:
    engine = create_engine(url)
    try:
        schema = reflect(engine, schemas=schemas)
        the_plan = plan(schema)
        counts = {}
        with engine.connect() as conn:
            for key in the_plan.order:
                t = schema.table(key)
                counts[key] = int(conn.execute(
                    sa.select(sa.func.count()).select_from(sa.table(t.name, schema=t.schema))).scalar() or 0)
        return Inspection(schema, the_plan, counts)
    finally:
        engine.dispose()


def seed(
    target: str,
    *,
    schema_from: str | None = None,
    rows: Mapping[str, int] | None = None,
    default_rows: int = 1000,
    seed: int = 0,
    truncate: bool = False,
    create_schema: bool = False,
    schemas: Sequence[str] | None = None,
    to_dir: Path | None = None,
    format: str = "csv",
    locale: str = "en_US",
    names: str = "real",
    config: Config | None = None,
    progress: Progress | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    where: Sequence[str] = (),
) -> SeedResult:
    """Seed ``target`` schema-only: ``default_rows`` per table unless ``rows`` says otherwise.

    The schema is read from ``schema_from`` (default: the target itself). With ``to_dir`` the rows go
    to CSV files there instead of the target database. ``where`` conditions (``"orders.status =
    'cancelled'"``) hold as rules of their tables.
    """
    _check_format(to_dir, format)
    if schema_from == "":
        raise UsageError("--schema-from is empty: give the URL of the database whose schema to seed")
    source = create_engine(target if schema_from is None else schema_from, lock_timeout=lock_timeout)
    try:
        schema = reflect(source, schemas=schemas)
    finally:
        source.dispose()
    the_plan = plan(schema)
    config = with_scenario(config, schema, where)
    explicit = {schema.resolve(name): n for name, n in (rows or {}).items()}
    sizes = resolve_rows(schema, the_plan, explicit, default_rows)
    engine = None if to_dir is not None else create_engine(target, create=create_schema, lock_timeout=lock_timeout)
    rows_from = SchemaSource(schema, the_plan, sizes, Providers(locale, seed=seed, names=names), frozenset(explicit))
    return _generate_and_write(schema, the_plan, rows_from, engine, to_dir, seed=seed, config=config,
                               options=WriteOptions(truncate=truncate, create_schema=create_schema),
                               format=format, empty="every table gets 0 rows (--rows 0)", progress=progress)


def _generate_and_write(schema: Schema, the_plan: Plan, source: TableSource, engine: Engine | None,
                        to_dir: Path | None, *, seed: int, config: Config | None, options: WriteOptions,
                        format: str, empty: str, progress: Progress | None, found: Drift | None = None,
                        cut: PartitionedRun | None = None) -> SeedResult:
    """The generation loop over ``source``, then the write to ``engine`` (or the files in ``to_dir``),
    for ``seed`` and ``write_model`` alike; disposes of ``engine``. A partitioned run (``cut``)
    streams: each batch is written as it is generated."""
    checker = DatabaseChecker(engine) if engine is not None and not options.create_schema else None
    generating = (lambda t, n: progress("generate", t, n)) if progress else None
    writing = (lambda t, n: progress("write", t, n)) if progress else None
    try:
        sink = sink_for(to_dir if to_dir is not None else engine, format)  # type: ignore[arg-type]
        if cut is not None:
            cut.checker, cut.progress = checker, generating
            clock = [0.0]
            report = sink.write_batches(schema.physical(), the_plan, _timed(
                ((k, physical(schema, {k: f})[1][k]) for k, f in cut), clock), options=options, progress=writing)
            return SeedResult(schema, the_plan, report.rows, cut.reports, clock[0], report.seconds - clock[0], found)
        t0 = time.perf_counter()
        synthesis = generate(schema, the_plan, source, seed=seed, config=config, checker=checker, progress=generating)
        t1 = time.perf_counter()
        _refuse_empty(synthesis, empty)
        written, frames = physical(schema, synthesis.frames)
        report = sink.write(written, the_plan, frames, options=options, progress=writing)
    finally:
        if checker is not None:
            checker.close()
        if engine is not None:
            engine.dispose()
    return SeedResult(schema, the_plan, report.rows, synthesis.reports, t1 - t0, report.seconds, found)


def _timed(batches: Iterable[tuple[str, pd.DataFrame]], clock: list[float]) -> Iterator[tuple[str, pd.DataFrame]]:
    """``batches``, adding the time spent making each to ``clock[0]``."""
    it = iter(batches)
    while True:
        start = time.perf_counter()
        try:
            item = next(it)
        except StopIteration:
            clock[0] += time.perf_counter() - start
            return
        clock[0] += time.perf_counter() - start
        yield item


def _cut(model: Model, source: TableSource, *, scale: float, rows: Mapping[str, int] | None, seed: int,
         config: Config, workers: int, scheduler: str | None) -> PartitionedRun | None:
    """The partitioned run of ``model`` when it is large enough to cut (see :mod:`dbsynth.partition`)."""
    if workers < 1:
        raise UsageError(f"--workers must be at least 1 (got {workers})")
    resolved = {model.schema.resolve(name): n for name, n in (rows or {}).items()}
    found = choose(model, scale, resolved, config)
    if found is None or not isinstance(source, LearnedSource):
        if workers > 1 or scheduler:
            log.warning("the run is generated whole in this process (too small to cut into partitions, or "
                        "no table can root them: see dbsynth.partition); --workers and --scheduler are unused")
        return None
    log.info("partitioned by %s: %d partitions of %s and %s", found.root, found.parts, found.root,
             ", ".join(found.tables[1:]) or "nothing below it")
    return PartitionedRun(model.without_rules(config.disable_learned), source, found, seed, config,
                          workers=workers, scheduler=scheduler)


def expected_rows(model: Model, *, scale: float = 1.0, rows: Mapping[str, int] | None = None) -> int | None:
    """About how many rows :func:`write_model` makes from ``model`` (see
    :func:`~dbsynth.generators.learned.expected_sizes`), for a progress bar's time left; None for a
    scale that :func:`write_model` refuses. ``rows`` naming a table the model lacks (one a drifted
    target added) are left to :func:`write_model`."""
    fixed = {}
    for name, n in (rows or {}).items():
        with contextlib.suppress(UsageError):
            fixed[model.schema.resolve(name)] = n
    total = sum(expected_sizes(model, scale, fixed).values())
    return round(total) if math.isfinite(total) else None


def write_model(
    model: Model,
    target: str | None,
    *,
    scale: float = 1.0,
    rows: Mapping[str, int] | None = None,
    seed: int = 0,
    truncate: bool = False,
    create_schema: bool = False,
    to_dir: Path | None = None,
    format: str = "csv",
    locale: str = "en_US",
    names: str = "real",
    config: Config | None = None,
    progress: Progress | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    where: Sequence[str] = (),
    boost: Sequence[str] = (),
    workers: int = 1,
    scheduler: str | None = None,
    batch_size: int = WriteOptions.batch_size,
) -> SeedResult:
    """Generate from ``model`` and write to ``target`` (or files in ``to_dir``); ``where`` and
    ``boost`` give a scenario (see :mod:`dbsynth.scenarios`). A run large enough to cut into
    partitions streams them to the target, generated by ``workers`` processes on this machine or on
    the Dask cluster at ``scheduler`` (see :mod:`dbsynth.partition`); ``batch_size`` rows go per COPY
    write. Neither changes the rows.

    Without ``create_schema`` the target's schema is compared with the model's first (see
    :mod:`dbsynth.drift`): additive drift is followed with a warning, anything else is a
    :class:`~dbsynth.drift.DriftError` that lists the changes, raised before anything is generated.
    """
    _check_format(to_dir, format)
    if batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1 (got {batch_size})")
    config = with_scenario(config, model.schema, where, boost)
    if (target is None) == (to_dir is None):
        raise UsageError("give either a target database (--target URL) or a directory (--to-dir DIR), not "
                         + ("both" if target is not None else "neither"))
    engine = None if to_dir is not None else create_engine(target or "", create=create_schema,
                                                           lock_timeout=lock_timeout)
    found = None
    try:
        if engine is not None and not create_schema:
            model, found = follow(model, _reflect_like(engine, model.schema))
            for change in found.warnings:
                log.warning("schema drift: %s", change.describe())
        source = learned_source(model, scale=scale, rows=rows, seed=seed, locale=locale, names=names, config=config)
        cut = _cut(model, source, scale=scale, rows=rows, seed=seed, config=config, workers=workers,
                   scheduler=scheduler)
    except BaseException:
        if engine is not None:
            engine.dispose()
        raise
    return _generate_and_write(model.schema, model.plan, source, engine, to_dir, seed=seed, config=config,
                               options=WriteOptions(truncate=truncate, create_schema=create_schema,
                                                    batch_size=batch_size), format=format,
                               empty=f"--scale {scale:g} gives every table 0 rows", progress=progress, found=found,
                               cut=cut)


def with_scenario(config: Config | None, schema: Schema, where: Sequence[str] = (), boost: Sequence[str] = ()
                  ) -> Config:
    """``config`` with the scenario that ``where`` and ``boost`` (as written on the command line) give."""
    config = config or Config()
    if not where and not boost:
        return config
    return replace(config, scenario=Scenario.parse(schema, where, boost))


def synthesize(model: Model, *, scale: float = 1.0, rows: Mapping[str, int] | None = None, seed: int = 0,
               locale: str = "en_US", names: str = "real", config: Config | None = None,
               checker: DatabaseChecker | None = None, progress: Callable[[str, int], None] | None = None,
               workers: int = 1, scheduler: str | None = None) -> Synthesis:
    """Every table generated from ``model`` and valid, with what enforcement did; ``checker``
    evaluates the CHECKs dbsynth cannot translate in a target database. A partitioned run (see
    :mod:`dbsynth.partition`) is gathered here: the same rows as ``write_model`` writes."""
    config = config or Config()
    source = learned_source(model, scale=scale, rows=rows, seed=seed, locale=locale, names=names, config=config)
    cut = _cut(model, source, scale=scale, rows=rows, seed=seed, config=config, workers=workers, scheduler=scheduler)
    if cut is None:
        return generate(model.schema, model.plan, source, seed=seed, config=config, checker=checker,
                        progress=progress)
    cut.checker, cut.progress = checker, progress
    return Synthesis(gather(cut, model.plan.order), cut.reports)


def sample(model: Model, *, scale: float = 1.0, rows: Mapping[str, int] | None = None, seed: int = 0,
           locale: str = "en_US", names: str = "real", where: Sequence[str] = (), boost: Sequence[str] = (),
           workers: int = 1, scheduler: str | None = None) -> dict[str, pd.DataFrame]:
    """Synthetic rows for every table of ``model``, in plan order, without a database; ``where``
    (``"invoice.total > 20"``) and ``boost`` (``"invoice.status=cancelled:0.3"``) give a scenario."""
    return dict(synthesize(model, scale=scale, rows=rows, seed=seed, locale=locale, names=names,
                           config=with_scenario(None, model.schema, where, boost), workers=workers,
                           scheduler=scheduler).frames)


def _require_synthetic(engine: Engine, schema: Schema, keys: Sequence[str]) -> None:
    """The synthetic side of a report has every table and some rows: scoring an empty database
    would print a low score for what is really a wrong URL."""
    found = _reflect_like(engine, schema, require_tables=False)
    missing = [k for k in keys if k not in found]
    where = redact(engine.url)
    if missing:
        raise UsageError(f"the synthetic database {where} has no table(s) {', '.join(missing)}: generate into it "
                         "first (dbsynth generate MODEL --target URL --create-schema)")
    with engine.connect() as conn:
        if not any(conn.execute(sa.select(sa.literal(1)).select_from(
                sa.table(found.table(k).name, schema=found.table(k).schema)).limit(1)).first() for k in keys):
            raise UsageError(f"the synthetic database {where} has no rows in any of its {len(keys)} tables: "
                             "generate into it first")


def report_databases(real: str, synth: str, *, schemas: Sequence[str] | None = None, ml: bool = False,
                     targets: Sequence[str] = (), html: Path | None = None,
                     privacy: Sequence[TablePrivacy] | None = None, model: Model | None = None) -> FidelityReport:
    """Fidelity of the database at ``synth`` against the one at ``real`` (same schema); with ``ml`` or
    ``targets`` (``table.column``) also the machine-learning utility (see :mod:`dbsynth.report.utility`);
    with ``html`` the report as one HTML file there, with ``privacy`` figures and ``model``'s ledger."""
    from dbsynth.report import fidelity_report
    from dbsynth.report.html import write_html
    from dbsynth.report.utility import ml_utility

    real_engine, synth_engine = create_engine(real), create_engine(synth)
    try:
        schema = reflect(real_engine, schemas=schemas)
        keys = plan(schema).order
        _require_synthetic(synth_engine, schema, keys)
        real_frames = {k: read_table(real_engine, schema.table(k)) for k in keys}
        synth_frames = {k: read_table(synth_engine, schema.table(k)) for k in keys}
    finally:
        real_engine.dispose()
        synth_engine.dispose()
    rep = fidelity_report(schema, real_frames, synth_frames)
    if ml or targets:
        rep.utility = ml_utility(schema, real_frames, synth_frames, targets)
    if html is not None:
        write_html(html, schema, real_frames, synth_frames, rep, privacy, model)
    return rep


def privacy_databases(real: str, synth: str, model: Model) -> list[TablePrivacy]:
    """The privacy report of the database at ``synth``, generated from ``model``, against ``real``:
    training and held-out rows are split again exactly as ``fit`` split them."""
    from dbsynth.report.privacy import privacy_report

    real_engine, synth_engine = create_engine(real), create_engine(synth)
    try:
        schema = model.schema
        keys = [k for k in model.plan.order if k not in model.public]
        _require_synthetic(synth_engine, schema, keys)
        real_frames = {k: read_table(real_engine, schema.table(k)) for k in keys}
        synth_frames = {k: read_table(synth_engine, schema.table(k)) for k in keys}
    finally:
        real_engine.dispose()
        synth_engine.dispose()
    fraction = model.holdout if model.holdout > 0 else 0.2
    train, holdout = {}, {}
    for k, frame in real_frames.items():
        key = schema.table(k).primary_key
        pk = list(key.columns) if key else []
        mask = holdout_mask(frame, pk, fraction, model.seed)
        train[k], holdout[k] = frame[~mask], frame[mask]
    return privacy_report(schema, train, holdout, synth_frames, tables=keys)
