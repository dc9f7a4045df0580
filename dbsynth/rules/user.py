"""User rules from the configuration, turned into the same predicates as CHECK constraints.

Row, conditional, value-set, range and fixed-value rules compile to one predicate over the table.
A cross-table rule names its ``parent``: the parent's columns (``rental.rental_date``) are joined onto
the child's rows as ``__parent__<column>`` while the rule is enforced. An aggregate rule
(``invoice.total = sum(invoice_line.unit_price * invoice_line.quantity)``) is a derivation: the
parent column is recomputed from the generated children.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np
import pandas as pd
import sqlglot
from sqlglot import exp

from dbsynth.config import Config
from dbsynth.errors import UsageError
from dbsynth.relational import join_parent
from dbsynth.rules.checks import Predicate, compile_check, evaluate
from dbsynth.rules.enforce import EnforceReport
from dbsynth.schema.model import ForeignKey, Schema, Table, TypeKind

__all__ = ["PARENT", "apply_aggregates", "attach_parents", "user_predicates"]

PARENT = "__parent__"


def _fk_to(table: Table, parent: str, rule: str) -> ForeignKey:
    for fk in table.foreign_keys:
        if fk.referred == parent:
            return fk
    raise UsageError(f"rule {rule}: {table.key} has no foreign key to {parent!r}")


def user_predicates(schema: Schema, table: Table, config: Config
                    ) -> tuple[list[Predicate], dict[ForeignKey, list[str]]]:
    """Compiled rules of ``table`` and, per FK, the parent columns they need joined."""
    preds: list[Predicate] = []
    needs: dict[ForeignKey, list[str]] = {}
    own = [c.name for c in table.columns]
    for rule in config.for_table(table.key):
        assert rule.sql is not None
        try:
            tree = sqlglot.parse_one(rule.sql, read="postgres")
        except sqlglot.errors.ParseError as exc:
            raise UsageError(f"rule {rule.name} ({table.key}): not an SQL expression: {rule.sql!r}") from exc
        extra = []
        if rule.parent:
            fk = _fk_to(table, rule.parent, rule.name)
            parent_cols = {c.name for c in schema.table(rule.parent).columns}
            for col in tree.find_all(exp.Column):
                if col.table == rule.parent.split(".")[-1]:
                    if col.name not in parent_cols:
                        raise UsageError(f"rule {rule.name}: {rule.parent} has no column {col.name!r}")
                    needs.setdefault(fk, [])
                    if col.name not in needs[fk]:
                        needs[fk].append(col.name)
                    extra.append(PARENT + col.name)
                    col.set("this", exp.to_identifier(PARENT + col.name, quoted=True))
                    col.set("table", None)
        pred = compile_check(f"rule {rule.name}", tree.sql(dialect="postgres"), dialect="postgresql",
                             columns=own + extra)
        if pred.tree is None or not pred.supported:
            raise UsageError(f"rule {rule.name} ({table.key}): {rule.sql!r} names a column {table.key} "
                             "does not have, or uses SQL dbsynth cannot evaluate")
        preds.append(pred)
    return preds, needs


def attach_parents(frame: pd.DataFrame, needs: dict[ForeignKey, list[str]], parents: dict[str, pd.DataFrame]
                   ) -> pd.DataFrame:
    """``frame`` with the needed parent columns joined as ``__parent__<column>``, row order kept."""
    for fk, cols in needs.items():
        joined = join_parent(frame, parents[fk.referred], fk, cols)
        for c in cols:
            frame[PARENT + c] = joined[c].to_numpy()
    return frame


def apply_aggregates(schema: Schema, frames: dict[str, pd.DataFrame], config: Config,
                     reports: Mapping[str, EnforceReport]) -> None:
    """Recompute every aggregate rule's parent column from the generated child rows, in place; each
    parent row counts as checked and repaired (derived) in its table's report."""
    for rule in config.aggregates:
        start = time.perf_counter()
        assert rule.child and rule.aggregate and rule.column
        parent, child = schema.table(rule.table), schema.table(rule.child)
        fk = _fk_to(child, rule.table, rule.name)
        tree = sqlglot.parse_one(rule.aggregate, read="postgres")
        funcs: dict[type[exp.Expression], str] = {exp.Sum: "sum", exp.Count: "count", exp.Avg: "mean",
                                                  exp.Min: "min", exp.Max: "max"}
        kind = funcs.get(type(tree))  # type: ignore[arg-type]
        if kind is None:
            raise UsageError(f"rule {rule.name}: aggregate must be sum, count, avg, min or max of an expression")
        inner = tree.this
        for col in inner.find_all(exp.Column):
            col.set("table", None)
        rows = frames[rule.child]
        values = pd.Series(1, index=rows.index) if isinstance(inner, exp.Star) else \
            pd.to_numeric(pd.Series(evaluate(inner.sql(dialect="postgres"), rows)), errors="coerce")
        keys = rows.loc[:, list(fk.columns)].astype(object)
        grouped = pd.concat([keys.reset_index(drop=True), values.reset_index(drop=True).rename("__v")], axis=1) \
            .groupby(list(fk.columns), dropna=True)["__v"].agg(kind)
        target = frames[rule.table]
        index = pd.MultiIndex.from_frame(target.loc[:, list(fk.referred_columns)].astype(object)) \
            if len(fk.columns) > 1 else pd.Index(target[fk.referred_columns[0]].astype(object))
        result = grouped.reindex(index).to_numpy(dtype=float)
        if kind in ("sum", "count"):
            result = np.nan_to_num(result, nan=0.0)
        col = parent.column(rule.column)
        if col.type.kind is TypeKind.DECIMAL and col.type.scale is not None:
            result = np.round(result, col.type.scale)
        elif col.type.kind is TypeKind.INTEGER:
            result = np.round(result)
        target[rule.column] = pd.Series(result).astype(object).where(~np.isnan(result), None).to_numpy()
        report = reports[rule.table]
        label = f"rule {rule.name}"
        report.checked[label] = report.repaired[label] = len(target)
        report.seconds += time.perf_counter() - start
