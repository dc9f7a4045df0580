"""Scenarios: rows that meet a condition (``--where "invoice.total > 20"``) or hold a category at a
chosen share (``--boost invoice.status=cancelled:0.3``), with their related rows consistent.

Three steps, each the most faithful one available:

1. **Through the network.** A table's rows are drawn from its network given their parent context;
   a row that misses the scenario is drawn again, with the same context, until it meets it (at most
   :data:`TRIES` times). That is rejection sampling, so every released column, count node and date
   gap of the row comes from the network's distribution *given* the scenario: a boosted cancelled
   order keeps the lines, payments and dates its kind has, an invoice over 20 the number of lines
   such invoices have. Under the scenario a child table that references the table is sized by it
   (each invoice gets the lines it drew), and each count node's total follows its conditional mean.
   A row whose context never draws the condition (an invoice over 20 is 1 in 100, from a few
   customers' cities) is drawn with the column held to the states that meet it — an intervention,
   whose nodes below still follow (such an invoice's 14 lines); a boosted row that no draw made the
   category takes it. Chinook ``--where "invoice.total > 20"``: 4 source invoices of 412 qualify,
   and all 412 generated ones do, each with lines that add up to its total.
2. **As a rule.** A ``--where`` is also a rule of its table, so enforcement redraws what the network
   could not settle, and schema-only runs meet it the same way as any user rule.
3. **After the aggregates.** A column an aggregate rule derives from child rows (an invoice's total,
   the sum of its lines) is only known once the children exist. Parents that miss the condition move
   their children's values one step at a time in the needed direction — the cheapest line of an
   invoice that must exceed 20 takes a dearer track (a value copied from a parent moves with that
   parent's key) — and what still misses is dropped with every row that needs it, and said in the log.
   A table the condition leaves empty stops the run: a scenario never passes as "0 rows".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlglot
from sqlglot import exp

from dbsynth.errors import UsageError
from dbsynth.relational import join_parent, parent_positions
from dbsynth.rules.checks import Predicate, compile_check
from dbsynth.rules.sql_eval import Evaluator, as_bool
from dbsynth.schema.model import ForeignKey, Schema, Table

__all__ = ["Boost", "Scenario", "Where", "condition", "drop_with_dependents", "parse_boost", "parse_where",
           "raise_aggregate"]

log = logging.getLogger(__name__)
TRIES = 60  # network redraws of a row that misses its scenario


@dataclass(frozen=True)
class Where:
    """``--where``: a condition over one table's columns (``sql`` names them as the table does)."""

    table: str
    sql: str
    text: str

    def predicate(self, table: Table) -> Predicate:
        return compile_check(f"--where {self.text}", self.sql, dialect="postgresql",
                             columns=[c.name for c in table.columns])


@dataclass(frozen=True)
class Boost:
    """``--boost``: ``share`` of the table's rows take ``value`` in ``column``, the others do not."""

    table: str
    column: str
    value: str
    share: float
    text: str


@dataclass(frozen=True)
class Scenario:
    """Every ``--where`` and ``--boost`` of a run."""

    wheres: tuple[Where, ...] = ()
    boosts: tuple[Boost, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.wheres or self.boosts)

    @property
    def tables(self) -> frozenset[str]:
        return frozenset(w.table for w in self.wheres) | frozenset(b.table for b in self.boosts)

    def of(self, table: str) -> tuple[list[Where], list[Boost]]:
        return [w for w in self.wheres if w.table == table], [b for b in self.boosts if b.table == table]

    @classmethod
    def parse(cls, schema: Schema, wheres: Iterable[str] = (), boosts: Iterable[str] = ()) -> Scenario:
        parsed = tuple(parse_boost(schema, b) for b in boosts)
        for i, b in enumerate(parsed):
            if any(o.table == b.table for o in parsed[:i]):
                raise UsageError(f"--boost {b.text}: one boost per table ({b.table} has two)")
        return cls(tuple(parse_where(schema, w) for w in wheres), parsed)


def _table(schema: Schema, name: str, option: str) -> Table:
    """The table a user named, its letter case aside (``invoice`` for Chinook's ``Invoice``)."""
    if name in schema:
        return schema.table(name)
    folded = [t for t in schema.tables if name.casefold() in (t.key.casefold(), t.name.casefold())]
    if len(folded) == 1:
        return folded[0]
    return schema.table(schema.resolve(name, option=option))


