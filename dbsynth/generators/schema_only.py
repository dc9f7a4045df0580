"""Schema-only generation: values from each column's type, name and CHECK-implied domain.

Needs no source rows, so it seeds a database that has only migrations. Columns it cannot generate
(an unknown type) are left to the database's default or written NULL; a NOT NULL one without a
default is an :class:`UnsupportedTypeError` naming the column.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from dbsynth.errors import UnsupportedTypeError
from dbsynth.generators.base import TableGenerator
from dbsynth.generators.providers import EXAMPLE_DOMAINS, Providers, ascii_lower
from dbsynth.generators.values import ValueSpec, make_values
from dbsynth.rules.checks import Predicate
from dbsynth.rules.domains import ColumnDomain, column_domains
from dbsynth.schema.model import Column, Table, TypeKind
from dbsynth.semantics import Semantic, semantic_of

__all__ = ["SchemaOnlyGenerator", "own_columns"]

log = logging.getLogger(__name__)
NULL_RATE = 0.1


def _generatable(col: Column) -> bool:
    t = col.type
    return t.kind is not TypeKind.UNKNOWN and (t.item is None or t.item.kind is not TypeKind.UNKNOWN)


def own_columns(table: Table) -> tuple[Column, ...]:
    """Writable columns that no foreign key fills; unknown-typed columns with a default or NULL are
    left out (the database fills them)."""
    fk_cols = {c for fk in table.foreign_keys for c in fk.columns}
    out = []
    for col in table.writable_columns:
        if col.name in fk_cols:
            continue
        if not _generatable(col):
            if col.default is not None or col.nullable or col.identity or col.autoincrement:
                log.warning("%s.%s: type %s is not generated; the database fills it",
                            table.key, col.name, col.type.name)
                continue
            raise UnsupportedTypeError(
                f"{table.key}.{col.name}: cannot generate values of type {col.type.name!r} and the "
                "column is NOT NULL without a default; give it a default or make it nullable")
        out.append(col)
    return tuple(out)


def _ascii(names: pd.Series) -> pd.Series:
    """Each name as lower-case ASCII, computed once per distinct name (names come from a pool)."""
    codes, uniques = pd.factorize(names.astype(object).fillna(""))
    plain = np.array([ascii_lower(str(u)) for u in uniques], dtype=object)
    return pd.Series(plain[codes] if len(plain) else np.array([""] * len(codes), dtype=object), dtype=object)


class SchemaOnlyGenerator(TableGenerator):
    """Type- and name-driven values; ``predicates`` are the table's compiled CHECKs."""

    kind = "schema_only"

    def __init__(self, table: Table, *, predicates: Sequence[Predicate] = (),
                 providers: Providers | None = None, null_rates: Mapping[str, float] | None = None,
                 plain: frozenset[str] = frozenset()) -> None:
        """``plain`` columns get no semantic provider: under differential privacy a categorical column
        whose every value was too rare to release must not be refilled with a vocabulary (country
        names) that could hand back one of those rare values by chance."""
        super().__init__(table)
        self.providers = providers or Providers()
        domains = column_domains(predicates)
        unique = {cols[0] for cols in table.unique_sets() if len(cols) == 1}
        # a nullable composite is NULL as a whole, not one field at a time (unless NULL rates were learned)
        self._whole_null = [comp.columns for comp in table.composites
                            if comp.nullable and not set(comp.columns) & set(null_rates or {})]
        fields = {c for cols in self._whole_null for c in cols}
        self._specs = {
            c.name: ValueSpec(
                column=c,
                domain=domains.get(c.name, ColumnDomain()),
                unique=c.name in unique,
                semantic=None if c.name in plain else semantic_of(table, c),
                null_rate=(null_rates or {}).get(c.name, NULL_RATE) if c.nullable and c.name not in fields else 0.0,
                owner=f"{table.key}.{c.name}",
            )
            for c in own_columns(table)
        }

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._specs)

    def _contacts(self, data: dict[str, pd.Series], columns: Sequence[str], rng: np.random.Generator) -> None:
        """E-mails and usernames made from the row's own name (``maria.schmidt@example.org``), when
        the table has first and last names or a full name beside them; a value that would not fit
        the column, and NULLs, are left as drawn."""
        kinds = {self._specs[c].semantic: c for c in columns}
        if Semantic.FIRST_NAME in kinds and Semantic.LAST_NAME in kinds:
            first, last = data[kinds[Semantic.FIRST_NAME]], data[kinds[Semantic.LAST_NAME]]
        elif Semantic.FULL_NAME in kinds:
            parts = data[kinds[Semantic.FULL_NAME]].astype(object).str.split(" ", n=1)
            first, last = parts.str[0], parts.str[1]
        else:
            return
        given, family = _ascii(first), _ascii(last)
        n = len(given)
        domains = np.array(EXAMPLE_DOMAINS, dtype=object)
        locals_ = {Semantic.EMAIL: given + "." + family,
                   Semantic.USERNAME: given + family.str[:1] + pd.Series(rng.integers(1, 1000, n).astype(str))}
        for semantic, local in locals_.items():
            col = kinds.get(semantic)
            if col is None:
                continue
            spec = self._specs[col]
            if spec.unique:  # the second maria.schmidt is maria.schmidt2
                again = local.groupby(local).cumcount().to_numpy()
                local = local + pd.Series(np.where(again > 0, (again + 1).astype(str), ""), dtype=object)
            values = local + "@" + pd.Series(domains[rng.integers(0, 3, n)]) if semantic is Semantic.EMAIL else local
            limit = spec.column.type.length
            keep = (data[col].notna() & (given != "") & (family != "")).to_numpy(copy=True)
            if limit is not None:
                keep &= (values.str.len() <= limit).to_numpy()
            data[col] = data[col].astype(object).where(~keep, values)

    @property
    def formatted(self) -> frozenset[str]:
        """Columns whose CHECKs or rules give a format (a regex, LIKE or SIMILAR TO pattern)."""
        return frozenset(c for c, spec in self._specs.items() if spec.domain.pattern is not None)

    def _sample(self, n: int, *, rng: np.random.Generator, columns: Sequence[str],
                parent_context: pd.DataFrame | None) -> pd.DataFrame:
        streams = rng.spawn(len(columns))
        data = {c: make_values(self._specs[c], n, r, self.providers).reset_index(drop=True)
                for c, r in zip(columns, streams, strict=True)}
        self._contacts(data, columns, rng)
        for cols in self._whole_null:
            if set(cols) <= set(columns):
                null = rng.spawn(1)[0].random(n) < NULL_RATE
                for c in cols:
                    data[c] = data[c].astype(object).where(~null, None)
        return pd.DataFrame(data, index=pd.RangeIndex(n))
