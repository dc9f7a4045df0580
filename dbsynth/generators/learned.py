"""A fitted :class:`~dbsynth.model.Model` as the source of rows for the generation loop.

Generation walks the plan: a root table gets ``rows × scale`` rows; a child table gets, for every
generated parent row, the number of children that parent's count node says; other FKs are assigned
so each referenced row receives about as many children as its own count node says. Learned columns
come from the table's network given its primary parent's context, the others from the schema
(text cut to the learned lengths, identifiers to the learned shapes).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from dbsynth.config import Config, UserRule
from dbsynth.errors import UsageError
from dbsynth.generators.bayesnet import BayesNetGenerator
from dbsynth.generators.providers import Providers
from dbsynth.generators.schema_only import SchemaOnlyGenerator
from dbsynth.meetings import agree, fk_index, path_positions
from dbsynth.model import ColumnModel, Model, TableModel
from dbsynth.relational import (
    KeyRedraw,
    degree_assignment,
    distinct_indices,
    fill_self_reference,
    fk_id,
    fk_named,
    forest_assignment,
    linked_groups,
)
from dbsynth.rules.checks import Predicate, compile_check
from dbsynth.rules.learned import add_gap
from dbsynth.scenarios import Scenario, condition
from dbsynth.schema.model import ForeignKey, Table, TypeKind
from dbsynth.semantics import ColumnKind, semantic_of
from dbsynth.synthesis import Drawn, Generated, TableSource, sequence_key

__all__ = ["LearnedSource", "Sizing", "expected_sizes", "from_shape", "learned_source", "match_total"]

log = logging.getLogger(__name__)
Sizing = tuple[int, np.ndarray | None, ForeignKey | None]  # rows, each row's primary parent, the FK sizing it


def learned_source(model: Model, *, scale: float = 1.0, rows: Mapping[str, int] | None = None, seed: int = 0,
                   locale: str = "en_US", names: str = "real", config: Config | None = None) -> TableSource:
    """``model`` as a source of per-table rows (``--scale``, ``--rows`` and ``disable_learned`` checked
    here, before anything is generated)."""
    if not (math.isfinite(scale) and scale > 0):
        raise UsageError(f"--scale must be a positive, finite number (got {scale})")
    for name, n in (rows or {}).items():
        if n < 0:
            raise UsageError(f"--rows {name}={n}: a row count must not be negative")
    config = config or Config()
    for b in config.scenario.boosts:
        tm = model.tables[b.table]
        if b.column not in tm.generator.units or not tm.generator.released(b.column):
            raise UsageError(f"--boost {b.text}: the model does not learn {b.table}.{b.column} (it is generated "
                             "from the schema); use --where to fix its values")
    for table, column, option in [*((b.table, b.column, f"--boost {b.text}") for b in config.scenario.boosts),
                                  *((w.table, c, f"--where {w.text}") for w in config.scenario.wheres
                                    for c in w.predicate(model.schema.table(w.table)).columns)]:
        copied = {e.column: f"{e.parent}.{e.parent_column}" for e in model.tables[table].equalities}
        if column in copied:
            raise UsageError(f"{option}: {table}.{column} is a copy of {copied[column]} in every source row (a "
                             f"learned rule); put the scenario on {copied[column]}")
    return LearnedSource(model.without_rules(config.disable_learned), scale,
                         {model.schema.resolve(name): n for name, n in (rows or {}).items()},
                         Providers(locale, seed=seed, names=names), config.scenario)


def expected_sizes(model: Model, scale: float = 1.0, rows: Mapping[str, int] | None = None) -> dict[str, float]:
    """About how many rows each table of ``model`` gets (no scenario): what :meth:`LearnedSource._size`
    draws, on average. A child table's follow from its parent's and the parent's mean children per
    row, not from its own ``rows``: under DP those are the capped rows (Pagila at ε = 1: 3,110
    rentals, where 591 customers draw 16,000)."""
    rows = rows or {}
    out: dict[str, float] = {}
    for key in model.plan.order:
        tm = model.tables[key]
        primary = fk_named(model.schema.table(key), tm.primary)
        if key in rows:
            out[key] = float(rows[key])
        elif key == model.unit or primary is None or primary.referred not in out:
            out[key] = tm.rows * scale
        else:
            means = {fid: mean for _, fid, mean in model.tables[primary.referred].counts}
            linked = out[primary.referred] * means.get(tm.primary or "", 0.0)
            out[key] = linked / (1 - tm.null_parent_rate) if tm.null_parent_rate < 1 else linked
    return out


class LearnedSource:
    """Rows from a fitted model, for the loop of :mod:`dbsynth.synthesis`: a root table gets
    ``rows × scale`` rows; a child table, for every generated parent row, the number of children that
    parent's count node says; learned columns come from the table's network given the primary
    parent's context, the others from the schema, keys by the learned degrees."""

    def __init__(self, model: Model, scale: float, rows: Mapping[str, int], providers: Providers,
                 scenario: Scenario | None = None) -> None:
        self.model, self.scale, self.rows, self.providers = model, scale, rows, providers
        self.tables, self.plan = model.tables, model.plan
        self.scenario = scenario or Scenario()
        self.slices: dict[str, Sizing] = {}

    def sliced(self, table: str, sizing: Sizing, start: int, stop: int) -> LearnedSource:
        """This source with ``table`` (a partition's root) cut to rows ``start:stop`` of ``sizing``."""
        out = LearnedSource(self.model, self.scale, self.rows, self.providers, self.scenario)
        _, parents, fk = sizing
        out.slices = {table: (stop - start, None if parents is None else parents[start:stop], fk)}
        return out

    def size(self, table: Table, done: Mapping[str, Generated], rng: np.random.Generator) -> Sizing:
        """How many rows ``table`` gets and each row's primary parent (see :meth:`_size`)."""
        return self._size(table, self.tables[table.key], done, rng)

    def rules(self, table: Table) -> list[Predicate]:
        names = [c.name for c in table.columns]
        return [replace(compile_check(f"learned: {rule.describe()}", rule.to_sql(), dialect="postgresql",
                                      columns=names), learned=True)
                for rule in self.tables[table.key].rules]

    def aggregates(self) -> tuple[UserRule, ...]:
        return tuple(UserRule(k, f"learned: {a.describe()}", None, column=a.column, aggregate=a.expr, child=a.child)
                     for k, tm in self.tables.items() for a in tm.aggregates)

    def _size(self, table: Table, tm: TableModel, done: Mapping[str, Generated], rng: np.random.Generator
              ) -> Sizing:
        """How many rows, and each row's primary parent (its position, -1 for none): a child table
        gets per parent row the children its count node drew; a root and the privacy unit's table
        ``rows × scale`` (the unit's parents are reference data, and a noisy share of customers
        without a parent once left none at all); a table whose NOT NULL FK points at an empty table
        none."""
        if table.key in self.slices:
            return self.slices[table.key]
        key, wanted = table.key, self.rows.get(table.key)
        if wanted is None and key == self.model.unit:  # the people: as many as released, whatever their parents
            wanted = round(tm.rows * self.scale)
        primary = fk_named(table, tm.primary)
        # under a scenario a table that references a conditioned one is sized by it: each invoice over
        # 20 gets the lines it drew, not a share of the lines its tracks drew
        wheres = {w.table for w in self.scenario.wheres}

        def weight(fk: ForeignKey | None) -> int:  # a condition on the parent outranks a boost of it
            return 0 if fk is None else 2 if fk.referred in wheres else int(fk.referred in self.scenario.tables)

        scenario = [fk for fk in table.foreign_keys if weight(fk) and fk.referred != key and fk.referred in done
                    and fk_id(key, fk) in done[fk.referred].counts and not self.plan.is_deferred(key, fk)]
        best = max(scenario, key=weight, default=None)
        if wanted is None and weight(best) > weight(primary):
            primary = best
        parent_idx: np.ndarray | None = None
        if primary is not None:
            parent = done[primary.referred]
            counts = parent.counts.get(fk_id(key, primary), np.zeros(len(parent.frame), dtype=np.int64))
            rate = tm.null_parent_rate if fk_id(key, primary) == tm.primary else \
                tm.fk_null_rates.get(fk_id(key, primary), 0.0)  # the share of rows without that parent
            if wanted is not None:
                n_null = round(wanted * rate)
                parent_idx = degree_assignment(counts, wanted - n_null, rng)
            else:
                parent_idx = np.repeat(np.arange(len(counts)), counts)
                n_null = round(len(parent_idx) * rate / (1 - rate)) if rate < 1 else 0
            parent_idx = np.concatenate([parent_idx, np.full(n_null, -1, dtype=np.int64)])
            n = len(parent_idx)
        else:
            n = wanted if wanted is not None else round(tm.rows * self.scale)
        empty = [fk.referred for fk in table.foreign_keys
                 if fk.referred != key and fk.referred in done and len(done[fk.referred].frame) == 0
                 and not all(table.column(c).nullable for c in fk.columns) and not self.plan.is_deferred(key, fk)]
        if empty and n:
            log.warning("%s: no rows generated for %s, which its NOT NULL foreign key needs: 0 rows", key,
                        ", ".join(empty))
            n = 0
            parent_idx = None if parent_idx is None else parent_idx[:0]
        return n, parent_idx, primary

    def _network(self, table: Table, tm: TableModel, n: int, context: pd.DataFrame | None,
                 rng: np.random.Generator) -> tuple[dict[str, pd.Series], dict[str, np.ndarray]]:
        """The released columns drawn from the table's network, each row meeting the table's
        scenario (see :mod:`dbsynth.scenarios`), and the children per row each child FK gets: the
        learned mean, times the scenario's conditional mean over the plain one."""

        def draw(rows: np.ndarray, tests: Mapping[str, Callable[[pd.Series], np.ndarray]] | None = None
                 ) -> pd.DataFrame:
            given = None if context is None else context.iloc[rows].reset_index(drop=True)
            return self._decoded(table, tm, len(rows), given, rng, tests)

        wheres, boosts = self.scenario.of(table.key)
        frame = first = self._decoded(table, tm, n, context, rng)
        if wheres or boosts:
            frame = condition(table, draw, first, wheres, boosts, rng)
        child_counts: dict[str, np.ndarray] = {}  # children per generated row, per child FK
        for node, child, mean in tm.counts:
            drawn, plain = (np.maximum(pd.to_numeric(f[node]).fillna(0).to_numpy(dtype=float), 0)
                            for f in (frame, first))
            ratio = drawn.mean() / plain.mean() if frame is not first and n and plain.mean() > 0 else 1.0
            child_counts[child] = match_total(drawn, round(mean * n * ratio))
        return {c: frame[c] for c in frame.columns if not c.startswith("#")}, child_counts

    @staticmethod
    def _decoded(table: Table, tm: TableModel, n: int, context: pd.DataFrame | None, rng: np.random.Generator,
                 tests: Mapping[str, Callable[[pd.Series], np.ndarray]] | None = None) -> pd.DataFrame:
        """``n`` rows of the table's network: released columns (date gaps added back, dependent
        columns derived) and count nodes; with ``tests``, those columns drawn within the states
        that pass them (see BayesNetGenerator.sample_within)."""
        gen = tm.generator
        tests = {c: t for c, t in (tests or {}).items() if c in gen.units and c not in dict(tm.gaps)}
        sampled = gen.sample_within(n, rng=rng, parent_context=context, tests=tests) \
            if tests and isinstance(gen, BayesNetGenerator) else gen.sample(n, rng=rng, parent_context=context)
        learned = {c: sampled[c] for c in sampled.columns if not c.startswith("#") and tm.generator.released(c)}
        days = {c.name for c in table.columns if c.type.kind is TypeKind.DATE}
        for hi, lo in tm.gaps:
            if hi in learned and lo in learned:
                learned[hi] = add_gap(learned[lo], learned[hi], whole_days=hi in days)
        for dep in tm.dependencies:  # b follows a, as in every source row
            a, b = dep.column, dep.derived
            if a in learned and b in learned:
                derived = learned[a].map(dict(dep.pairs))
                known = learned[a].isin([k for k, _ in dep.pairs]).to_numpy()
                learned[b] = pd.Series(np.where(known, derived.astype(object), learned[b].astype(object)),
                                       index=learned[b].index)
        frame = pd.DataFrame({c: v.array for c, v in learned.items()}, index=pd.RangeIndex(n))
        for node, _, _ in tm.counts:
            frame[node] = sampled[node].to_numpy()
        return frame

    def _own_columns(self, table: Table, tm: TableModel, n: int, learned: dict[str, pd.Series],
                     preds: list[Predicate], rng: np.random.Generator) -> tuple[pd.DataFrame, SchemaOnlyGenerator]:
        """The table's own columns: the network's released ones, the rest from the schema (text
        shaped like the source's lengths and formats); and the schema generator that made them."""
        unreleased = frozenset(c for c in tm.generator.units if not c.startswith("#") and not tm.generator.released(c))
        # nor a private table's free text: a vocabulary (country names) could hand back a value only a
        # few source rows hold
        if not math.isinf(self.model.epsilon) and table.key not in self.model.public:
            unreleased |= {cm.name for cm in tm.columns if cm.kind is ColumnKind.TEXT}
        gen = SchemaOnlyGenerator(table, predicates=preds, providers=self.providers,
                                  null_rates={cm.name: cm.null_rate for cm in tm.columns}, plain=unreleased)
        others = [c for c in gen.columns if c not in learned]
        frame = gen.sample(n, rng=rng, columns=others) if others else pd.DataFrame(index=pd.RangeIndex(n))
        for name, values in learned.items():
            frame[name] = values.array  # tz-aware dates stay an array: to_numpy() makes Timestamps one by one
        for cm in tm.columns:
            if cm.name in gen.formatted:  # generated to their format: no reshaping
                continue
            if cm.name in frame.columns and cm.kind in (ColumnKind.TEXT, ColumnKind.PII, ColumnKind.OTHER):
                frame[cm.name] = _shape_text(frame[cm.name], cm, table, rng)
            elif cm.name in frame.columns and cm.kind is ColumnKind.SHAPE and cm.shape:
                frame[cm.name] = from_shape(cm.shape, frame[cm.name], rng)
            elif cm.name in frame.columns and cm.kind is ColumnKind.KEY and cm.shape:
                distinct = (cm.name,) in table.unique_sets()
                frame[cm.name] = codes_from_shape(cm.shape, frame[cm.name], rng, distinct=distinct)
        return frame, gen

    def draw(self, table: Table, done: Mapping[str, Generated], rng: np.random.Generator,
             predicates: list[Predicate]) -> Drawn:
        key = table.key
        tm = self.tables[key]
        the_plan, preds = self.plan, predicates
        size_rng, net_rng, own_rng, fk_rng, fix_rng = rng.spawn(5)
        n, parent_idx, sizing = self._size(table, tm, done, size_rng)
        fixed = {fk_id(key, sizing): parent_idx} if sizing is not None and parent_idx is not None else {}
        primary = fk_named(table, tm.primary)
        if primary is not None and tm.primary not in fixed and tm.context:  # sized by a scenario's table
            counts = done[primary.referred].counts.get(tm.primary or "")
            fixed[tm.primary or ""] = degree_assignment(
                np.ones(len(done[primary.referred].frame), dtype=np.int64) if counts is None else counts, n, size_rng)
        context = None
        if primary is not None and tm.primary in fixed and tm.context:
            pframe = self.tables[primary.referred].as_held(done[primary.referred].frame,
                                                           [pcol for _, pcol in tm.context])
            context = pd.DataFrame({node: _take(pframe[pcol], fixed[tm.primary or ""]).array
                                    for node, pcol in tm.context}, index=pd.RangeIndex(n))
        learned, child_counts = self._network(table, tm, n, context, net_rng)
        days = {c.name for c in table.columns if c.type.kind is TypeKind.DATE}
        frame, gen = self._own_columns(table, tm, n, learned, preds, own_rng)
        seq = sequence_key(table)
        if seq is not None:
            frame[seq] = np.arange(1, n + 1, dtype=np.int64)
        frame = self._foreign_keys(table, tm, frame, sizing, fixed, done, fk_rng, child_counts)

        gap_of = {hi: lo for hi, lo in tm.gaps if hi in learned}
        tries: dict[str, int] = {}

        ready = [fk for fk in table.foreign_keys if fk.referred != key and fk.referred in done
                 and not the_plan.is_deferred(key, fk)]
        redraw = KeyRedraw(ready, {fk.referred: done[fk.referred].frame for fk in ready})

        codes = {cm.name: cm.shape for cm in tm.columns if cm.kind in (ColumnKind.KEY, ColumnKind.SHAPE) and cm.shape}

        def resample(column: str, rows: np.ndarray, r: np.random.Generator, current: pd.DataFrame) -> pd.Series:
            k = int(rows.sum())
            if column in redraw:
                return redraw.draw(column, k, r)
            if column in codes:  # an identifier that clashed or broke a CHECK: another of its shape
                return from_shape(codes[column], pd.Series([""] * k), r)
            tries[column] = tries.get(column, 0) + 1
            # after NETWORK_TRIES rounds a learned column's failing rows take any released value (a
            # learned ordering the network's pairs break: Chinook's genre_id ≥ media_type_id at ε =
            # 1), after twice as many the schema's, whose values follow the CHECKs: under noise every
            # released bin may break one (Pagila's film.release_year ≥ 1901 with a noise-born bin at 0)
            if column not in learned or tries[column] > 2 * NETWORK_TRIES:
                return gen.sample(k, rng=r, columns=[column])[column]
            if tries[column] > NETWORK_TRIES:
                values = tm.generator.any_released(column, k, r)
            else:  # the failing rows' own parent context, when the frame still lines up with it
                given = context.loc[rows].reset_index(drop=True) \
                    if context is not None and len(context) == len(rows) else None
                values = tm.generator.sample(k, rng=r, columns=[column], parent_context=given)[column]
            if column in gap_of:  # a new gap after the row's own earlier date
                return add_gap(current.loc[rows, gap_of[column]].reset_index(drop=True), values,
                               whole_days=column in days)
            return values

        # copied from the parent row (learned equalities) or tied by a dependency: never resampled alone
        tied = {e.column for e in tm.equalities} | {c for d in tm.dependencies for c in (d.column, d.derived)}
        return Drawn(frame, resample, [c for c in [*gen.columns, *redraw.columns] if c != seq and c not in tied],
                     fix_rng, child_counts, keys=redraw.columns)

    def _foreign_keys(self, table: Table, tm: TableModel, frame: pd.DataFrame, primary: ForeignKey | None,
                      fixed: Mapping[str, np.ndarray], done: Mapping[str, Generated], rng: np.random.Generator,
                      own_counts: dict[str, np.ndarray]) -> pd.DataFrame:
        key = table.key
        n = len(frame)
        frame = frame.copy()
        assigned: dict[str, np.ndarray] = {}
        for fk in table.foreign_keys:
            fid = fk_id(key, fk)
            if fk.referred == key:
                null_rate = tm.fk_null_rates.get(fid, 0.0)
                if fid in own_counts and all(table.column(c).nullable for c in fk.columns):
                    roots = rng.random(n) < null_rate
                    roots[:1] = True
                    _put_keys(frame, fk, frame, forest_assignment(own_counts[fid], roots, rng))
                else:
                    frame = fill_self_reference(table, frame, fk, rng, null_rate=null_rate)
                continue
            if fk.referred not in self.model.schema or self.plan.is_deferred(key, fk):
                for c in fk.columns:
                    frame[c] = pd.Series([None] * n, dtype=object)
                continue
            parent = done[fk.referred]
            if fid in fixed:  # the row's parent when the table was sized or conditioned by it
                idx = fixed[fid]
            else:
                idx = degree_assignment(parent.counts.get(fid, np.ones(len(parent.frame), dtype=np.int64)), n, rng)
                if tm.fk_null_rates.get(fid, 0.0) > 0:
                    idx = np.where(rng.random(n) < tm.fk_null_rates[fid], -1, idx)
            assigned[fid] = idx
        assigned = self._meet(tm, assigned, done, rng)
        fks = {fk_id(key, fk): fk for fk in table.foreign_keys}
        for fid, idx in assigned.items():
            parent_frame = done[fks[fid].referred].frame
            _put_keys(frame, fks[fid], parent_frame, idx)
            for eq in tm.equalities:  # learned: this column is a copy of the parent's
                if eq.fk == fid and eq.column in frame.columns:
                    frame[eq.column] = _take(parent_frame[eq.parent_column], idx).array
        for group in linked_groups(table, [fk for fk in table.foreign_keys if fk_id(key, fk) in assigned]):
            ordered = tuple(sorted(group, key=lambda f: f is primary))  # the primary FK is kept
            frame = _dedupe_links(table, frame, ordered, rng)
        return frame

    def _meet(self, tm: TableModel, assigned: dict[str, np.ndarray], done: Mapping[str, Generated],
              rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Each learned meeting's fixed FK redrawn so that its paths agree as often as in the source
        (see :mod:`dbsynth.meetings`)."""
        if not tm.meetings:
            return assigned
        index = fk_index(self.model.schema)
        frames = {k: g.frame for k, g in done.items()}
        out = dict(assigned)
        for m in tm.meetings:
            if m.fixed[0] not in out or m.anchor[0] not in out:
                continue
            parent = index[m.fixed[0]][1].referred
            target = path_positions(frames, index, m.anchor, out[m.anchor[0]])
            ancestor_of = path_positions(frames, index, m.fixed, np.arange(len(frames[parent])))
            slots = done[parent].counts.get(m.fixed[0], np.ones(len(frames[parent]), dtype=np.int64))
            out[m.fixed[0]] = agree(out[m.fixed[0]], target, ancestor_of, slots, m.agreement, rng)
        return out


NETWORK_TRIES = 10  # enforcement rounds a learned column is redrawn from its network before the schema's values


def match_total(counts: np.ndarray, total: int) -> np.ndarray:
    """Scale per-parent counts so they add up to ``total`` (largest-remainder rounding): each
    parent keeps its drawn share, and the child table's size and mean children-per-parent match the
    source instead of drifting with the variance of a few parents' draws."""
    counts = np.asarray(counts, dtype=float)
    if len(counts) == 0:
        return counts.astype(np.int64)
    s = counts.sum()
    ideal = counts * (total / s) if s > 0 else np.full(len(counts), total / len(counts))
    out = np.floor(ideal).astype(np.int64)
    short = total - int(out.sum())
    if short > 0:
        out[np.argsort(-(ideal - out), kind="stable")[:short]] += 1
    return out


def _take(values: pd.Series, idx: np.ndarray) -> pd.Series:
    """``values`` at positions ``idx`` (NULL where ``idx`` is -1), keeping the column's dtype."""
    if len(values) == 0:
        return pd.Series([None] * len(idx), dtype=object)
    out = values.iloc[np.maximum(idx, 0)].reset_index(drop=True)
    missing = idx < 0
    if missing.any():
        out = out.astype(object) if out.dtype.kind in "iub" else out
        out = out.mask(missing)
    return out


def _put_keys(frame: pd.DataFrame, fk: ForeignKey, parent: pd.DataFrame, idx: np.ndarray) -> None:
    for col, ref in zip(fk.columns, fk.referred_columns, strict=True):
        frame[col] = _take(parent[ref], idx).array


def _dedupe_links(table: Table, frame: pd.DataFrame, group: tuple[ForeignKey, ...],
                  rng: np.random.Generator) -> pd.DataFrame:
    """A link table never repeats a parent combination: a duplicate row swaps the parent of its
    first FK (the one assigned by degree, not the one that drove the row count) with a random row's,
    which keeps every parent's number of links (Chinook's playlist_track, a reference table, keeps
    all its 8,715 rows); the few rows still duplicated after a bounded number of rounds are dropped."""
    cols = [c for fk in group for c in fk.columns]
    last = list(group[0].columns)
    frame = frame.reset_index(drop=True)
    for _ in range(LINK_ROUNDS):
        dup = np.flatnonzero(frame.duplicated(subset=cols).to_numpy())
        if not len(dup):
            return frame
        others = np.setdiff1d(np.arange(len(frame)), dup)
        if len(others) < len(dup):
            break
        partner = rng.choice(others, size=len(dup), replace=False)  # a swap, never a copy
        ours, theirs = frame.loc[dup, last].to_numpy(), frame.loc[partner, last].to_numpy()
        frame.loc[dup, last] = theirs
        frame.loc[partner, last] = ours
    keep = ~frame.duplicated(subset=cols).to_numpy()
    log.info("%s: dropped %d rows whose (%s) repeated", table.key, int((~keep).sum()), ", ".join(cols))
    return frame[keep].reset_index(drop=True)


LINK_ROUNDS = 200  # swap rounds for a link table's repeated parent combinations


_ALPHABETS = {"A": np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), dtype=object),
              "9": np.array(list("0123456789"), dtype=object)}


