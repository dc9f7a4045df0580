"""Scenarios (--where, --boost) on the bundled Chinook, checked from the generated rows: the
condition holds in every row, the related rows stay consistent (an invoice's lines add up to its
total, a line's price is its track's), a boosted share lands where asked; through the library, the
CLI and the pytest fixture; and a condition no row can meet stops the run with a message."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import dbsynth
from dbsynth.cli import app
from dbsynth.errors import UsageError
from dbsynth.model import Model

CHINOOK = Path(dbsynth.__file__).parent / "examples" / "chinook.sqlite"

pytest_plugins = ["pytester"]


@pytest.fixture(scope="module")
def chinook() -> Model:
    return dbsynth.fit(f"sqlite:///{CHINOOK}", epsilon=math.inf)


def _check_invoices(invoices: pd.DataFrame, lines: pd.DataFrame, tracks: pd.DataFrame) -> None:
    """Every invoice over 20, its lines adding up to its total, each line priced as its track."""
    total = invoices.set_index("InvoiceId")["Total"].astype(float)
    assert len(total) >= 40 and (total > 20).all(), total.describe()
    spent = (lines["UnitPrice"].astype(float) * lines["Quantity"].astype(float)).groupby(lines["InvoiceId"]).sum()
    assert (spent.reindex(total.index).fillna(0) - total).abs().max() < 0.005
    assert lines["InvoiceId"].isin(total.index).all()
    price = lines["TrackId"].map(tracks.set_index("TrackId")["UnitPrice"].astype(float))
    assert (price == lines["UnitPrice"].astype(float)).all()


def test_where_on_an_aggregate_keeps_the_lines_adding_up(chinook: Model) -> None:
    """Chinook has 4 invoices over 20 among 412 (14 lines, 7 of them videos at 1.99): the invoice's
    network draws totals over 20 and the line counts that go with them, the lines move to dearer
    tracks until the sum is over 20, and the rest is dropped with its lines."""
    frames = dbsynth.sample(chinook, seed=1, where=["invoice.total > 20"])
    _check_invoices(frames["Invoice"], frames["InvoiceLine"], frames["Track"])
    plain = dbsynth.sample(chinook, seed=1)
    assert len(frames["Customer"]) == len(plain["Customer"])  # other tables as they were


@pytest.mark.parametrize(("boost", "table", "column", "value"), [
    ("track.unitprice=1.99:0.25", "Track", "UnitPrice", 1.99),
    ("customer.country=Germany:0.3", "Customer", "Country", "Germany"),
])
def test_boost_sets_the_share_and_related_rows_follow(chinook: Model, boost: str, table: str, column: str,
                                                      value: object) -> None:
    share = float(boost.rsplit(":", 1)[1])
    plain = dbsynth.sample(chinook, seed=2)
    frames = dbsynth.sample(chinook, seed=2, boost=[boost])
    values = frames[table][column]
    hit = (values.astype(float) == value) if isinstance(value, float) else (values == value)
    before = (plain[table][column].astype(float) == value) if isinstance(value, float) \
        else (plain[table][column] == value)
    assert abs(hit.mean() - share) <= 0.03 and abs(before.mean() - share) > 0.1, (hit.mean(), before.mean())
    if table == "Customer":  # an invoice bills its customer's country (a learned equality)
        country = frames["Invoice"]["CustomerId"].map(frames["Customer"].set_index("CustomerId")["Country"])
        assert (country == frames["Invoice"]["BillingCountry"]).all()
        assert (frames["Invoice"]["BillingCountry"] == "Germany").mean() > 0.2


def test_cli_where_and_boost_into_files(chinook: Model, tmp_path: Path) -> None:
    model = dbsynth.save(chinook, str(tmp_path / "chinook.dbsynth"))
    result = CliRunner().invoke(app, ["generate", str(model), "--to-dir", str(tmp_path / "out"), "--seed", "3",
                                      "--where", "invoice.total > 20", "--boost", "track.unitprice=1.99:0.25"])
    assert result.exit_code == 0, result.output
    read = {t: pd.read_csv(tmp_path / "out" / f"{t}.csv") for t in ("Invoice", "InvoiceLine", "Track")}
    _check_invoices(read["Invoice"], read["InvoiceLine"], read["Track"])
    assert abs((read["Track"]["UnitPrice"] == 1.99).mean() - 0.25) <= 0.03


@pytest.mark.parametrize(("where", "boost", "message"), [
    (["invoice.total > 1000"], [], "none of the 412 generated Invoice rows meets it"),
    (["invoice.nope > 1"], [], "Invoice has no column 'nope'"),
    (["total > 1"], [], "name one table's columns as table.column"),
    ([], ["invoice.billingcountry=Germany:0.3"], "is a copy of Customer.Country"),
    ([], ["track.unitprice=1.99:1.5"], "the share must lie in (0, 1]"),
])
def test_a_scenario_that_cannot_be_met_says_why(chinook: Model, where: list[str], boost: list[str],
                                                message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        dbsynth.sample(chinook, seed=1, where=where, boost=boost)


def test_schema_only_seed_meets_a_where_as_a_rule(tmp_path: Path) -> None:
    shop = Path(__file__).resolve().parents[2] / "examples" / "shop.sql"
    db = tmp_path / "shop.sqlite"
    with sqlite3.connect(db) as conn:
        conn.executescript(shop.read_text())
    dbsynth.seed(f"sqlite:///{db}", default_rows=200, seed=1, where=["product.price BETWEEN 5 AND 9"])
    with sqlite3.connect(db) as conn:
        prices = [r[0] for r in conn.execute("SELECT price FROM product")]
    assert len(prices) == 200 and all(5 <= p <= 9 for p in prices)


def test_the_fixture_and_marker_take_a_scenario(pytester: pytest.Pytester, chinook: Model) -> None:
    model = str(dbsynth.save(chinook, str(pytester.path / "chinook.dbsynth")))
    pytester.makeconftest(f'''
from dbsynth.pytest import seeded
big_invoices = seeded("sqlite", model={model!r}, where="invoice.total > 20")
videos = seeded("sqlite", model={model!r}, boost=["track.unitprice=1.99:0.25"])
''')
    pytester.makepyfile(test_scenario='''
import pytest, sqlalchemy as sa

def query(db, sql):
    with db.connect() as conn:
        return conn.execute(sa.text(sql)).all()

def test_where(big_invoices):
    rows = query(big_invoices, 'SELECT i."Total", sum(l."UnitPrice" * l."Quantity") FROM "Invoice" i '
                               'JOIN "InvoiceLine" l USING ("InvoiceId") GROUP BY i."InvoiceId", i."Total"')
    assert len(rows) >= 40 and all(t > 20 and abs(t - s) < 0.005 for t, s in rows)

def test_boost(videos):
    [(share,)] = query(videos, 'SELECT avg(CASE WHEN "UnitPrice" = 1.99 THEN 1.0 ELSE 0 END) FROM "Track"')
    assert abs(share - 0.25) <= 0.03

@pytest.mark.dbsynth(where=["invoice.total > 15"])
def test_marker(videos):
    [(low,)] = query(videos, 'SELECT min("Total") FROM "Invoice"')
    assert low > 15
''')
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)
