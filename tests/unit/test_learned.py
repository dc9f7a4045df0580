"""Date orderings learned as gaps: which rules become gaps, and gaps added back to dates."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from dbsynth.rules.invariants import NullWhen, Order, parse_rule
from dbsynth.rules.learned import add_gap, gap_seconds, learned_gaps


def test_learned_gaps_one_per_column_and_no_chains() -> None:
    rules = ["return_date >= rental_date", '"Ship Date" > "Order Date"', "b >= a", "c >= b", "d >= a",
             "x >= unknown"]
    cols = {"return_date", "rental_date", "Ship Date", "Order Date", "a", "b", "c", "d", "x"}
    assert learned_gaps([parse_rule(r) for r in rules], cols) == [
        ("return_date", "rental_date"), ("Ship Date", "Order Date"), ("b", "a"), ("d", "a")]


def test_gap_round_trip_keeps_nulls_and_whole_days() -> None:
    earlier = pd.Series(pd.to_datetime(["2024-01-01 10:00", "2024-03-05 23:30", None]))
    later = pd.Series(pd.to_datetime(["2024-01-03 09:00", "2024-03-05 23:45", "2024-04-01 00:00"]))
    gap = gap_seconds(later, earlier)
    assert gap.iloc[:2].tolist() == [47 * 3600.0, 15 * 60.0] and np.isnan(gap.iloc[2])
    back = add_gap(earlier, gap)
    assert back.iloc[:2].tolist() == later.iloc[:2].tolist() and pd.isna(back.iloc[2])
    days = add_gap(earlier, pd.Series([3600.0 * 30, -5.0, 1.0]), whole_days=True)
    assert days.iloc[:2].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-03-05")]  # negative → 0


def test_null_rules_find_conditional_nullness() -> None:
    from dbsynth.rules.learned import null_rules

    n = 60
    status = pd.Series(["new", "shipped", "cancelled"] * (n // 3))
    shipped_at = pd.Series([None, "2024-01-02", None] * (n // 3))
    note = pd.Series(["x", None, "y", None] * (n // 4))  # NULL in every other row: no pattern by status
    frame = pd.DataFrame({"status": status, "shipped_at": shipped_at, "note": note})
    assert [r.to_sql() for r in null_rules(frame, ["status"], ["shipped_at", "note"])] == [
        "status NOT IN ('shipped') OR shipped_at IS NOT NULL",
        "status NOT IN ('cancelled', 'new') OR shipped_at IS NULL"]
    assert null_rules(frame, ["status"], ["shipped_at"], min_rows=21) == []  # 20 rows per status


def test_functional_dependencies_need_support_and_skip_the_reverse() -> None:
    from dbsynth.rules.learned import functional_dependencies

    state = pd.Series(["CA", "NY", "ON", "QC", None] * 8)
    country = pd.Series(["USA", "USA", "Canada", "Canada", "Mexico"] * 8)
    code = pd.Series(["us", "us", "ca", "ca", "mx"] * 8)  # derived from state too, never from country
    frame = pd.DataFrame({"state": state, "country": country, "code": code})
    deps = functional_dependencies(frame, ["state", "country", "code"])
    assert [(a, b) for a, b, _ in deps] == [("state", "country"), ("state", "code")]
    assert deps[0][2] == {"CA": "USA", "NY": "USA", "ON": "Canada", "QC": "Canada"}
    pair = functional_dependencies(frame, ["country", "code"])  # each determines the other: kept once
    assert [(a, b) for a, b, _ in pair] == [("country", "code")]
    assert functional_dependencies(frame.head(10), ["state", "country"]) == []  # too few rows


names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
values = st.one_of(st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=8),
                   st.floats(allow_nan=False, allow_infinity=False, width=32))


@given(names, names, st.booleans(), st.lists(values, min_size=1, max_size=5), st.booleans())
def test_rule_text_of_old_model_files_reads_back_as_the_typed_rule(a: str, b: str, strict: bool,
                                                                   listed: list[object], null: bool) -> None:
    """Model files of format 1-2 stored rules as the SQL to_sql writes; read back they are the same
    typed rule, whatever the column names (quotes, spaces, capitals) and the literal values."""
    order = Order(a, b, strict)
    assert parse_rule(order.to_sql()) == order
    rule = NullWhen(a, tuple(listed), b, null)
    back = parse_rule(rule.to_sql())
    assert isinstance(back, NullWhen) and back.to_sql() == rule.to_sql()
    assert [type(v) for v in back.values] == [type(v) for v in rule.values]
