"""Learn a :class:`~dbsynth.model.Model` from a live database: profile every column, model each
table with a Bayesian network that also holds children-per-parent counts and the primary parent's
attributes (context), and keep only statistics — never a key, PII or free-text value."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from dbsynth.connect import create_engine
from dbsynth.errors import DbsynthError
from dbsynth.generators.bayesnet import BayesNetGenerator, mutual_information
from dbsynth.graph import Plan, plan
from dbsynth.model import ColumnModel, Model, TableModel
from dbsynth.relational import children_per_parent, fk_id
from dbsynth.schema import Schema, reflect
from dbsynth.schema.model import Column, ForeignKey, Table, TypeKind
from dbsynth.schema.read import read_table
from dbsynth.semantics import ColumnKind

__all__ = ["fit", "numeric_unit"]

log = logging.getLogger(__name__)
LEARNED = {ColumnKind.CATEGORICAL, ColumnKind.NUMERIC, ColumnKind.DATETIME, ColumnKind.BOOLEAN,
           ColumnKind.CONSTANT}
MAX_CONTEXT = 3
Progress = Callable[[str, int], None]


def numeric_unit(col: Column, kind: ColumnKind) -> str | None:
    """How a learned column is discretised: ``None`` for categories, else the decoding unit."""
    t = col.type
    if kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN, ColumnKind.CONSTANT):
        return None
    if t.kind is TypeKind.INTEGER:
        return "int"
    if t.kind is TypeKind.DECIMAL:
        return f"decimal:{t.scale if t.scale is not None else 2}"
    if t.kind is TypeKind.DATE:
        return "date"
    if t.kind is TypeKind.DATETIME:
        return "datetime_tz" if t.timezone else "datetime"
    return "float"


def _primary(schema: Schema, the_plan: Plan, table: Table, frames: dict[str, pd.DataFrame]) -> ForeignKey | None:
    """The FK whose referenced rows drive this table's row count: the one that covers the most
    distinct parent rows (rental → inventory, invoice_line → invoice, track → album)."""
    best: tuple[int, int, ForeignKey] | None = None
    for i, fk in enumerate(table.foreign_keys):
        if fk.referred == table.key or fk.referred not in schema or the_plan.is_deferred(table.key, fk):
            continue
        coverage = len(frames[table.key].loc[:, list(fk.columns)].dropna().drop_duplicates())
        if best is None or (coverage, -i) > (best[0], best[1]):
            best = (coverage, -i, fk)
    return None if best is None else best[2]


def _context_columns(parent: TableModel, child_codes: dict[str, np.ndarray], child_cards: dict[str, int],
                     joined: pd.DataFrame) -> list[str]:
    """Up to ``MAX_CONTEXT`` learned parent columns that tell most about the child's columns."""
    scored = []
    for cm in parent.columns:
        if cm.kind not in LEARNED or cm.kind is ColumnKind.CONSTANT:
            continue
        disc = parent.generator.discretizers[cm.name]
        codes = disc.encode(joined[cm.name])
        score = max((mutual_information(c, child_cards[n], [codes], [disc.cardinality])
                     for n, c in child_codes.items()), default=0.0)
        scored.append((score, cm.name))
    scored.sort(key=lambda s: -s[0])
    return [name for score, name in scored[:MAX_CONTEXT] if score > 1e-3]


def fit(url: str, *, schemas: Sequence[str] | None = None, epsilon: float = math.inf, k: int = 2,
        progress: Progress | None = None) -> Model:
    """Learn a model of the database at ``url`` (ε = ∞ only, until differential privacy lands)."""
    if not math.isinf(epsilon):
        raise DbsynthError("differential privacy is not available yet: fit with --epsilon inf "
                           "(finite budgets arrive with the privacy work)")
    engine = create_engine(url)
    try:
        schema = reflect(engine, schemas=schemas)
        the_plan = plan(schema)
        frames = {key: read_table(engine, schema.table(key)) for key in the_plan.order}
    finally:
        engine.dispose()
    tables: dict[str, TableModel] = {}
    children: dict[str, list[tuple[str, ForeignKey]]] = {k_: [] for k_ in the_plan.order}
    for key in the_plan.order:
        for fk in schema.table(key).foreign_keys:
            if fk.referred in schema and not the_plan.is_deferred(key, fk):
                children[fk.referred].append((key, fk))  # self-references too: their fan-out
    # parents first: a child's context needs its parent's discretisers
    for key in the_plan.order:
        table = schema.table(key)
        frame = frames[key].copy()
        cols = [ColumnModel.profile(table, c, frame[c.name]) for c in table.writable_columns
                if c.name in frame.columns]
        units: dict[str, str | None] = {cm.name: numeric_unit(table.column(cm.name), cm.kind)
                                        for cm in cols if cm.kind in LEARNED}
        counts = []
        for child_key, fk in children[key]:
            node = "#" + fk_id(child_key, fk)
            frame[node] = children_per_parent(frames[key], frames[child_key], fk)
            units[node] = "int"
            counts.append((node, fk_id(child_key, fk), float(frame[node].mean()) if len(frame) else 0.0))
        primary = _primary(schema, the_plan, table, frames)
        probe = BayesNetGenerator(table, units=units, k=k)
        codes = probe.discretize(frame)
        context: list[tuple[str, str]] = []
        context_frame = pd.DataFrame(index=frame.index)
        null_parent_rate = 0.0
        if primary is not None and len(frame):
            parent = tables[primary.referred]
            joined = _join_parent(frames[key], frames[primary.referred], primary)
            cards = {n: probe.discretizers[n].cardinality for n in codes}
            for pc in _context_columns(parent, codes, cards, joined):
                context.append(("^" + pc, pc))
                context_frame["^" + pc] = joined[pc].to_numpy()
            null_parent_rate = float(frame.loc[:, list(primary.columns)].isna().any(axis=1).sum()) / max(
                len(frames[primary.referred]), 1)
        gen = BayesNetGenerator(
            table, units=units, k=k, discretizers=probe.discretizers,
            context={node: tables[primary.referred].generator.discretizers[pc] for node, pc in context}
            if primary is not None else {})
        gen.fit(frame, context=context_frame, budget=epsilon)
        fk_nulls = {fk_id(key, fk): float(frame.loc[:, list(fk.columns)].isna().any(axis=1).mean())
                    if len(frame) else 0.0 for fk in table.foreign_keys}
        tables[key] = TableModel(
            key=key, rows=len(frame), columns=tuple(cols), generator=gen,
            primary=None if primary is None else fk_id(key, primary), context=tuple(context),
            counts=tuple(counts), fk_null_rates=fk_nulls, null_parent_rate=null_parent_rate)
        if progress:
            progress(key, len(frame))
    return Model(schema=schema, tables=tables, epsilon=epsilon, k=k)


def _join_parent(frame: pd.DataFrame, parent: pd.DataFrame, fk: ForeignKey) -> pd.DataFrame:
    """The parent row of every child row (NaN where the FK is NULL), aligned with ``frame``."""
    left = frame.loc[:, list(fk.columns)].copy()
    left.columns = list(fk.referred_columns)
    right = parent.copy()
    for c in fk.referred_columns:
        left[c] = left[c].astype(object)
        right[c] = right[c].astype(object)
    left["__row"] = np.arange(len(left))
    merged = left.merge(right, how="left", on=list(fk.referred_columns)).drop_duplicates("__row")
    return merged.sort_values("__row").reset_index(drop=True)
