"""Pagila and Chinook (real public sample databases): their DDL alone, seeded with every constraint
and trigger enabled."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from dbsynth.cli import app
from dbsynth.connect import create_engine
from dbsynth.pipeline import seed
from tests.conftest import DATASETS, chinook_ddl

PAGILA_DDL = DATASETS / "pagila" / "pagila-schema.sql"


def _assert_all_constraints_valid(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM pg_constraint WHERE NOT convalidated").scalar() == 0
        disabled = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'D'").scalar()
        assert disabled == 0
    engine.dispose()


def test_pagila_seeds_with_every_constraint(pg_database: Callable[..., str]) -> None:
    url = pg_database(PAGILA_DDL)
    result = seed(url, default_rows=1000, seed=1)
    roots = result.plan.roots(result.schema)
    assert {"actor", "category", "country", "language"} <= set(roots)
    assert all(result.rows[r] == 1000 for r in roots)
    assert "payment" in result.rows and not any(k.startswith("payment_p") for k in result.rows)
    _assert_all_constraints_valid(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        # the partitioned payment table was written through its parent, into its partitions
        assert conn.exec_driver_sql("SELECT count(*) FROM payment").scalar() == result.rows["payment"]
        # the fulltext trigger ran on every film
        assert conn.exec_driver_sql("SELECT count(*) FROM film WHERE fulltext IS NULL").scalar() == 0
        orphans = conn.exec_driver_sql(
            "SELECT count(*) FROM rental r LEFT JOIN inventory i USING (inventory_id) "
            "WHERE i.inventory_id IS NULL").scalar()
        assert orphans == 0
    engine.dispose()


def test_chinook_seeds_with_every_constraint(pg_database: Callable[..., str], tmp_path: Path) -> None:
    url = pg_database(chinook_ddl(tmp_path))
    result = seed(url, default_rows=1000, seed=1)
    assert len(result.rows) == 11
    assert all(result.rows[r] == 1000 for r in result.plan.roots(result.schema))
    assert result.plan.self_references and result.plan.self_references[0][0] == "employee"
    _assert_all_constraints_valid(url)


def test_inspect_json_lists_pagila_in_insertion_order(pg_database: Callable[..., str]) -> None:
    url = pg_database(PAGILA_DDL)
    res = CliRunner().invoke(app, ["inspect", url, "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    order = data["order"]
    assert order.index("customer") < order.index("rental") < order.index("payment")
    payment = next(t for t in data["tables"] if t["name"] == "payment")
    assert {fk["references"] for fk in payment["foreign_keys"]} == {"customer", "rental", "staff"}
    assert payment["rows"] == 0
    assert "payment_p2022_01" in data["partitions_not_written"]


def test_sequences_continue_after_seed(pg_database: Callable[..., str], tmp_path: Path) -> None:
    ddl = Path(__file__).resolve().parents[2] / "schemas" / "postgresql"
    url = pg_database(ddl / "uuid_identity_generated.sql", ddl / "enum_domain.sql",
                      ddl / "array_json_misc.sql")
    seed(url, default_rows=50, seed=2)
    engine = create_engine(url)
    with engine.begin() as conn:
        cust = conn.exec_driver_sql("SELECT customer_id FROM customer LIMIT 1").scalar()
        new_purchase = conn.execute(sa.text(
            "INSERT INTO purchase (customer_id, unit_price, quantity) VALUES (:c, 2, 3) "
            "RETURNING purchase_id, total"), {"c": cust}).one()
        assert new_purchase == (51, 6)
        assert conn.exec_driver_sql(
            "INSERT INTO ticket (state, progress, postal_code) VALUES ('open', 5, '12345') "
            "RETURNING ticket_id").scalar() == 51
        assert conn.exec_driver_sql(
            "INSERT INTO article (title, tags, metadata, slug) VALUES ('t', '{}', '{}', 'new-slug') "
            "RETURNING article_id").scalar() == 51
    engine.dispose()
