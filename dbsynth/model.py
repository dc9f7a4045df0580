"""A learned model of a database, as data: no I/O (:mod:`dbsynth.model_io`), no generation
(:mod:`dbsynth.generators.learned` and the loop of :mod:`dbsynth.synthesis`).

``TableModel`` holds one table's Bayesian network over its learned columns, its children-per-parent
count nodes (one per FK that references it) and its context nodes (attributes of its primary parent).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np
import pandas as pd

from dbsynth.errors import UsageError
from dbsynth.generators.bayesnet import BayesNetGenerator
from dbsynth.graph import Plan, plan
from dbsynth.meetings import Meeting
from dbsynth.privacy.accountant import Accountant
from dbsynth.rules.invariants import Aggregate, Dependency, Described, Equality, LearnedRule, Order
from dbsynth.schema.model import Column, Schema, Table, TypeKind
from dbsynth.semantics import ColumnKind, column_kind, shape_of

__all__ = ["ColumnModel", "Model", "TableModel"]

LENGTH_QUANTILES = 11
_R = TypeVar("_R", bound=Described)


@dataclass(frozen=True)
class ColumnModel:
    """How one column is produced; ``lengths`` are quantiles of a text column's lengths."""

    name: str
    kind: ColumnKind
    null_rate: float
    lengths: tuple[int, ...] = ()
    shape: str | None = None

    @classmethod
    def profile(cls, table: Table, column: Column, values: pd.Series) -> ColumnModel:
        kind = column_kind(table, column, values)
        null = float(values.isna().mean()) if len(values) else 0.0
        if kind is ColumnKind.SHAPE or (kind is ColumnKind.KEY and values.notna().any() and _code(table, column)):
            # a code others point at (a department '2A', a town '75056') keeps its shape: digits stay
            # digits, widths and zero-padding stay, and no value is learned
            return cls(column.name, kind, null, (), _template(values.dropna().astype(str)))
        lengths: tuple[int, ...] = ()
        if kind in (ColumnKind.TEXT, ColumnKind.PII) and values.notna().any():
            lens = values.dropna().astype(str).str.len().to_numpy()
            lengths = tuple(int(v) for v in np.quantile(lens, np.linspace(0, 1, LENGTH_QUANTILES)))
        return cls(column.name, kind, null, lengths)


@dataclass(frozen=True)
class TableModel:
    key: str
    rows: int
    columns: tuple[ColumnModel, ...]
    generator: BayesNetGenerator
    primary: str | None
    context: tuple[tuple[str, str], ...]
    counts: tuple[tuple[str, str, float], ...]  # (node, child FK, source mean children per row)
    fk_null_rates: dict[str, float]
    null_parent_rate: float = 0.0  # share of rows whose (nullable) primary FK is NULL
    rules: tuple[LearnedRule, ...] = ()  # row-level invariants (see dbsynth.rules.learned)
    equalities: tuple[Equality, ...] = ()
    rule_notes: tuple[str, ...] = ()  # why rules were not learned (e.g. too much DP noise)
    # (later, earlier): the network learned later - earlier in seconds (see rules.learned.learned_gaps)
    gaps: tuple[tuple[str, str], ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    aggregates: tuple[Aggregate, ...] = ()  # the column is recomputed from the child rows
    meetings: tuple[Meeting, ...] = ()  # FK paths that reach the same ancestor row (see dbsynth.meetings)

    @property
    def gap_rules(self) -> frozenset[LearnedRule]:
        """The order rules the gaps stand for: part of the network, never switched off."""
        return frozenset(Order(hi, lo, strict) for hi, lo in self.gaps for strict in (False, True))

    def describe_rules(self) -> list[str]:
        """The learned rules as ``dbsynth rules`` lists them (and ``disable_learned`` names them)."""
        gaps = self.gap_rules
        return [f"{r.describe()} (learned as a gap)" if r in gaps else r.describe() for r in self.rules] + \
            [r.describe() for r in self.equalities] + [r.describe() for r in self.dependencies] + \
            [r.describe() for r in self.aggregates]

    def enabled(self, disabled: frozenset[str]) -> TableModel:
        """This table with the learned rules ``disabled`` names left out (see :class:`Config`)."""
        if self.key in disabled:
            return replace(self, rules=tuple(r for r in self.rules if r in self.gap_rules), equalities=(),
                           dependencies=(), aggregates=())
        def kept(rules: tuple[_R, ...]) -> tuple[_R, ...]:
            return tuple(r for r in rules if f"{self.key}: {r.describe()}" not in disabled)

        return replace(self, rules=kept(self.rules), equalities=kept(self.equalities),
                       dependencies=kept(self.dependencies), aggregates=kept(self.aggregates))

    def column(self, name: str) -> ColumnModel:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class Model:
    """A fitted model: the source schema, one :class:`TableModel` per table, and fit parameters."""

    schema: Schema
    tables: dict[str, TableModel]
    epsilon: float = math.inf
    k: int = 2
    privacy: Accountant | None = None
    public: tuple[str, ...] = ()  # reference data: the tables outside the privacy unit, learned exactly
    unit: str | None = None  # the privacy unit's table (None: no differential privacy)
    unit_proposed: str | None = None  # why fit chose the unit when it was not given
    cap: int = 5
    holdout: float = 0.0
    seed: int = 0

    @property
    def plan(self) -> Plan:
        return plan(self.schema)

    def without_rules(self, names: Iterable[str]) -> Model:
        """This model with the learned rules ``names`` left out: ``table: rule`` as ``dbsynth rules``
        lists them, or a table name for all of its rules (``disable_learned`` in the config)."""
        disabled = frozenset(names)
        if not disabled:
            return self
        listed = {f"{k}: {r}" for k, tm in self.tables.items() for r in tm.describe_rules()}
        unknown = sorted(d for d in disabled if d not in listed and d not in self.tables)
        if unknown:
            raise UsageError(f"disable_learned names no learned rule of this model: {'; '.join(unknown)}. "
                             f"It has: {'; '.join(sorted(listed)) or 'none'}")
        built_in = sorted(d for d in disabled if d.endswith("(learned as a gap)"))
        if built_in:
            raise UsageError(f"{'; '.join(built_in)}: the model learned the gap between these dates, so the "
                             "ordering is part of it; refit on data without it to drop it")
        return replace(self, tables={k: tm.enabled(disabled) for k, tm in self.tables.items()})


def _code(table: Table, column: Column) -> bool:
    """A text key the table makes itself: a UNIQUE or primary key column no FK of its own fills."""
    own_fk = {c for fk in table.foreign_keys for c in fk.columns}
    return column.type.kind is TypeKind.STRING and column.name not in own_fk


def _template(values: pd.Series) -> str:
    """The dominant shape of ``values``, with the characters every such value shares kept literally
    (escaped with ``\\``): ``ORD-12345`` and ``ORD-00731`` give ``\\O\\R\\D-99999``. A fixed prefix is
    part of the format, not of any one row."""
    shapes = values.map(shape_of)
    shape = str(shapes.value_counts().index[0])
    same = values[shapes == shape]
    out = []
    for i, ch in enumerate(shape):
        column = same.str[i]
        top = column.value_counts(normalize=True)
        out.append("\\" + str(top.index[0]) if ch in "A9" and top.iloc[0] > 0.99 and len(same) >= 20 else ch)
    return "".join(out)
