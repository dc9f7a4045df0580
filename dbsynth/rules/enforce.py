"""Make a generated table valid before it leaves the generator: CHECKs, UNIQUE/PK, NOT NULL.

Each round checks the whole frame vectorised, repairs ``a < b`` orderings of the schema and the user by
swapping (a learned rule only by redrawing from the model, whose values it keeps), and resamples
only the failing rows' offending columns; after a bounded number of rounds a table that still fails
is a :class:`ConstraintError` that names the constraint and shows failing rows. Nothing is skipped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dbsynth.errors import ConstraintError
from dbsynth.rules.checks import Predicate
from dbsynth.rules.domains import Window, order_pairs, windows

__all__ = ["EnforceReport", "Resampler", "enforce"]

log = logging.getLogger(__name__)
# (column, rows to redraw, rng, the frame as it stands) → new values for those rows, in order
Resampler = Callable[[str, np.ndarray, np.random.Generator, pd.DataFrame], pd.Series]
MAX_ROUNDS = 30


@dataclass
class EnforceReport:
    """What enforcement did to one table, per rule (its label): rows checked (the table's rows, once),
    rows found failing (summed over rounds), rows whose columns were resampled for it, rows repaired
    deterministically (swap, window); rules left to the database; seconds spent."""

    checked: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    resampled: dict[str, int] = field(default_factory=dict)
    repaired: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)  # learned rules given up on these rows
    unchecked: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def rows(self) -> list[dict[str, int | str]]:
        """One record per rule, for the run report (CLI table, ``--json``)."""
        labels = list(dict.fromkeys([*self.checked, *self.rejected, *self.repaired]))
        return [{"rule": label, "checked": self.checked.get(label, 0), "rejected": self.rejected.get(label, 0),
                 "resampled": self.resampled.get(label, 0), "repaired": self.repaired.get(label, 0),
                 "dropped": self.dropped.get(label, 0)}
                for label in labels]


def _swappable(w: Window, free: set[str]) -> bool:
    """A plain ordering of two regenerable columns is repaired by swapping the pair, which keeps
    both columns' learned values; placing one anywhere in a year past the other would not."""
    return w.ordering and {w.column, w.other} <= free


def _swap_orders(frame: pd.DataFrame, predicates: Sequence[Predicate], free: set[str],
                 report: EnforceReport, types: Mapping[str, object] | None) -> None:
    """Rows breaking ``a <= b`` get the pair's values swapped, when the two columns hold the same
    type (``types``: column → its type; None, unknown): a learned ``media_type_id > unit_price`` once
    swapped a price of 1.99 into an integer."""
    windowed = {frozenset((w.column, w.other)) for w in windows(predicates) if not _swappable(w, free)}
    # a learned ordering is met by redrawing from the model: a swap would move values across columns,
    # writing a genre id the model released as a media type id (Chinook's genre_id ≥ media_type_id)
    for order in order_pairs([p for p in predicates if not p.learned]):
        if not {order.low, order.high} <= free or frozenset((order.low, order.high)) in windowed:
            continue  # a window repair places these (swapping would undo what it placed)
        if types is not None and types.get(order.low) != types.get(order.high):
            continue  # resampled instead
        low, high = frame[order.low], frame[order.high]
        try:
            bad = (low > high).fillna(False).to_numpy(dtype=bool)
        except TypeError:
            continue
        if bad.any():
            frame.loc[bad, [order.low, order.high]] = frame.loc[bad, [order.high, order.low]].to_numpy()
            label = f"CHECK {order.rule}"
            report.repaired[label] = report.repaired.get(label, 0) + int(bad.sum())


def _place_in_windows(frame: pd.DataFrame, bad: np.ndarray, predicate: Predicate, free: set[str],
                      rng: np.random.Generator, report: EnforceReport) -> None:
    """Repair ``a`` in ``[b + low, b + high]`` windows (``delivered_on <= sent_on + 30``) by drawing
    ``a`` inside its window for the failing rows: resampling both at random would almost never land
    two dates within a month of each other."""
    for w in windows([predicate]):
        if w.column not in free or w.other not in frame.columns or _swappable(w, free):
            continue
        base = frame.loc[bad, w.other]
        if base.isna().all():
            continue
        dated = pd.api.types.is_datetime64_any_dtype(base.dtype)
        open_span = 365.0 if dated else 100.0  # how far past a one-sided bound values may fall
        low = w.low if w.low is not None else (w.high or 0.0) - open_span
        high = w.high if w.high is not None else low + open_span
        offset = low + rng.random(int(bad.sum())) * max(high - low, 0.0)
        target = frame[w.column]
        if dated:
            step = pd.to_timedelta(np.floor(offset), unit="D")
            values = (base + step.to_numpy()).to_numpy()
        elif pd.api.types.is_integer_dtype(target.dtype) or target.dropna().map(
                lambda v: isinstance(v, int | np.integer)).all():
            values = (pd.to_numeric(base) + np.floor(offset)).round().astype("Int64").to_numpy()
        else:
            values = (pd.to_numeric(base) + offset).to_numpy()
        frame.loc[bad, w.column] = values
        label = f"CHECK {predicate.label}"
        report.repaired[label] = report.repaired.get(label, 0) + int(bad.sum())


def enforce(
    table: str,
    frame: pd.DataFrame,
    *,
    predicates: Sequence[Predicate],
    unique_sets: Iterable[tuple[str, ...]],
    not_null: Iterable[str],
    resample: Resampler,
    resamplable: Iterable[str],
    rng: np.random.Generator,
    report: EnforceReport | None = None,
    types: Mapping[str, object] | None = None,
    keys: Iterable[str] = (),
) -> pd.DataFrame:
    """Return ``frame`` with every supported constraint holding, or raise :class:`ConstraintError`.
    ``keys``: resamplable FK columns, redrawn for a constraint only when none of its other columns
    can be (a town's department kept, its clashing town code redrawn), so parents keep their degrees."""
    report = report if report is not None else EnforceReport()
    start = time.perf_counter()
    try:
        return _enforce(table, frame, predicates, unique_sets, not_null, resample, resamplable, rng, report, types,
                        set(keys))
    finally:
        report.seconds += time.perf_counter() - start


def _enforce(table: str, frame: pd.DataFrame, predicates: Sequence[Predicate], unique_sets: Iterable[tuple[str, ...]],
             not_null: Iterable[str], resample: Resampler, resamplable: Iterable[str], rng: np.random.Generator,
             report: EnforceReport, types: Mapping[str, object] | None, keys: set[str]) -> pd.DataFrame:
    frame = frame.reset_index(drop=True).copy()
    free = set(resamplable)
    checks = [p for p in predicates if p.supported]
    report.unchecked += [p.label for p in predicates if not p.supported]
    uniques = [tuple(u) for u in unique_sets]
    required = [c for c in not_null if c in frame.columns]
    for label in ([f"CHECK {p.label}" for p in checks] + [f"UNIQUE ({', '.join(u)})" for u in uniques]
                  + [f"NOT NULL {c}" for c in required]):
        report.checked[label] = report.checked.get(label, 0) + len(frame)
    for round_ in range(MAX_ROUNDS + 1):
        _swap_orders(frame, checks, free, report, types)
        failing = _failing(frame, checks, uniques, required)
        if not failing:
            return frame
        todo: dict[str, np.ndarray] = {}
        for label, bad, cols in failing:
            report.rejected[label] = report.rejected.get(label, 0) + int(bad.sum())
            predicate = next((p for p in checks if f"CHECK {p.label}" == label), None)
            if round_ < MAX_ROUNDS and predicate is not None and not predicate.learned and any(
                    w.column in free and not _swappable(w, free) for w in windows([predicate])):
                _place_in_windows(frame, bad, predicate, free, rng, report)
                continue
            fixable = [c for c in cols if c in free]
            fixable = [c for c in fixable if c not in keys] or fixable
            if (not fixable or round_ == MAX_ROUNDS) and predicate is not None and predicate.learned:
                # a rule only learned from the source must never stop a run: give it up on these rows
                report.dropped[label] = int(bad.sum())
                checks.remove(predicate)
                log.warning("%s: %s does not hold on %d generated rows (%s); the learned rule was dropped for them",
                            table, label, int(bad.sum()), "its columns cannot be regenerated" if not fixable
                            else f"still failing after {MAX_ROUNDS} rounds")
                continue
            if not fixable or round_ == MAX_ROUNDS:
                raise _unfixable(table, frame, label, bad, cols, fixable)
            report.resampled[label] = report.resampled.get(label, 0) + int(bad.sum())
            for c in fixable:
                todo[c] = todo[c] | bad if c in todo else bad
        if round_ == MAX_ROUNDS:  # every rule still failing was a learned one, now dropped
            return frame
        _resample(frame, todo, resample, rng)
    raise AssertionError("unreachable: the last round either returns or raises")


def _failing(frame: pd.DataFrame, checks: Sequence[Predicate], uniques: Sequence[tuple[str, ...]],
             required: Sequence[str]) -> list[tuple[str, np.ndarray, tuple[str, ...]]]:
    """(label, rows, columns) of every constraint some row breaks: CHECKs, UNIQUE sets (the first
    copy of a key is kept; NULLs never clash), NOT NULL."""
    failing: list[tuple[str, np.ndarray, tuple[str, ...]]] = []
    for p in checks:
        bad = p.violations(frame)
        if bad.any():
            failing.append((f"CHECK {p.label}", bad, tuple(sorted(p.columns))))
    for cols in uniques:
        sub = frame.loc[:, list(cols)]
        bad = (sub.duplicated(keep="first") & sub.notna().all(axis=1)).to_numpy()
        if bad.any():
            failing.append((f"UNIQUE ({', '.join(cols)})", bad, cols))
    for c in required:
        bad = frame[c].isna().to_numpy()
        if bad.any():
            failing.append((f"NOT NULL {c}", bad, (c,)))
    return failing


def _unfixable(table: str, frame: pd.DataFrame, label: str, bad: np.ndarray, cols: tuple[str, ...],
               fixable: list[str]) -> ConstraintError:
    sample = frame.loc[bad, list(cols)].head(3).to_dict("records")
    why = ("none of its columns can be regenerated" if not fixable
           else f"still failing after {MAX_ROUNDS} rounds of resampling")
    return ConstraintError(
        f"{table}: {int(bad.sum())} generated rows violate {label} on column(s) {', '.join(cols)}; {why}. "
        f"Failing rows, e.g. {sample}. Check that the constraint is satisfiable, or relax it")


def _resample(frame: pd.DataFrame, todo: dict[str, np.ndarray], resample: Resampler,
              rng: np.random.Generator) -> None:
    """New values for the failing rows of each column, in place, kept in the column's dtype."""
    for c, rows in todo.items():
        values = resample(c, rows, rng, frame)
        col = frame[c]
        if col.dtype.kind == "M":
            values = pd.to_datetime(values, utc=getattr(col.dtype, "tz", None) is not None).astype(col.dtype)
        elif col.dtype.kind in "iufb" and values.isna().any():
            frame[c] = col.astype(object)
        frame.loc[rows, c] = values.to_numpy()
