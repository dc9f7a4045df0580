"""Partitioned generation for production-size runs: one root table cut into slices, each slice
generated with every row that descends from it, the tables it does not reach generated once before.

A partition is a pure function of the model, the seed and its number: its random streams are the
tables' own streams named apart by the partition (``rental@3``), its root rows a fixed slice of the
root's sizing, which the coordinator draws once. Sequence keys are numbered from 1 in a partition and
shifted by the coordinator, in partition order, past the keys of the partitions before it (the FKs
that point at them with them), so keys stay unique without workers talking to each other. The rows
are therefore the same whatever the number of workers, the executor or the write batch size; only
the number of root rows per partition (those that bring about :data:`PARTITION_ROWS` rows) decides
the cut.

The root is the table whose closure (itself and every table that references it, transitively)
is expected to hold the most rows (see :func:`~dbsynth.generators.learned.expected_sizes`), among
those whose closure can be cut:

- no FK cycle touches it (a deferred edge is filled once every row exists);
- every FK inside it points at a sequence key, and every UNIQUE of its tables holds a sequence key
  or such an FK, so two partitions' rows can never clash;
- no aggregate rule (learned or the user's) sums its rows into a table outside it;
- every table below the root is sized by a table inside it (its count node), not by the scale: the
  privacy unit's table, sized by the scale, can only be the root;
- no scenario (settling one moves rows across a whole table) and no ``--rows`` below the root;
- a partition takes at least :data:`PARTITION_ROOTS` root rows, so that the children they draw even
  out between partitions.

Runs that cannot be cut, or that fit in one partition, are generated whole, as before. Pagila's
root at ε = ∞ is ``film`` (film, its actors and categories, inventory, rentals, payments: 45,503 of the
model's 49,636 rows; its language, above it, would take only 13 root rows a partition); the tables
outside the closure (customers, addresses, staff …) are generated whole first, each partition reads
them. At ε = 1 it is ``customer``, the privacy unit, whose rentals and payments its count nodes size
(they are not sized by films).

Executors: in-process for one worker, a dask.distributed cluster otherwise (a ``LocalCluster`` of
worker processes on one machine, or ``scheduler=`` an existing one); Dask rather than a process pool
of our own because users who outgrow one machine already run it, and the same code then runs there.
At most twice as many partitions as workers are in flight, so memory stays bounded by the
partitions, not by ``--scale``. Workers have no connection to the target: a CHECK only the target can
evaluate (see :mod:`dbsynth.rules.database`) is not redrawn for on them; the target checks it as the
rows arrive, and a row that breaks it fails the run, which leaves the target as it was.

The partitions' rows come back to this process and go out through the run's one connection, not
through a COPY connection per partition: the run is one transaction, so a failed run leaves the
target as it was, and connections of their own would commit apart; making them one again takes
two-phase commit, which PostgreSQL turns off by default (``max_prepared_transactions = 0``). One
connection is not the limit either: it writes at 0.86× the server ingesting a prepared buffer
(``benchmarks/seed_speed.py``), and at ×100 the server, not generation, takes most of the run.

Memory: each process holds, of the tables generated before the partitions, only the columns the
partitions read (see :func:`read_by`), copied out of the whole tables so these can go. Pagila ×100
at ε = 1 with two workers peaks at 870 MB over its three processes (RSS summed; a worker ≈ 250 MB,
of which 170 MB is Python, numpy, pandas and dbsynth's modules); partitions of 250,000 rows made it
918 MB, of 58,000 rows 842 MB.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import math
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dbsynth.config import Config
from dbsynth.errors import UsageError
from dbsynth.generators.learned import LearnedSource, Sizing, expected_sizes
from dbsynth.graph import Plan
from dbsynth.model import Model
from dbsynth.relational import fk_id, fk_named
from dbsynth.rules.database import DatabaseChecker
from dbsynth.rules.enforce import EnforceReport
from dbsynth.schema.model import Schema
from dbsynth.synthesis import Generated, Synthesis, generate, sequence_key, table_rng

__all__ = ["PARTITION_ROOTS", "PARTITION_ROWS", "PartitionedRun", "Partitioning", "choose"]

log = logging.getLogger(__name__)
Progress = Callable[[str, int], None]

PARTITION_ROOTS = 100  # at least these many root rows a partition (see choose)
PARTITION_ROWS = 100_000  # about how many rows a partition holds: as many root rows as bring these
# (Pagila at ε = 1: 1,720 customers with their rentals and payments); work fixed per partition and
# table made partitions of 50,000 rows generate Pagila ×10 at 250-315k rows/s, of 100,000 at
# 290-365k, while the peak memory of a run with two workers grows with them (see the docstring)


@dataclass(frozen=True)
class Partitioning:
    """The cut of a run: its root, the root's closure in plan order, and the number of partitions."""

    root: str
    tables: tuple[str, ...]
    parts: int

    def bounds(self, rows: int, part: int) -> tuple[int, int]:
        """Root rows ``start:stop`` of partition ``part`` when the root has ``rows`` rows."""
        return part * rows // self.parts, (part + 1) * rows // self.parts


