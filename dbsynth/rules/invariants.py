"""The learned rules as typed data: what :mod:`dbsynth.rules.learned` finds in the source and the
model file stores (format 3; formats 1-2 stored row rules as SQL text, read back by
:func:`parse_rule`). Each says how ``dbsynth rules`` lists it (``describe``, the name
``disable_learned`` takes); the row rules also give the SQL they are checked as (``to_sql``)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

import sqlglot
from sqlglot import exp

from dbsynth.rules.checks import sql_literal
from dbsynth.schema.model import unquote_identifier

__all__ = ["Aggregate", "Dependency", "Described", "Equality", "LearnedRule", "NullWhen", "Order", "parse_rule",
           "quote", "rule_from_json"]


class Described(Protocol):
    def describe(self) -> str:
        """The rule as ``dbsynth rules`` lists it and ``disable_learned`` names it."""
        ...


@dataclass(frozen=True)
class Order:
    """``later >= earlier`` (``>`` when ``strict``) in every row where both are set."""

    later: str
    earlier: str
    strict: bool = False

    def to_sql(self) -> str:
        return f"{quote(self.later)} {'>' if self.strict else '>='} {quote(self.earlier)}"

    def describe(self) -> str:
        return self.to_sql()

    def to_json(self) -> dict[str, Any]:
        return {"order": [self.later, self.earlier], "strict": self.strict}


@dataclass(frozen=True)
class NullWhen:
    """``column`` is NULL (``null``) or set (not ``null``) in every row whose ``key`` is one of
    ``values``: a shipped order has a ship date."""

    key: str
    values: tuple[Any, ...]
    column: str
    null: bool

    def to_sql(self) -> str:
        listed = ", ".join(sql_literal(v) for v in self.values)
        return f"{quote(self.key)} NOT IN ({listed}) OR {quote(self.column)} IS {'NULL' if self.null else 'NOT NULL'}"

    def describe(self) -> str:
        return self.to_sql()

    def to_json(self) -> dict[str, Any]:
        return {"null_when": [self.key, self.column], "values": list(self.values), "null": self.null}


LearnedRule: TypeAlias = Order | NullWhen  # a row-level rule, checked like a CHECK constraint


@dataclass(frozen=True)
class Equality:
    """``column`` copies ``parent_column`` of its parent row in ``parent`` (through the FK ``fk``)."""

    column: str
    fk: str
    parent: str
    parent_column: str

    def describe(self) -> str:
        return f"{self.column} = {self.parent}.{self.parent_column} (through {self.fk})"


@dataclass(frozen=True)
class Dependency:
    """Each value of ``column`` goes with one value of ``derived``: ``pairs`` (value, derived value)."""

    column: str
    derived: str
    pairs: tuple[tuple[Any, Any], ...]

    def describe(self) -> str:
        return f"{self.column} determines {self.derived} (functional dependency)"


@dataclass(frozen=True)
class Aggregate:
    """``column`` equals the SQL aggregate ``expr`` over its rows of ``child`` (through ``fk``)."""

    column: str
    child: str
    fk: str
    expr: str

    def describe(self) -> str:
        return f"{self.column} = {self.expr} over {self.child} (through {self.fk})"


def rule_from_json(doc: Any) -> LearnedRule:
    """A rule as :meth:`Order.to_json`/:meth:`NullWhen.to_json` wrote it, or as SQL text (model
    files of format 1–2)."""
    if isinstance(doc, str):
        return parse_rule(doc)
    if "order" in doc:
        later, earlier = doc["order"]
        return Order(later, earlier, doc["strict"])
    key, column = doc["null_when"]
    return NullWhen(key, tuple(doc["values"]), column, doc["null"])


_ORDER = re.compile(r'^("(?:[^"]|"")+"|\w+) (>=?) ("(?:[^"]|"")+"|\w+)$')


def parse_rule(sql: str) -> LearnedRule:
    """The typed rule behind the SQL text :meth:`Order.to_sql` or :meth:`NullWhen.to_sql` wrote
    (model files of format 1–2 stored rules as text); ValueError for any other text."""
    m = _ORDER.match(sql)
    if m:
        return Order(unquote_identifier(m.group(1)), unquote_identifier(m.group(3)), m.group(2) == ">")
    try:
        tree = sqlglot.parse_one(sql, read="postgres")
    except sqlglot.errors.SqlglotError as exc:
        raise ValueError(f"not a learned rule: {sql}") from exc
    if isinstance(tree, exp.Or) and isinstance(tree.this, exp.Not) and isinstance(tree.this.this, exp.In):
        negated = isinstance(tree.expression, exp.Not)  # NOT (c IS NULL), or IS with negate set
        is_null = tree.expression.this if negated else tree.expression
        key, column = tree.this.this.this, is_null.this
        if isinstance(is_null, exp.Is) and isinstance(key, exp.Column) and isinstance(column, exp.Column):
            negated ^= bool(is_null.args.get("negate"))
            values = tuple(_literal(v) for v in tree.this.this.expressions)
            return NullWhen(key.name, values, column.name, not negated)
    raise ValueError(f"not a learned rule: {sql}")


def _literal(node: exp.Expression) -> Any:
    if isinstance(node, exp.Boolean):
        return node.this
    if isinstance(node, exp.Neg):
        return -_literal(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        return int(node.this) if re.fullmatch(r"\d+", node.this) else float(node.this)
    if isinstance(node, exp.Literal):
        return node.this
    raise ValueError(f"not a literal: {node.sql()}")


def quote(name: str) -> str:
    """``name`` as an SQL identifier: bare when it reads back as that column, else double-quoted
    (capitals, spaces, and keywords such as ``if`` or ``order``)."""
    return name if _bare(name) else '"' + name.replace('"', '""') + '"'


@functools.lru_cache(maxsize=1024)
def _bare(name: str) -> bool:
    if not (name.isidentifier() and name.islower() and name.isascii()):
        return False
    try:
        tree = sqlglot.parse_one(f"{name} >= 0", read="postgres")
    except sqlglot.errors.SqlglotError:
        return False
    return isinstance(tree, exp.GTE) and isinstance(tree.this, exp.Column) and tree.this.sql() == name