def _column(table: Table, name: str, option: str) -> str:
    found = [c.name for c in table.columns if c.name == name] or \
        [c.name for c in table.columns if c.name.casefold() == name.casefold()]
    if len(found) != 1:
        raise UsageError(f"{option}: {table.key} has no column {name!r}; its columns are: "
                         f"{', '.join(c.name for c in table.columns)}")
    return found[0]


def parse_where(schema: Schema, text: str) -> Where:
    """``TABLE.COLUMN > 20`` (any SQL condition over one table's columns, each written ``table.column``
    at least once so the table is known)."""
    option = f"--where {text!r}"
    try:
        tree = sqlglot.parse_one(text, read="postgres")
    except sqlglot.errors.ParseError as exc:
        raise UsageError(f"{option}: not an SQL condition ({str(exc).splitlines()[0]})") from exc
    columns = list(tree.find_all(exp.Column))
    named = {".".join(p for p in (c.args.get("db") and c.db, c.table) if p) for c in columns if c.table}
    if len(named) != 1:
        raise UsageError(f"{option}: name one table's columns as table.column (found "
                         f"{', '.join(sorted(named)) or 'no table'})")
    table = _table(schema, named.pop(), option)
    for col in columns:
        col.set("this", exp.to_identifier(_column(table, col.name, option), quoted=True))
        col.set("table", None)
        col.set("db", None)
    where = Where(table.key, tree.sql(dialect="postgres"), text)
    if not where.predicate(table).supported:
        raise UsageError(f"{option}: dbsynth cannot evaluate this condition (comparisons, IN, BETWEEN, LIKE, "
                         "IS NULL, AND/OR/NOT and arithmetic are understood)")
    return where


def parse_boost(schema: Schema, text: str) -> Boost:
    """``TABLE.COLUMN=VALUE:SHARE``, the share a fraction in (0, 1]."""
    option = f"--boost {text!r}"
    target, sep, rest = text.partition("=")
    value, colon, share_text = rest.rpartition(":")
    name, dot, column = target.strip().rpartition(".")
    if not (sep and colon and dot and value):
        raise UsageError(f"{option}: write TABLE.COLUMN=VALUE:SHARE, e.g. invoice.status=cancelled:0.3")
    try:
        share = float(share_text)
    except ValueError:
        raise UsageError(f"{option}: the share {share_text!r} is not a number") from None
    if not 0 < share <= 1:
        raise UsageError(f"{option}: the share must lie in (0, 1] (got {share})")
    table = _table(schema, name, option)
    return Boost(table.key, _column(table, column, option), value.strip(), share, text)


def holds(predicate: Predicate, frame: pd.DataFrame) -> np.ndarray:
    """Rows for which the condition is TRUE (NULL is not, as in a WHERE clause)."""
    assert predicate.tree is not None
    return as_bool(Evaluator(frame).eval(predicate.tree), len(frame)).fillna(False).to_numpy(dtype=bool)


def is_value(values: pd.Series, value: str) -> np.ndarray:
    """Whether each value is ``value`` as the user wrote it (``true`` for True, ``3`` for 3.0)."""
    same = values.astype(str).str.casefold().to_numpy() == value.casefold()
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    if pd.notna(number) and values.dtype.kind in "iufb":
        same |= (pd.to_numeric(values, errors="coerce") == number).fillna(False).to_numpy(dtype=bool)
    return same


Draw = Callable[[np.ndarray, Mapping[str, Callable[[pd.Series], np.ndarray]] | None], pd.DataFrame]