def closure(schema: Schema, plan: Plan, root: str) -> list[str]:
    """``root`` and every table that references it, transitively, in plan order."""
    out = [root]
    for key in plan.order[plan.order.index(root) + 1:]:
        if any(fk.referred in out and fk.referred != key for fk in schema.table(key).foreign_keys):
            out.append(key)
    return out


def why_not(schema: Schema, plan: Plan, tables: list[str], sized_by: Mapping[str, str | None],
            aggregates: list[tuple[str, str]], rows: Mapping[str, int]) -> str | None:
    """Why ``tables`` (a root's closure) cannot be cut into partitions, or None when it can;
    ``sized_by``: the table whose rows decide each table's row count (None: the scale does)."""
    inside = set(tables)
    for key in tables[1:]:
        if sized_by.get(key) not in inside:  # it would get its whole size in every partition
            return f"{key} is sized by {sized_by.get(key) or '--scale'}, outside the partition"
    for edge in plan.deferred:
        if edge.table in inside or edge.fk.referred in inside:
            return f"the FK cycle through {edge.table}"
    for key in tables:
        table = schema.table(key)
        seq = sequence_key(table)
        anchored = {seq} if seq else set()
        for fk in table.foreign_keys:
            if fk.referred in inside:
                referred = sequence_key(schema.table(fk.referred))
                if len(fk.columns) != 1 or fk.referred_columns != (referred,):
                    return f"{key}'s FK to {fk.referred} does not point at a sequence key"
                anchored.add(fk.columns[0])
        for cols in table.unique_sets():
            if not anchored & set(cols):
                return f"UNIQUE ({', '.join(cols)}) of {key} could repeat across partitions"
        if key != tables[0] and key in rows:
            return f"--rows {key}"
    for parent, child in aggregates:
        if child in inside and parent not in inside:
            return f"the aggregate of {child} rows in {parent}"
    return None


def choose(model: Model, scale: float, rows: Mapping[str, int], config: Config,
           size: int | None = None) -> Partitioning | None:
    """The partitioning of a run from ``model`` (see the module docstring), or None: generated whole.
    ``size``: about how many rows a partition holds (default :data:`PARTITION_ROWS`)."""
    size = size or PARTITION_ROWS
    if config.scenario.wheres or config.scenario.boosts:
        return None
    schema, plan = model.schema, model.plan
    aggregates = [(k, a.child) for k, tm in model.tables.items() for a in tm.aggregates] + \
        [(r.table, r.child) for r in config.aggregates if r.child]
    sized_by = {k: None if k == model.unit else _primary_parent(model, k) for k in model.tables}
    sizes, scaled = expected_sizes(model), expected_sizes(model, scale, rows)
    best: tuple[float, Partitioning] | None = None
    for key in plan.order:
        tables = closure(schema, plan, key)
        held = sum(sizes[t] for t in tables)
        if not held > 0:  # nothing to cut
            continue
        roots = int(size / (held / max(sizes[key], 1.0)))  # root rows a partition takes
        if roots < PARTITION_ROOTS:  # too few to even out the children they draw: six languages over
            continue  # every film, one of them with them all, would make one partition of everything
        parts = math.ceil(scaled[key] / roots)
        if parts <= 1:
            continue
        reason = why_not(schema, plan, tables, sized_by, aggregates, rows)
        if reason is not None:
            log.debug("%s cannot root the partitions: %s", key, reason)
            continue
        if best is None or held > best[0]:
            best = (held, Partitioning(key, tuple(tables), parts))
    return None if best is None else best[1]