def _shape_positions(shape: str) -> list[str]:
    """A shape's positions: ``A`` (a capital letter), ``9`` (a digit) or ``\\x`` (the literal x)."""
    out: list[str] = []
    chars = iter(shape)
    for ch in chars:
        out.append("\\" + next(chars) if ch == "\\" else ch if ch in _ALPHABETS else "\\" + ch)
    return out


def from_shape(shape: str, like: pd.Series, rng: np.random.Generator) -> pd.Series:
    """Random identifiers of ``shape`` (``A`` a capital letter, ``9`` a digit, ``\\x`` the literal x),
    NULL where ``like`` is NULL; vectorised one character position at a time."""
    n = len(like)
    out = pd.Series([""] * n, dtype=object)
    for p in _shape_positions(shape):
        alphabet = _ALPHABETS.get(p)
        out = out + (p[-1] if alphabet is None else alphabet[rng.integers(0, len(alphabet), size=n)])
    return out.where(like.notna().to_numpy(), None)


def codes_from_shape(shape: str, like: pd.Series, rng: np.random.Generator, *, distinct: bool) -> pd.Series:
    """Codes of ``shape`` where ``like`` is set, all different when ``distinct`` (drawn without
    replacement from the shape's space, each position a digit of a mixed-radix number); ``like``
    itself when the space holds too few codes (96 departments at twice the scale do not fit in '99')."""
    if not distinct:
        return from_shape(shape, like, rng)
    positions = _shape_positions(shape)
    present = like.notna().to_numpy()
    n = int(present.sum())
    total = math.prod(len(_ALPHABETS[p]) for p in positions if p in _ALPHABETS)
    if total < n:
        log.info("codes of shape %s: %d asked for, only %d exist; kept the schema's values", shape, n, total)
        return like
    index = rng.integers(0, 2**62, size=n) if total > 2**62 else distinct_indices(total, n, rng)
    places: list[np.ndarray] = []
    for p in reversed(positions):  # the last position varies fastest
        alphabet = _ALPHABETS.get(p)
        if alphabet is None:
            places.append(np.full(n, p[-1], dtype=object))
        else:
            places.append(alphabet[index % len(alphabet)])
            index = index // len(alphabet)
    codes = np.full(n, "", dtype=object)
    for part in reversed(places):
        codes = codes + part
    out = pd.Series([None] * len(like), dtype=object)
    out[present] = codes
    return out