def condition(table: Table, draw: Draw, first: pd.DataFrame, wheres: Sequence[Where], boosts: Sequence[Boost],
              rng: np.random.Generator) -> pd.DataFrame:
    """The rows of ``first`` (a plain draw of the network), each that misses its scenario redrawn by
    ``draw(positions, None)`` (the network given those rows' parent context) until it meets it (see
    the module docstring). A row whose context never draws a one-column condition (Chinook's invoices
    over 20 come from few customers' cities) is drawn with that column held to the states that meet
    it, ``draw(positions, tests)``: an intervention, the nodes below it follow (such an invoice's
    line count). A boost needs, per row, a draw with its value and one without: the rows that can
    only hold the value take it first (a video track costs 1.99 whatever the boost), then rows
    chosen at random, so the share holds exactly where the network allows it."""
    n = len(first)
    checks = [p for w in wheres if (p := w.predicate(table)).tree is not None and p.columns <= set(first.columns)]
    tests = {next(iter(p.columns)): _test(p) for p in checks if len(p.columns) == 1}
    boost = next((b for b in boosts if b.column in first.columns), None)
    kinds = ("in", "out") if boost else ("any",)
    target = round(boost.share * n) if boost else 0
    found = {k: np.full((n, 2), -1, dtype=np.int64) for k in kinds}  # (round, offset) of a draw per row
    rounds, rows = [first], np.arange(n)
    for r in range(2 * TRIES + 1):  # plain draws, then draws held to the condition
        frame = rounds[r]
        ok = np.ones(len(rows), dtype=bool)
        for p in checks:
            ok &= holds(p, frame)
        masks = {"any": ok}
        if boost:
            value = is_value(frame[boost.column], boost.value)
            masks = {"in": ok & value, "out": ok & ~value}
        for kind, mask in masks.items():
            new = mask & (found[kind][rows, 0] < 0)
            found[kind][rows[new]] = np.column_stack([np.full(int(new.sum()), r), np.flatnonzero(new)])
        has = {k: found[k][:, 0] >= 0 for k in kinds}
        if boost:
            settled = has["in"].sum() >= target and (has["in"] | has["out"]).all()
            rows = np.flatnonzero(~(has["in"] & has["out"])) if not settled else rows[:0]
        else:
            rows = np.flatnonzero(~has["any"])
        if not len(rows) or r == 2 * TRIES:
            break
        rounds.append(draw(rows, tests if r >= TRIES else None))
    pick, chosen = _assign(found, target, rng) if boost else (found["any"].copy(), np.zeros(n, dtype=bool))
    pick[pick[:, 0] < 0] = np.column_stack([np.zeros(int((pick[:, 0] < 0).sum()), dtype=np.int64),
                                            np.flatnonzero(pick[:, 0] < 0)])
    pieces = [rounds[r].iloc[pick[pick[:, 0] == r, 1]].set_axis(np.flatnonzero(pick[:, 0] == r))
              for r in range(len(rounds))]
    out = pd.concat(pieces).sort_index()
    out.index = pd.RangeIndex(n)
    if boost:  # chosen rows that no draw gave the value take it
        short = chosen & ~is_value(out[boost.column], boost.value)
        if short.any():
            out[boost.column] = _put(out[boost.column], short, first[boost.column], boost)
    return out


def _test(predicate: Predicate) -> Callable[[pd.Series], np.ndarray]:
    """Whether each value of the predicate's one column meets it."""
    column = next(iter(predicate.columns))
    return lambda values: holds(predicate, pd.DataFrame({column: values}))


