"""Schema drift between the schema a model was fitted on and a live database's.

A CI refresh runs a saved model against a database that migrations keep changing. Each difference
is a :class:`Change` with a severity:

* ``warning`` — additive, and ``generate`` handles it: a new table, or a new column that is nullable,
  has a default or is generated, is filled schema-only; a new CHECK/UNIQUE is enforced; a dropped
  constraint, a widened type or a relaxed NOT NULL needs nothing;
* ``error`` — the model's rows would not fit: a table or column it generates is gone, a column's
  type changed or narrowed, a NOT NULL column without a default appeared (the model cannot know its
  values), a column became NOT NULL, or foreign keys changed (the learned relationships are stale).

Exit codes of ``dbsynth check``: 0 no drift, 3 only warnings (additive, followable), 4 any error
(breaking); 1 and 2 stay what they are for every command, a runtime and a usage error, so a CI
script can never read an error as a go-ahead.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from dbsynth.errors import DriftError
from dbsynth.generators.bayesnet import BayesNetGenerator
from dbsynth.model import Model, TableModel
from dbsynth.schema.model import Column, Schema, Table

__all__ = ["NEW_TABLE_ROWS", "Change", "Drift", "DriftError", "drift", "follow"]

NEW_TABLE_ROWS = 100  # rows (× scale) of a table the model does not know, unless --rows says otherwise


@dataclass(frozen=True)
class Change:
    kind: str  # table_added, table_removed, column_added, column_removed, type_changed, ...
    table: str
    column: str | None
    detail: str
    severity: str  # "warning" or "error"

    def describe(self) -> str:
        where = self.table if self.column is None else f"{self.table}.{self.column}"
        return f"{self.kind.replace('_', ' ')} {where}: {self.detail}"


@dataclass(frozen=True)
class Drift:
    changes: tuple[Change, ...]

    @property
    def errors(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.severity == "error")

    @property
    def warnings(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.severity == "warning")

    @property
    def exit_code(self) -> int:
        return 4 if self.errors else 3 if self.changes else 0

    def to_json(self) -> dict[str, Any]:
        status = {0: "unchanged", 3: "compatible", 4: "incompatible"}[self.exit_code]
        return {"status": status, "exit_code": self.exit_code, "changes": [asdict(c) for c in self.changes]}

    def raise_for_errors(self) -> None:
        if self.errors:
            raise DriftError("the target's schema differs from the model's in ways it cannot follow: "
                             + "; ".join(c.describe() for c in self.errors)
                             + "; refit the model on the migrated database, or migrate the target back")


def _type(c: Column) -> str:
    t = c.type
    args = [str(a) for a in (t.length, t.precision, t.scale) if a is not None]
    return t.name + (f"({', '.join(args)})" if args and "(" not in t.name else "")


def _fills_itself(c: Column) -> bool:
    return c.nullable or c.default is not None or c.identity is not None or c.autoincrement \
        or c.generated is not None


def _columns(key: str, old: Table, new: Table) -> list[Change]:
    out = []
    oc, nc = {c.name: c for c in old.columns}, {c.name: c for c in new.columns}
    for name in sorted(oc.keys() - nc.keys()):
        out.append(Change("column_removed", key, name, "the model generates it; the target has no such column",
                          "error"))
    for name in sorted(nc.keys() - oc.keys()):
        c = nc[name]
        if _fills_itself(c):
            out.append(Change("column_added", key, name, f"{_type(c)}, filled schema-only", "warning"))
        else:
            out.append(Change("column_added", key, name, f"{_type(c)} NOT NULL without a default: the model "
                              "cannot know its values", "error"))
    for name in sorted(oc.keys() & nc.keys()):
        a, b = oc[name].type, nc[name].type
        if a.kind != b.kind:
            out.append(Change("type_changed", key, name, f"{_type(oc[name])} -> {_type(nc[name])}", "error"))
        elif (a.length, a.precision, a.scale) != (b.length, b.precision, b.scale):
            wider = all(y is None or (x is not None and y >= x)
                        for x, y in ((a.length, b.length), (a.precision, b.precision))) and \
                (a.scale == b.scale or b.scale is None)
            out.append(Change("type_changed", key, name,
                              f"{_type(oc[name])} -> {_type(nc[name])}" + (" (wider)" if wider else ""),
                              "warning" if wider else "error"))
        if oc[name].nullable and not nc[name].nullable and not _fills_itself(nc[name]):
            out.append(Change("not_null_added", key, name, "the model generates NULLs here", "error"))
        elif not oc[name].nullable and nc[name].nullable:
            out.append(Change("not_null_dropped", key, name, "NOT NULL -> NULL", "warning"))
    return out


def _constraints(key: str, old: Table, new: Table) -> list[Change]:
    out = []
    ofk, nfk = {f.describe(key) for f in old.foreign_keys}, {f.describe(key) for f in new.foreign_keys}
    for d in sorted(ofk - nfk):
        out.append(Change("foreign_key_removed", key, None, d, "error"))
    for d in sorted(nfk - ofk):
        out.append(Change("foreign_key_added", key, None, d, "error"))
    ou, nu = set(old.unique_sets()), set(new.unique_sets())
    for cols in sorted(nu - ou):
        out.append(Change("unique_added", key, None, f"({', '.join(cols)}), enforced", "warning"))
    for cols in sorted(ou - nu):
        out.append(Change("unique_removed", key, None, f"({', '.join(cols)})", "warning"))
    oc, nc = {c.sqltext for c in old.checks}, {c.sqltext for c in new.checks}
    for sql in sorted(nc - oc):
        out.append(Change("check_added", key, None, f"CHECK ({sql}), enforced", "warning"))
    for sql in sorted(oc - nc):
        out.append(Change("check_removed", key, None, f"CHECK ({sql})", "warning"))
    return out


def drift(model: Schema, target: Schema) -> Drift:
    """Every difference between ``model`` (the fitted schema) and ``target``, classified."""
    old, new = {t.key: t for t in model.tables}, {t.key: t for t in target.tables}
    changes: list[Change] = []
    for key in sorted(old.keys() - new.keys()):
        changes.append(Change("table_removed", key, None, "the model generates it; the target has no such table",
                              "error"))
    for key in sorted(new.keys() - old.keys()):
        changes.append(Change("table_added", key, None, "unknown to the model, filled schema-only", "warning"))
    for key in sorted(old.keys() & new.keys()):
        changes += _columns(key, old[key], new[key]) + _constraints(key, old[key], new[key])
    return Drift(tuple(changes))


def follow(model: Model, target: Schema) -> tuple[Model, Drift]:
    """``model`` adapted to ``target``'s schema when the drift is additive: it generates with the
    target's tables and constraints, new columns and tables schema-only (a new table gets
    :data:`NEW_TABLE_ROWS` rows × scale). Raises :class:`DriftError` on any incompatible change."""
    found = drift(model.schema, target)
    found.raise_for_errors()
    if not found.changes:
        return model, found
    tables = dict(model.tables)
    for t in target.tables:
        if t.key not in tables:
            tables[t.key] = TableModel(key=t.key, rows=NEW_TABLE_ROWS, columns=(),
                                       generator=BayesNetGenerator(t, units={}), primary=None, context=(),
                                       counts=(), fk_null_rates={})
    return replace(model, schema=target, tables=tables), found
