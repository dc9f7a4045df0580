from __future__ import annotations

import re
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dbsynth.generators.providers import Providers
from dbsynth.generators.values import ValueSpec, make_values
from dbsynth.rules.domains import ColumnDomain
from dbsynth.schema.model import Column, ColumnType, TypeKind
from dbsynth.semantics import Semantic

PROVIDERS = Providers()


def spec(t: ColumnType, *, name: str = "v", unique: bool = False, semantic: Semantic | None = None,
         domain: ColumnDomain | None = None, nullable: bool = False) -> ValueSpec:
    return ValueSpec(Column(name, t, nullable=nullable), domain or ColumnDomain(), unique=unique,
                     semantic=semantic, null_rate=0.1 if nullable else 0.0)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(0, 6), st.integers(0, 2**32))
def test_decimals_fit_precision_and_scale(precision: int, scale: int, seed: int) -> None:
    scale = min(scale, precision)
    values = make_values(spec(ColumnType(TypeKind.DECIMAL, "numeric", precision=precision, scale=scale),
                              name="amount"), 200, np.random.default_rng(seed), PROVIDERS)
    for v in values:
        d = Decimal(repr(float(v)))
        assert abs(d) < Decimal(10) ** (precision - scale)
        assert -d.as_tuple().exponent <= max(scale, 0) or d == d.to_integral_value()


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.sampled_from([None, *Semantic]), st.booleans(), st.integers(0, 2**32))
def test_strings_fit_varchar_length_and_unique(length: int, semantic: Semantic | None, unique: bool,
                                               seed: int) -> None:
    n = 300
    t = ColumnType(TypeKind.STRING, "varchar", length=length)
    values = make_values(spec(t, unique=unique, semantic=semantic), n, np.random.default_rng(seed), PROVIDERS)
    assert len(values) == n
    assert values.str.len().max() <= length
    if unique and length >= 8:
        assert values.is_unique


def test_integer_domain_and_type_bounds() -> None:
    t = ColumnType(TypeKind.INTEGER, "smallint", bits=16)
    dom = ColumnDomain(low=0, low_strict=True, high=3, not_null=True)
    values = make_values(spec(t, domain=dom, nullable=True), 1000, np.random.default_rng(1), PROVIDERS)
    assert set(values) == {1, 2, 3}


def test_null_rate_respected_and_domain_not_null_wins() -> None:
    t = ColumnType(TypeKind.INTEGER, "integer", bits=32)
    values = make_values(spec(t, nullable=True), 5000, np.random.default_rng(2), PROVIDERS)
    assert 0.07 < values.isna().mean() < 0.13
    strict = make_values(spec(t, nullable=True, domain=ColumnDomain(not_null=True)), 500,
                         np.random.default_rng(2), PROVIDERS)
    assert strict.notna().all()


def test_same_rng_same_values_for_every_kind() -> None:
    kinds = [ColumnType(TypeKind.UUID, "uuid"), ColumnType(TypeKind.JSON, "jsonb"),
             ColumnType(TypeKind.DATETIME, "timestamptz", timezone=True), ColumnType(TypeKind.DATE, "date"),
             ColumnType(TypeKind.ENUM, "mood", labels=("sad", "ok")), ColumnType(TypeKind.BINARY, "bytea"),
             ColumnType(TypeKind.ARRAY, "text[]", item=ColumnType(TypeKind.STRING, "text")),
             ColumnType(TypeKind.STRING, "text")]
    for t in kinds:
        a = make_values(spec(t, semantic=Semantic.EMAIL), 50, np.random.default_rng(9), PROVIDERS)
        b = make_values(spec(t, semantic=Semantic.EMAIL), 50, np.random.default_rng(9), PROVIDERS)
        assert a.equals(b), t


def test_uuids_are_version_4() -> None:
    values = make_values(spec(ColumnType(TypeKind.UUID, "uuid")), 100, np.random.default_rng(3), PROVIDERS)
    assert values.str.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}").all()


@pytest.mark.parametrize("locale", ["ja_JP", "de_DE", "pt_BR"])
def test_every_locale_fills_every_kind_and_addresses_are_ascii(locale: str) -> None:
    """A locale without one of Faker's methods (ja_JP has no state) falls back to en_US for it, and a
    name with no Latin letter still makes an e-mail address and a user name of ASCII letters."""
    providers = Providers(locale, seed=2)
    pools = {s: providers.pool(s) for s in Semantic}
    assert all(len(p) == 1000 and all(isinstance(v, str) and v for v in p) for p in pools.values())
    assert all(re.fullmatch(r"[a-z0-9]+\.[a-z0-9]+@example\.(org|com|net)", e) for e in pools[Semantic.EMAIL])
    assert all(re.fullmatch(r"[a-z0-9]+", u) for u in pools[Semantic.USERNAME])
    full = pools[Semantic.FULL_NAME]
    assert len(set(full)) > 500  # names drawn, not one repeated
