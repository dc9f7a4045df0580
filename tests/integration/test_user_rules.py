"""User rules from dbsynth.toml: each kind enforced on a real PostgreSQL target, bad files rejected
with their line and key, and an unsatisfiable rule stopping before anything is written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from dbsynth.config import load_config
from dbsynth.errors import DbsynthError, UsageError
from dbsynth.pipeline import seed
from tests.conftest import ROOT, read_frames, table_rows

EXAMPLE = ROOT / "examples" / "rules"


def test_example_rules_hold_in_the_output(pg_database: Callable[..., str]) -> None:
    url = pg_database(EXAMPLE / "schema.sql")
    config = load_config(EXAMPLE / "dbsynth.toml")
    assert len(config.rules) == 8
    seed(url, default_rows=300, seed=1, config=config)
    f = read_frames(url)
    orders, lines, customers = f["orders"], f["order_line"], f["customer"]
    for frame, cols in ((orders, ("ordered_at", "shipped_at")), (customers, ("signed_up",))):
        for c in cols:
            frame[c] = pd.to_datetime(frame[c])
    assert set(orders["status"]) <= {"new", "paid", "shipped"}
    assert orders["reference"].str.fullmatch(r"ORD-[0-9]{6}").all()
    shipped = orders["shipped_at"].notna()
    assert (orders.loc[shipped, "shipped_at"] >= orders.loc[shipped, "ordered_at"]).all()
    assert ((orders.loc[shipped, "shipped_at"] - orders.loc[shipped, "ordered_at"]).dt.days <= 30).all()
    assert orders.loc[orders["status"] == "shipped", "shipped_at"].notna().all()
    joined = orders.merge(customers, on="customer_id")
    assert (joined["ordered_at"] >= joined["signed_up"]).all()
    assert lines["quantity"].between(1, 10).all() and lines["unit_price"].astype(float).between(1, 200).all()
    sums = (lines["unit_price"].astype(float) * lines["quantity"]).groupby(lines["order_id"]).sum()
    totals = orders.set_index("order_id")["total"].astype(float)
    assert (totals.reindex(sums.index) - sums).abs().max() < 0.01
    assert (totals.drop(sums.index) == 0).all()


def test_rules_from_pyproject_are_found(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[[tool.dbsynth.rules]]\ntable = "t"\ncolumn = "c"\nfixed = 3\n')
    config = load_config(cwd=tmp_path)
    assert config.rules[0].sql == "c = 3" and config.source == tmp_path / "pyproject.toml"
    assert load_config(cwd=tmp_path / "nowhere").rules == ()


@pytest.mark.parametrize(("text", "needle"), [
    ('[[rules]]\ntable = "orders"\ncolumn = "status"\n', "rules[0] (line 1)"),
    ('[[rules]]\ntable = "orders"\ncheck = "x > 1"\n\n[[rules]]\ncheck = "y > 1"\n', "rules[1] (line 5)"),
    ('[[rules]]\ntable = "orders"\ncheck = "x > 1"\ncolour = "red"\n', "'colour' was unexpected"),
    ('rules = [ [', "not valid TOML"),
])
def test_bad_config_names_rule_line_and_key(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "dbsynth.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=None) as info:
        load_config(path)
    assert needle in str(info.value) and str(path) in str(info.value)


def test_unsatisfiable_rule_is_an_error_and_target_untouched(pg_database: Callable[..., str],
                                                             tmp_path: Path) -> None:
    url = pg_database(EXAMPLE / "schema.sql")
    bad = tmp_path / "dbsynth.toml"
    bad.write_text('[[rules]]\ntable = "order_line"\ncheck = "quantity > 5 AND quantity < 3"\n')
    with pytest.raises(DbsynthError, match=r"order_line\.quantity"):
        seed(url, default_rows=50, seed=1, config=load_config(bad))
    assert all(rows == [] for rows in table_rows(url).values())
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('[[rules]]\ntable = "orders"\ncheck = "nosuch > 1"\n')
    with pytest.raises(UsageError, match="names a column orders does not have"):
        seed(url, default_rows=50, seed=1, config=load_config(unknown))


def test_learned_rules_can_be_disabled(source_databases: dict[str, str], tmp_path: Path) -> None:
    """`disable_learned` names a learned rule as `dbsynth rules` lists it: that rule is no longer
    enforced; a name the model does not have, or an ordering learned as a gap, is a usage error."""
    import math

    import dbsynth

    model = dbsynth.fit(source_databases["chinook"], epsilon=math.inf)
    copy = "invoice_line: unit_price = track.unit_price (through invoice_line(track_id))"
    toml = tmp_path / "dbsynth.toml"
    order = "track: bytes > milliseconds"
    toml.write_text(f'disable_learned = ["{copy}", "{order}"]\n')
    assert {f"invoice_line: {r}" for r in model.tables["invoice_line"].describe_rules()} >= {copy}
    kept = model.without_rules(load_config(toml).disable_learned)
    assert kept.tables["invoice_line"].describe_rules() == [] and kept.tables["track"].describe_rules() == []
    checked = dbsynth.synthesize(model, seed=3, config=load_config(toml)).reports["track"].checked
    assert not any("bytes > milliseconds" in label for label in checked)
    assert any("bytes > milliseconds" in label for label in dbsynth.synthesize(model, seed=3).reports["track"].checked)
    for wrong, message in (('["invoice_line: unit_price = 1"]', "names no learned rule"),
                           ('["invoice"]', None)):
        toml.write_text(f"disable_learned = {wrong}\n")
        if message is None:  # a table name disables all its rules
            checked = dbsynth.synthesize(model, seed=3, config=load_config(toml)).reports["invoice"].checked
            assert model.tables["invoice"].rules and not any("learned" in label for label in checked)
        else:
            with pytest.raises(UsageError, match=message):
                dbsynth.synthesize(model, seed=3, config=load_config(toml))
    pagila = dbsynth.fit(source_databases["pagila"], epsilon=math.inf)
    gap = next(f"rental: {r}" for r in pagila.tables["rental"].describe_rules() if "gap" in r)
    toml.write_text(f'disable_learned = ["{gap}"]\n')
    with pytest.raises(UsageError, match="part of it; refit"):
        dbsynth.synthesize(pagila, seed=3, config=load_config(toml))


def test_rule_the_learned_values_never_meet_falls_back_to_the_schema(sqlite_database: Callable[..., str],
                                                                   tmp_path: Path) -> None:
    """Prices learned at 1–5 and a rule asking for 100–200: after its network has been tried, a
    learned column's failing rows take the schema's values, which follow the rule (under noise every
    released bin can break a CHECK: Pagila's film.release_year ≥ 1901 with a noise-born bin at 0)."""
    import math

    import dbsynth

    ddl = tmp_path / "item.sql"
    ddl.write_text("CREATE TABLE item (id INTEGER PRIMARY KEY, price INTEGER NOT NULL);\n"
                   + "".join(f"INSERT INTO item VALUES ({i}, {1 + i % 5});\n" for i in range(1, 201)))
    model = dbsynth.fit(sqlite_database(ddl), epsilon=math.inf)
    assert model.tables["item"].generator.released("price")
    config_path = tmp_path / "dbsynth.toml"
    config_path.write_text('[[rules]]\ntable = "item"\ncheck = "price >= 100 AND price <= 200"\n')
    frames = dbsynth.synthesize(model, seed=1, config=load_config(config_path)).frames
    assert len(frames["item"]) == 200 and frames["item"]["price"].between(100, 200).all()