def _assign(found: dict[str, np.ndarray], target: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per row the draw to keep: ``target`` rows with the boosted value (those that cannot go without
    it first, then at random among those that can hold it, then any row), the others without it."""
    has_in, has_out = found["in"][:, 0] >= 0, found["out"][:, 0] >= 0
    chosen = has_in & ~has_out
    for pool in (has_in & has_out, ~has_in):
        short = target - int(chosen.sum())
        if short <= 0:
            break
        free = np.flatnonzero(pool & ~chosen)
        chosen[rng.permutation(free)[:short]] = True
    pick = np.where(has_out[:, None], found["out"], found["in"])
    pick[chosen & has_in] = found["in"][chosen & has_in]
    return pick, chosen


def _put(values: pd.Series, rows: np.ndarray, seen: pd.Series, boost: Boost) -> pd.Series:
    """``values`` with ``rows`` set to the boosted value, in the column's own type (a value the network
    drew when it did, else the value as written)."""
    drawn = seen[is_value(seen, boost.value)]
    value: object = drawn.iloc[0] if len(drawn) else boost.value
    out = values.astype(object).copy()
    out[rows] = value
    return out.astype(values.dtype) if len(drawn) else out


# --- after the aggregates -------------------------------------------------------------------------

@dataclass(frozen=True)
class Derived:
    """An aggregate rule the scenario step can move: ``table.column`` = sum, avg, min or max of
    ``child.measure`` (each grows with the measure; a count would need new rows)."""

    table: str
    column: str
    child: str
    fk: ForeignKey
    measure: str

    @classmethod
    def of(cls, schema: Schema, table: str, column: str, child: str, aggregate: str) -> Derived | None:
        """``sum(measure)``, ``avg``, ``min`` or ``max`` of one child column over an FK to ``table``."""
        tree = sqlglot.parse_one(aggregate, read="postgres")
        fk = next((f for f in schema.table(child).foreign_keys if f.referred == table), None)
        if not isinstance(tree, (exp.Sum, exp.Avg, exp.Min, exp.Max)) or fk is None \
                or not isinstance(tree.this, exp.Column):
            return None
        return cls(table, column, child, fk, tree.this.name)


def settle(schema: Schema, frames: dict[str, pd.DataFrame], wheres: Sequence[Where], derived: Sequence[Derived],
           recompute: Callable[[], None], valid: Callable[[str, pd.DataFrame], np.ndarray],
           rng: np.random.Generator) -> None:
    """Every ``--where`` once the aggregates are known: an aggregate's children moved towards it (see
    :func:`raise_aggregate`), then what still misses it dropped with the rows that need it, and a
    table left empty an error. In place."""
    for w in wheres:
        columns = w.predicate(schema.table(w.table)).columns
        for rule in derived:
            if rule.table == w.table and rule.column in columns:
                raise_aggregate(schema, frames, w, rule, recompute, valid, rng)
    for _ in range(3):  # dropping children can move another parent's aggregate
        dropped = False
        for w in wheres:
            generated = len(frames[w.table])
            miss = ~holds(w.predicate(schema.table(w.table)), frames[w.table])
            if not miss.any():
                continue
            removed = drop_with_dependents(schema, frames, w.table, miss)
            dropped = True
            if len(frames[w.table]) == 0:
                raise UsageError(f"--where {w.text}: none of the {generated} generated {w.table} rows meets it, "
                                 "even after moving their child rows towards it; loosen the condition")
            log.warning("--where %s: %d of %d %s rows still missed it and were dropped%s", w.text, int(miss.sum()),
                        generated, w.table, "".join(f", with {n} {t} rows" for t, n in removed.items() if t != w.table))
        if not dropped:
            return
        recompute()


def raise_aggregate(schema: Schema, frames: dict[str, pd.DataFrame], where: Where, rule: Derived,
                    recompute: Callable[[], None], valid: Callable[[str, pd.DataFrame], np.ndarray],
                    rng: np.random.Generator) -> None:
    """Move the children of the parents that miss ``where`` (a condition on ``rule``'s column) one
    value at a time towards it: per failing parent, its child with the least (or, to go down, the
    most) measure takes a random larger (smaller) value — with the parent key it is copied from, when
    it is a copy of a parent's column. ``valid(table, rows)`` says which changed rows keep every
    constraint; the others are put back. In place; stops when nothing misses or nothing moves."""
    parent_table = schema.table(where.table)
    predicate = where.predicate(parent_table)
    direction = _direction(predicate, rule.column)
    if direction == 0 or predicate.tree is None:
        return
    child_table = schema.table(rule.child)
    link = _copy_link(schema, frames, child_table, rule)
    for _ in range(200):
        parent = frames[where.table]
        failing = ~holds(predicate, parent)
        if not failing.any():
            return
        child = frames[rule.child]
        mine = parent_positions(child, parent.loc[failing], rule.fk) >= 0
        if not mine.any():
            return
        measure = pd.to_numeric(child[rule.measure], errors="coerce")
        group = child.loc[mine, list(rule.fk.columns)].astype(str).agg("\x1f".join, axis=1)
        pick = measure[mine].groupby(group).idxmin() if direction > 0 else measure[mine].groupby(group).idxmax()
        rows = pick.dropna().to_numpy(dtype=np.int64)
        if not _move(schema, frames, child_table, rule, link, rows, direction, valid, rng):
            return
        recompute()


def _direction(predicate: Predicate, column: str) -> int:
    """+1 when the condition wants ``column`` larger (``total > 20``), -1 smaller, 0 otherwise."""
    tree = predicate.tree
    if not isinstance(tree, (exp.GT, exp.GTE, exp.LT, exp.LTE)):
        return 0
    left, right = tree.this, tree.expression
    up = isinstance(tree, (exp.GT, exp.GTE))
    if isinstance(left, exp.Column) and left.name == column and not right.find(exp.Column):
        return 1 if up else -1
    if isinstance(right, exp.Column) and right.name == column and not left.find(exp.Column):
        return -1 if up else 1
    return 0


def _copy_link(schema: Schema, frames: Mapping[str, pd.DataFrame], child: Table, rule: Derived
               ) -> tuple[ForeignKey, str] | None:
    """The child's FK and the parent column its measure copies in every row (a line's unit price is
    its track's), or None."""
    rows = frames[rule.child]
    mine = pd.to_numeric(rows[rule.measure], errors="coerce").to_numpy(dtype=float)
    for fk in child.foreign_keys:
        if fk == rule.fk or fk.referred not in frames or len(rows) == 0:
            continue
        joined = join_parent(rows, frames[fk.referred], fk)
        for col in joined.columns:
            theirs = pd.to_numeric(joined[col], errors="coerce").to_numpy(dtype=float)
            if col not in fk.referred_columns and np.allclose(mine, theirs, equal_nan=True):
                return fk, col
    return None


def _move(schema: Schema, frames: dict[str, pd.DataFrame], child: Table, rule: Derived,
          link: tuple[ForeignKey, str] | None, rows: np.ndarray, direction: int,
          valid: Callable[[str, pd.DataFrame], np.ndarray], rng: np.random.Generator) -> bool:
    """One step for each child row in ``rows``: a larger (``direction`` +1) or smaller measure."""
    frame = frames[rule.child]
    if link is not None:
        fk, col = link
        pool = frames[fk.referred]
        values = pd.to_numeric(pool[col], errors="coerce").to_numpy(dtype=float)
    else:
        pool, values = frame, pd.to_numeric(frame[rule.measure], errors="coerce").to_numpy(dtype=float)
    order = np.argsort(values, kind="stable")
    order = order[~np.isnan(values[order])]
    ranked = values[order]
    current = pd.to_numeric(frame[rule.measure].iloc[rows], errors="coerce").to_numpy(dtype=float)
    if direction > 0:
        lo = np.searchsorted(ranked, current, side="right")
        hi = np.full(len(rows), len(ranked))
    else:
        lo, hi = np.zeros(len(rows), dtype=np.int64), np.searchsorted(ranked, current, side="left")
    can = hi > lo
    if not can.any():
        return False
    rows, lo, hi = rows[can], lo[can], hi[can]
    chosen = order[lo + (rng.random(len(rows)) * (hi - lo)).astype(np.int64)]
    if link is not None:
        fk, col = link
        new = {c: pool[r].iloc[chosen].to_numpy() for c, r in zip(fk.columns, fk.referred_columns, strict=True)}
        new[rule.measure] = pool[col].iloc[chosen].to_numpy()
    else:
        new = {rule.measure: pool[rule.measure].iloc[chosen].to_numpy()}
    trial = frame.copy()
    for c, v in new.items():
        trial.loc[frame.index[rows], c] = v
    ok = valid(rule.child, trial)[rows]
    if not ok.any():
        return False
    for c, v in new.items():
        frame.loc[frame.index[rows[ok]], c] = v[ok]
    return True


def drop_with_dependents(schema: Schema, frames: dict[str, pd.DataFrame], table: str, rows: np.ndarray
                         ) -> dict[str, int]:
    """Remove ``rows`` of ``table`` and, through every FK, the rows that need them (a nullable FK is
    set to NULL instead); in place. Rows removed per table."""
    removed: dict[str, int] = {}
    todo = [(table, rows)]
    while todo:
        key, mask = todo.pop()
        if not mask.any():
            continue
        gone = frames[key].loc[mask]
        frames[key] = frames[key].loc[~mask].reset_index(drop=True)
        removed[key] = removed.get(key, 0) + int(mask.sum())
        for other in schema.tables:
            for fk in other.foreign_keys:
                if fk.referred != key or other.key not in frames:
                    continue
                frame = frames[other.key]
                hit = parent_positions(frame, gone, fk) >= 0
                if not hit.any():
                    continue
                if all(other.column(c).nullable for c in fk.columns):
                    for c in fk.columns:
                        frame[c] = frame[c].astype(object).where(~hit, None)
                else:
                    todo.append((other.key, hit))
    return removed