def _primary_parent(model: Model, key: str) -> str | None:
    """The table ``key``'s primary FK points at (its network's context, its count node's parent)."""
    fk = fk_named(model.schema.table(key), model.tables[key].primary)
    return None if fk is None else fk.referred


def read_by(model: Model, inside: set[str], config: Config) -> dict[str, set[str]]:
    """The tables outside the partitions that the partitions read, each with the columns they read:
    the tables their FKs reach (parents, theirs …), not their siblings (Pagila's film_actor beside
    inventory); of those every key and FK column (parents are found, paths followed through them),
    the parent columns a partitioned table takes as context or copies; every column when user rules
    could read any. Pagila ×100 at ε = 1 holds 188 MB of reference rows whole, 21 MB of these."""
    schema = model.schema
    out: dict[str, set[str]] = {}
    todo = list(inside)
    while todo:
        for fk in schema.table(todo.pop()).foreign_keys:
            if fk.referred not in inside and fk.referred not in out:
                out[fk.referred] = set()
                todo.append(fk.referred)
    if config.rules:
        return {key: {c.name for c in schema.table(key).columns} for key in out}
    for key in [*inside, *out]:
        for fk in schema.table(key).foreign_keys:
            if key in out:
                out[key] |= set(fk.columns)
            if fk.referred in out:
                out[fk.referred] |= set(fk.referred_columns)
    for key in inside:
        tm = model.tables[key]
        primary = _primary_parent(model, key)
        if primary is not None and primary in out:
            gap_of = dict(model.tables[primary].gaps)  # a context date held as a gap reads its earlier date
            out[primary] |= {c for _, pcol in tm.context for c in (pcol, gap_of.get(pcol)) if c is not None}
        for e in tm.equalities:
            if e.parent in out:
                out[e.parent].add(e.parent_column)
    return out


def subplan(plan: Plan, keep: set[str]) -> Plan:
    """``plan`` restricted to the tables in ``keep``."""
    return Plan(tuple(k for k in plan.order if k in keep),
                tuple(d for d in plan.deferred if d.table in keep and d.fk.referred in keep),
                tuple(c for c in plan.cycles if set(c) <= keep),
                tuple(s for s in plan.self_references if s[0] in keep))


@dataclass(frozen=True)
class Job:
    """What every partition needs, sent once to each worker."""

    schema: Schema
    plan: Plan  # the partitioned tables'
    source: LearnedSource
    partitioning: Partitioning
    sizing: Sizing  # the root's, whole
    reference: Mapping[str, Generated]
    seed: int
    config: Config


def run_partition(job: Job, part: int, checker: DatabaseChecker | None = None) -> Synthesis:
    """Partition ``part``: its slice of the root and everything below it, keys numbered from 1."""
    start, stop = job.partitioning.bounds(job.sizing[0], part)
    source = job.source.sliced(job.partitioning.root, job.sizing, start, stop)
    out = generate(job.schema, job.plan, source, seed=job.seed, config=job.config, checker=checker,
                   given=job.reference, stream=f"@{part}")
    return Synthesis(out.frames, out.reports)  # the counts stay behind: nothing below needs them


def _shifted(schema: Schema, plan: Plan, frames: Mapping[str, pd.DataFrame], offsets: dict[str, int]
             ) -> dict[str, pd.DataFrame]:
    """A partition's rows with its sequence keys (and the FKs to them) moved past ``offsets``, which
    then move past this partition's keys."""
    out = {}
    seqs = {key: sequence_key(schema.table(key)) for key in plan.order}
    for key in plan.order:
        table, frame, seq = schema.table(key), frames[key], seqs[key]
        moves = {}
        if seq is not None:
            moves[seq] = offsets.get(key, 0)
        for fk in table.foreign_keys:
            if fk.referred in plan.order:
                moves[fk.columns[0]] = offsets.get(fk.referred, 0)
        changed = {c: _add(frame[c], by) for c, by in moves.items() if by and c in frame.columns}
        out[key] = frame.assign(**changed) if changed else frame
    for key, seq in seqs.items():
        if seq is not None and len(frames[key]):
            offsets[key] = offsets.get(key, 0) + int(pd.to_numeric(frames[key][seq]).max())
    return out


