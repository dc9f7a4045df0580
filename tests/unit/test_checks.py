from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dbsynth.rules.checks import compile_check
from dbsynth.rules.domains import ColumnDomain, column_domains, order_pairs

ints = st.lists(st.one_of(st.none(), st.integers(-1000, 1000)), min_size=1, max_size=40)


def violations(sql: str, frame: pd.DataFrame, dialect: str = "postgresql") -> list[bool]:
    p = compile_check("c", sql, dialect=dialect, columns=list(frame.columns))
    assert p.supported, sql
    return p.violations(frame).tolist()


@given(ints, ints, st.sampled_from(["<", "<=", ">", ">=", "=", "<>"]))
def test_comparison_matches_sql_three_valued_logic(a: list[int | None], b: list[int | None], op: str) -> None:
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    frame = pd.DataFrame({"a": pd.Series(a, dtype=object), "b": pd.Series(b, dtype=object)})
    py = {"<": lambda x, y: x < y, "<=": lambda x, y: x <= y, ">": lambda x, y: x > y,
          ">=": lambda x, y: x >= y, "=": lambda x, y: x == y, "<>": lambda x, y: x != y}[op]
    expected = [x is not None and y is not None and not py(x, y) for x, y in zip(a, b, strict=True)]
    assert violations(f"a {op} b", frame) == expected


@given(ints)
def test_in_between_and_null_forms(values: list[int | None]) -> None:
    frame = pd.DataFrame({"x": pd.Series(values, dtype=object)})
    assert violations("x IN (1, 2, 3)", frame) == [v is not None and v not in (1, 2, 3) for v in values]
    assert violations("x BETWEEN -5 AND 5", frame) == [v is not None and not -5 <= v <= 5 for v in values]
    assert violations("x IS NOT NULL", frame) == [v is None for v in values]
    assert violations("x IS NULL OR x > 0", frame) == [v is not None and v <= 0 for v in values]
    assert violations("NOT (x > 0 AND x < 10)", frame) == [v is not None and 0 < v < 10 for v in values]


def test_postgres_normalised_forms() -> None:
    frame = pd.DataFrame({"status": ["new", "old", None], "price": [1.5, 0.0, 2.0],
                          "code": ["12345", "1234", "12345-6789"]})
    assert violations("(status)::text = ANY ((ARRAY['new'::character varying])::text[])", frame) == \
        [False, True, False]
    assert violations("price > (0)::numeric", frame) == [False, True, False]
    assert violations("((code)::text ~ '^\\d{5}$'::text) OR ((code)::text ~ '^\\d{5}-\\d{4}$'::text)",
                      frame) == [False, True, False]
    assert violations("char_length(code) <= 5 AND lower(status) LIKE 'n%'", frame) == [False, True, True]


def test_dates_compare_with_string_literals() -> None:
    frame = pd.DataFrame({"d": pd.to_datetime(["2021-12-31", "2022-01-01"]).tz_localize("UTC")})
    assert violations("d >= '2022-01-01 00:00:00+00'", frame) == [True, False]


def test_unparseable_or_unknown_function_is_unsupported_not_guessed() -> None:
    p = compile_check("c", "json_valid(x)", dialect="mysql", columns=["x"])
    assert not p.supported
    q = compile_check("c", "nosuchcolumn > 1", dialect="postgresql", columns=["x"])
    assert not q.supported


@pytest.mark.parametrize(("sql", "col", "expected"), [
    ("x > 0", "x", ColumnDomain(low=0, low_strict=True, not_null=True)),
    ("x BETWEEN 1 AND 30", "x", ColumnDomain(low=1, high=30, not_null=True)),
    ("5 >= x", "x", ColumnDomain(high=5, not_null=True)),
    ("s IN ('a', 'b')", "s", ColumnDomain(choices=("a", "b"), not_null=True)),
    ("(x >= 1 AND x < 5) OR (x >= 10 AND x < 20)", "x", ColumnDomain(low=1, high=20)),
])
def test_domains_from_simple_forms(sql: str, col: str, expected: ColumnDomain) -> None:
    p = compile_check(None, sql, dialect="postgresql", columns=["x", "s"])
    assert column_domains([p])[col] == expected


def test_order_pairs() -> None:
    p = compile_check(None, "b > a AND c <= d", dialect="postgresql", columns=["a", "b", "c", "d"])
    assert [(o.low, o.high, o.strict) for o in order_pairs([p])] == [("a", "b", True), ("c", "d", False)]


def test_violations_on_numpy_ints() -> None:
    frame = pd.DataFrame({"x": np.array([0, 1, 2])})
    assert violations("x > 0", frame) == [True, False, False]


def test_case_extract_interval_and_similar_to() -> None:
    frame = pd.DataFrame({"kind": ["a", "b", "a"], "qty": [1, 0, 0],
                          "d": pd.to_datetime(["2001-01-01", "1999-05-01", "2020-01-01"]),
                          "d2": pd.to_datetime(["2001-01-20", "1999-07-01", "2020-01-02"]),
                          "name": ["abc", "Xyz", None]})
    assert violations("CASE WHEN kind = 'a' THEN qty > 0 ELSE qty >= 0 END", frame) == [False, False, True]
    assert violations("EXTRACT(YEAR FROM d) >= 2000", frame) == [False, True, False]
    assert violations("d2 <= d + interval '30 days'", frame) == [False, True, False]
    assert violations("d2 <= d + 30", frame) == [False, True, False]
    assert violations("name SIMILAR TO '[a-z]%'", frame) == [False, True, False]
    assert violations("name SIMILAR TO '(abc|xyz)'", frame) == [False, True, False]


def test_negated_disjunction_gives_a_domain_and_windows_are_found() -> None:
    from dbsynth.rules.domains import windows

    p = compile_check(None, "NOT (x < 1 OR x > 5)", dialect="postgresql", columns=["x"])
    assert column_domains([p])["x"] == ColumnDomain(low=1, high=5, not_null=True)
    w = compile_check(None, "b <= a + 30 AND b >= a", dialect="postgresql", columns=["a", "b"])
    (window,) = windows([w])
    assert (window.column, window.other, window.low, window.high) == ("b", "a", 0.0, 30.0)
