"""Check a loaded model before anything uses it: a model file is input, and input can be damaged.

A file whose zip and JSON are valid can still hold a network whose probability table has the wrong
shape, a NaN, a negative row count or a column the schema does not have. Each would surface much
later, deep inside generation, as a traceback. :func:`check_model` walks every part that generation
reads and raises :class:`ModelFileError` naming the table and the part.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import astuple
from typing import Any

import numpy as np
import pandas as pd

from dbsynth.errors import ModelFileError
from dbsynth.generators.discretize import Discretizer
from dbsynth.meetings import fk_index
from dbsynth.model import Model, TableModel
from dbsynth.relational import fk_id
from dbsynth.rules.invariants import NullWhen, Order
from dbsynth.schema.model import Schema

__all__ = ["check_model"]


def check_model(model: Model, where: str) -> None:
    """Raise :class:`ModelFileError` (prefixed ``where``) at the first part generation could not use;
    a field of the wrong kind can also raise numpy's TypeError or ValueError, which the loader reports."""
    try:
        _check(model)
    except _Bad as exc:
        raise ModelFileError(f"{where} is not a valid dbsynth model file: {exc}") from None


class _Bad(Exception):
    pass


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise _Bad(what)


def _fraction(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and 0.0 <= v <= 1.0


def _strings(items: Iterable[Any], size: int | None = None) -> bool:
    return all(isinstance(i, tuple | list) and (size is None or len(i) == size)
               and all(isinstance(x, str) for x in i) for i in items)


def _check(model: Model) -> None:
    _require(isinstance(model.epsilon, float | int) and model.epsilon > 0, f"epsilon {model.epsilon!r}")
    _require(isinstance(model.k, int) and model.k >= 0, f"k {model.k!r}")
    _require(isinstance(model.cap, int) and model.cap >= 1, f"cap {model.cap!r}")
    _require(all(isinstance(p, str) and p in model.schema for p in model.public), "public names unknown tables")
    _require(model.unit is None or (isinstance(model.unit, str) and model.unit in model.schema),
             f"privacy unit {model.unit!r}")
    _require(model.unit_proposed is None or isinstance(model.unit_proposed, str), "privacy unit proposal")
    acc = model.privacy
    if acc is not None:
        _require(all(isinstance(getattr(e, f), int | float) and not isinstance(getattr(e, f), bool)
                     for e in acc.entries for f in ("rho", "delta", "sensitivity", "scale")), "privacy ledger")
        _require(all(isinstance(e.table, str) and isinstance(e.component, str) and isinstance(e.mechanism, str)
                     for e in acc.entries), "privacy ledger")
    missing = sorted({t.key for t in model.schema.tables} - set(model.tables))
    _require(not missing, f"no model for table(s) {', '.join(missing)} of its schema")
    for key, tm in model.tables.items():
        _require(key in model.schema, f"table {key!r} is not in the model's schema")
        _table(tm)
        _context(model.schema, tm)
        _meetings(model.schema, tm)


def _context(schema: Schema, tm: TableModel) -> None:
    """Context nodes are the network's inputs from the primary parent row: one per listed parent
    column, each a column of that parent."""
    key = tm.key
    _require({node for node, _ in tm.context} == set(tm.generator.context), f"{key}: context nodes")
    if not tm.context:
        return
    fks = {fk_id(key, fk): fk for fk in schema.table(key).foreign_keys}
    primary = fks.get(tm.primary or "")
    _require(primary is not None and primary.referred in schema, f"{key}: context without a primary FK")
    parent = {c.name for c in schema.table(primary.referred).columns}  # type: ignore[union-attr]
    _require(all(col in parent for _, col in tm.context), f"{key}: context columns")


def _meetings(schema: Schema, tm: TableModel) -> None:
    """A meeting's paths are FKs of the schema, the first of each one of this table's."""
    index = fk_index(schema)
    for m in tm.meetings:
        _require(_strings([m.fixed, m.anchor]) and bool(m.fixed) and bool(m.anchor) and _fraction(m.agreement)
                 and all(f in index for f in (*m.fixed, *m.anchor))
                 and index[m.fixed[0]][0] == tm.key == index[m.anchor[0]][0], f"{tm.key}: FK path meetings")


def _table(tm: TableModel) -> None:
    key = tm.key
    names = {c.name for c in tm.generator.table.columns}
    _require(isinstance(tm.rows, int) and not isinstance(tm.rows, bool) and tm.rows >= 0, f"{key}: rows {tm.rows!r}")
    for c in tm.columns:
        _require(isinstance(c.name, str) and c.name in names, f"{key}: column {c.name!r} is not in the schema")
        _require(_fraction(c.null_rate), f"{key}.{c.name}: NULL rate {c.null_rate!r}")
        _require(all(isinstance(n, int) and n >= 0 for n in c.lengths), f"{key}.{c.name}: lengths")
        _require(c.shape is None or isinstance(c.shape, str), f"{key}.{c.name}: shape")
    _require(tm.primary is None or isinstance(tm.primary, str), f"{key}: primary FK")
    _require(isinstance(tm.fk_null_rates, dict) and all(_fraction(v) for v in tm.fk_null_rates.values()),
             f"{key}: FK NULL rates")
    _require(_fraction(tm.null_parent_rate), f"{key}: NULL-parent share {tm.null_parent_rate!r}")
    _require(_strings(tm.context, 2) and _strings(tm.gaps, 2)
             and _strings([astuple(r) for r in tm.equalities]) and _strings([astuple(r) for r in tm.aggregates]),
             f"{key}: context, gaps, equalities or aggregates")
    _require(all(isinstance(r, str) for r in tm.rule_notes) and all(
        (isinstance(r, Order) and _strings([(r.later, r.earlier)]) and isinstance(r.strict, bool))
        or (isinstance(r, NullWhen) and _strings([(r.key, r.column)]) and isinstance(r.null, bool))
        for r in tm.rules), f"{key}: rules")
    _require(all(isinstance(a, str) and isinstance(b, str) and isinstance(m, float) and math.isfinite(m) and m >= 0
                 for a, b, m in tm.counts), f"{key}: children counts")
    _require(all(_strings([(d.column, d.derived)]) and all(isinstance(p, tuple) and len(p) == 2 for p in d.pairs)
                 for d in tm.dependencies), f"{key}: dependencies")
    _generator(tm)


def _generator(tm: TableModel) -> None:
    key, gen = tm.key, tm.generator
    _require(isinstance(gen.units, dict) and all(v is None or _UNIT.fullmatch(v) for v in gen.units.values()),
             f"{key}: units")
    _require(set(gen.units) == set(gen.discretizers), f"{key}: the units and discretizers name different columns")
    nodes = {node.name for node in gen.net.nodes}
    _require(set(gen.units) | set(gen.context) == nodes, f"{key}: the network's nodes are not its columns")
    _require(all(node in gen.units for node, _, _ in tm.counts), f"{key}: a children count is not a network node")
    for name, d in gen.context.items():
        _discretizer(f"{key}.{name}", d, d.unit if d.kind == "bins" else None)
    for name, d in gen.discretizers.items():
        _discretizer(f"{key}.{name}", d, gen.units[name])
    discretizers = {**gen.context, **gen.discretizers}
    cards: dict[str, int] = {}
    for node in gen.net.nodes:
        where = f"{key}: network node {node.name!r}"
        _require(isinstance(node.name, str) and isinstance(node.cardinality, int) and node.cardinality >= 1, where)
        _require(all(p in cards for p in node.parents), f"{where}: a parent is not an earlier node")
        if node.name in discretizers:
            _require(node.cardinality == discretizers[node.name].cardinality, f"{where}: states")
        cards[node.name] = node.cardinality
        if node.cpt is None:
            continue
        shape = (math.prod(cards[p] for p in node.parents), node.cardinality)
        cpt = node.cpt
        _require(isinstance(cpt, np.ndarray) and cpt.dtype.kind == "f" and cpt.shape == shape,
                 f"{where}: probability table of shape {getattr(cpt, 'shape', None)}, expected {shape}")
        _require(bool(np.isfinite(cpt).all() and (cpt >= 0).all())
                 and bool(np.allclose(cpt.sum(axis=1), 1.0, atol=1e-6)), f"{where}: probabilities")


_UNIT = re.compile(r"int|float|date|datetime|datetime_tz|decimal:\d{1,2}|count:\d{1,9}")


def _discretizer(where: str, d: Discretizer, unit: str | None) -> None:
    """``unit`` is how the generator decodes the column (``None``: categories): bins decode with it,
    and the values of a numeric column are numbers (dates for a date column)."""
    _require(d.kind in ("values", "bins") and isinstance(d.has_null, bool) and isinstance(d.unit, str)
             and _UNIT.fullmatch(d.unit) is not None, f"{where}: discretizer")
    _require(d.kind == "values" or unit is not None, f"{where}: bins of a non-numeric column")
    if d.kind == "values" and unit is not None:
        dated = unit.startswith("date")
        _require(all(v is None or (isinstance(v, pd.Timestamp | dt.date) if dated else
                                   isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v))
                     for v in d.values), f"{where}: values of the wrong kind")
    if d.kind == "bins":
        edges = np.asarray(d.edges)
        _require(len(edges) >= 2 and edges.dtype.kind in "if" and bool(np.isfinite(edges).all())
                 and bool((np.diff(edges) >= 0).all()), f"{where}: bin edges")
    _require(d.cardinality >= 1, f"{where}: no state")
    _require(all(len(s) == 2 and all(math.isfinite(x) for x in s) for s in d.spans), f"{where}: spans")