def _add(values: pd.Series, by: int) -> pd.Series:
    """``values + by`` keeping NULLs NULL (an FK column with NULLs is held as objects)."""
    if values.dtype.kind in "iu":
        return values + by
    out = values.astype(object)
    held = out.notna().to_numpy()
    out[held] = out[held].to_numpy(dtype="int64") + by
    return out


def _give_back() -> None:
    """Hand freed memory back to the system (glibc keeps it otherwise), so the workers that start next
    do not add to a peak the reference tables left behind."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _partitions(job: Job, workers: int, scheduler: str | None, checker: DatabaseChecker | None
                ) -> Iterator[Synthesis]:
    """Every partition's rows, in partition order, from this process (``checker`` evaluating the
    CHECKs only the target can) or from Dask (whose workers have no connection to the target)."""
    parts = job.partitioning.parts
    if scheduler is None and workers <= 1:
        for part in range(parts):
            yield run_partition(job, part, checker)
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise UsageError("--workers and --scheduler run on Dask: pip install 'dbsynth[dask]'") from exc
    _give_back()  # before the worker processes start: in-process, the partitions reuse what was freed
    cluster = None if scheduler else LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.ERROR)
    try:
        with Client(scheduler or cluster) as client:  # type: ignore[no-untyped-call]
            shared = client.scatter(job, broadcast=True)
            window = 2 * max(workers, len(client.scheduler_info().get("workers", {})))
            run = uuid.uuid4().hex[:8]
            pending: deque[Any] = deque()  # Dask futures
            for part in range(parts):
                pending.append(client.submit(run_partition, shared, part, key=f"dbsynth-{run}-{part}"))
                if len(pending) >= window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
    except OSError as exc:
        raise UsageError(f"Dask scheduler {scheduler}: {exc}") from exc
    finally:
        if cluster is not None:
            cluster.close()


@dataclass
class PartitionedRun:
    """A run cut by ``partitioning``: iterating it generates the reference tables, then the
    partitions, yielding ``(table, rows)`` batches ready to write; ``reports`` sums enforcement."""

    model: Model
    source: LearnedSource
    partitioning: Partitioning
    seed: int
    config: Config
    checker: DatabaseChecker | None = None
    workers: int = 1
    scheduler: str | None = None
    progress: Progress | None = None
    reports: dict[str, EnforceReport] = field(default_factory=dict)

    def __iter__(self) -> Iterator[tuple[str, pd.DataFrame]]:
        schema, plan, cut = self.model.schema, self.model.plan, self.partitioning
        inside = set(cut.tables)
        first = generate(schema, subplan(plan, set(plan.order) - inside), self.source, seed=self.seed,
                         config=self.config, checker=self.checker, progress=self.progress)
        self._merge(first.reports)
        yield from first.frames.items()
        # written: what the partitions read of it is all that stays, here and in every worker (copied:
        # a selection of columns is a view that would keep the whole table alive)
        fids = {fk_id(key, fk) for key in inside for fk in schema.table(key).foreign_keys}
        reference = {k: Generated(first.frames[k][[c for c in first.frames[k].columns if c in cols]].copy(),
                                  {f: n for f, n in first.counts.get(k, {}).items() if f in fids})
                     for k, cols in read_by(self.model, inside, self.config).items()}
        del first
        root = schema.table(cut.root)
        sizing = self.source.size(root, reference, table_rng(self.seed, cut.root + "#partitions"))
        job = Job(schema, subplan(plan, inside), self.source, cut, sizing, reference, self.seed, self.config)
        offsets: dict[str, int] = {}
        for part in _partitions(job, self.workers, self.scheduler, self.checker):
            self._merge(part.reports)
            for key, frame in _shifted(schema, job.plan, part.frames, offsets).items():
                if self.progress:
                    self.progress(key, len(frame))
                yield key, frame

    def _merge(self, reports: Mapping[str, EnforceReport]) -> None:
        for key, rep in reports.items():
            into = self.reports.setdefault(key, EnforceReport())
            for name in ("checked", "rejected", "resampled", "repaired", "dropped"):
                mine, theirs = getattr(into, name), getattr(rep, name)
                for label, n in theirs.items():
                    mine[label] = mine.get(label, 0) + n
            into.unchecked = list(dict.fromkeys([*into.unchecked, *rep.unchecked]))
            into.seconds += rep.seconds