def _cut(text: str, length: int) -> str:
    """``text`` shortened to at most ``length`` characters, at a word boundary where there is one."""
    if len(text) <= length:
        return text
    head = text[:length]
    space = head.rfind(" ")
    return (head[:space] if space > 0 else head).rstrip()


def _shape_text(values: pd.Series, cm: ColumnModel, table: Table, rng: np.random.Generator) -> pd.Series:
    """Provider text cut to lengths drawn from the source's length quantiles, with its NULL rate."""
    out = values.copy()
    # provider values (city, company, title …) stay whole: cutting "Steveview" to five letters
    # would only produce fragments, some of them real names
    if cm.lengths and cm.kind is ColumnKind.TEXT and semantic_of(table, table.column(cm.name)) is None:
        qs = np.asarray(cm.lengths, dtype=float)
        target = np.interp(rng.random(len(out)), np.linspace(0, 1, len(qs)), qs).round().astype(int)
        text = out.astype(object).where(out.notna(), "")
        longer = text + " " + text.sample(frac=1.0, random_state=int(rng.integers(2**31))).to_numpy()
        longer = longer + " " + longer.sample(frac=1.0, random_state=int(rng.integers(2**31))).to_numpy()
        limit = table.column(cm.name).type.length
        if limit is not None:
            target = np.minimum(target, limit)
        cut = pd.Series([_cut(s, t) for s, t in zip(longer, target, strict=True)], dtype=object)
        unique = any(cols == (cm.name,) for cols in table.unique_sets())
        if not unique:
            out = cut.where(values.notna().to_numpy(), None)
    return out.reset_index(drop=True)


