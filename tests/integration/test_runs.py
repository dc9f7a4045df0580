"""Run-level promises: determinism, all-or-nothing writes, --truncate, --create-schema, CSV."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

import dbsynth
from dbsynth.connect import create_engine
from dbsynth.errors import TargetNotEmptyError, WriteError
from dbsynth.pipeline import seed
from tests.conftest import SCHEMAS, SHOP_SQL, ddl_for, read_frames, run_psql, table_rows

COMPOSITE = ddl_for("composite_keys", "postgresql")


def test_same_seed_gives_identical_tables(pg_database: Callable[..., str]) -> None:
    a, b, c = (pg_database(COMPOSITE) for _ in range(3))
    seed(a, default_rows=200, seed=7)
    seed(b, default_rows=200, seed=7)
    seed(c, default_rows=200, seed=8)
    assert table_rows(a) == table_rows(b)
    assert table_rows(a) != table_rows(c)


def test_same_seed_identical_across_sqlite_runs(sqlite_database: Callable[..., str]) -> None:
    urls = [sqlite_database(ddl_for("check_forms", "sqlite")) for _ in range(2)]
    for u in urls:
        seed(u, default_rows=150, seed=11)
    assert table_rows(urls[0]) == table_rows(urls[1])


def test_failure_mid_load_leaves_postgres_target_empty(pg_database: Callable[..., str]) -> None:
    url = pg_database(COMPOSITE)
    dbname = url.rsplit("/", 1)[1]
    # bin_product is written last: make the database itself refuse its rows
    run_psql(dbname, sql="CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS "
                         "$$BEGIN RAISE EXCEPTION 'injected failure'; END$$; "
                         "CREATE TRIGGER boom BEFORE INSERT ON bin_product FOR EACH ROW EXECUTE FUNCTION boom()")
    with pytest.raises(WriteError, match=r"bin_product.*injected failure"):
        seed(url, default_rows=100, seed=1)
    assert all(rows == [] for rows in table_rows(url).values())
    engine = create_engine(url)
    with engine.connect() as conn:  # the constraints dropped for the load are back
        n = conn.exec_driver_sql("SELECT count(*) FROM pg_constraint WHERE contype IN ('p','f') "
                                     "AND connamespace = 'public'::regnamespace").scalar()
        assert n == 4 + 3
    engine.dispose()


@pytest.mark.parametrize(("fixture", "dialect", "trigger"), [
    ("sqlite_database", "sqlite",
     "CREATE TRIGGER boom BEFORE INSERT ON bin_product BEGIN SELECT RAISE(ABORT, 'injected failure'); END"),
    ("mariadb_database", "mysql",
     "CREATE TRIGGER boom BEFORE INSERT ON bin_product FOR EACH ROW "
     "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'"),
])
def test_failure_mid_load_leaves_target_empty(fixture: str, dialect: str, trigger: str,
                                              request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(fixture)(ddl_for("composite_keys", dialect))
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(trigger)
    engine.dispose()
    with pytest.raises(WriteError, match=r"bin_product.*injected failure"):
        seed(url, default_rows=100, seed=1)
    assert all(rows == [] for rows in table_rows(url).values())


def test_non_empty_target_refused_then_truncated(pg_database: Callable[..., str]) -> None:
    url = pg_database(COMPOSITE)
    seed(url, default_rows=50, seed=1)
    before = table_rows(url)
    with pytest.raises(TargetNotEmptyError, match="--truncate"):
        seed(url, default_rows=80, seed=2)
    assert table_rows(url) == before
    seed(url, default_rows=80, seed=2, truncate=True)
    assert len(table_rows(url)["product"]) == 80


def test_create_schema_postgres_to_postgres(pg_database: Callable[..., str]) -> None:
    source = pg_database(SCHEMAS / "postgresql" / "enum_domain.sql",
                         SCHEMAS / "postgresql" / "uuid_identity_generated.sql", COMPOSITE)
    target = pg_database()
    result = seed(target, schema_from=source, create_schema=True, default_rows=40, seed=1)
    rows = table_rows(target)
    assert {k: len(v) for k, v in rows.items()} == dict(result.rows)


def test_create_schema_sqlite_to_sqlite(sqlite_database: Callable[..., str], tmp_path: Path) -> None:
    source = sqlite_database(ddl_for("two_table_cycle", "sqlite"))
    target = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    result = seed(target, schema_from=source, create_schema=True, default_rows=60, seed=1)
    assert result.plan.deferred and result.plan.deferred[0].table == "department"
    rows = table_rows(target)
    assert len(rows["person"]) == 60
    heads = [r[2] for r in rows["department"]]
    assert sum(h is not None for h in heads) > 30  # the cycle column was filled by UPDATE


def test_csv_sink_writes_one_file_per_table(pg_database: Callable[..., str], tmp_path: Path) -> None:
    url = pg_database(COMPOSITE)
    seed(url, default_rows=30, seed=1, to_dir=tmp_path / "out")
    files = sorted(p.name for p in (tmp_path / "out").glob("*.csv"))
    assert files == ["bin.csv", "bin_product.csv", "product.csv", "warehouse.csv"]
    frame = pd.read_csv(tmp_path / "out" / "bin.csv")
    assert len(frame) == 30 and list(frame.columns) == ["region_code", "warehouse_no", "bin_no", "capacity"]
    assert table_rows(url)["bin"] == []  # the database was not written


def test_sqlite_autoincrement_continues(sqlite_database: Callable[..., str]) -> None:
    from dbsynth.cli import EXAMPLES

    url = sqlite_database(EXAMPLES / "shop.sql")
    seed(url, default_rows=25, seed=1)
    engine = create_engine(url)
    with engine.begin() as conn:
        new_id = conn.execute(sa.text(
            "INSERT INTO customer (first_name, last_name, email, created_at) "
            "VALUES ('a', 'b', 'new@example.org', '2024-01-01') RETURNING customer_id")).scalar()
        assert new_id == 26
    engine.dispose()


@pytest.mark.parametrize("names", ["real", "invented"])
def test_people_look_real_and_their_emails_follow_their_names(names: str,
                                                             sqlite_database: Callable[..., str]) -> None:
    """1,000 customers of the shop, schema-only: by default their names are the locale's (Faker's
    lists) and each e-mail is made from the row's own name at a reserved example domain; with
    ``names="invented"`` no name is on those lists."""
    from faker.providers.person.en_US import Provider as Person

    target = sqlite_database(SHOP_SQL)
    dbsynth.seed(target, rows={"customer": 1000}, default_rows=10, seed=3, names=names)
    customer = read_frames(target)["customer"]
    listed = customer["first_name"].isin(set(Person.first_names)) & customer["last_name"].isin(set(Person.last_names))
    if names == "invented":
        assert not listed.any()
        return
    assert len(customer) == 1000 and listed.mean() >= 0.95
    local = (customer["first_name"] + "." + customer["last_name"]).str.lower().str.replace(r"[^a-z.]", "", regex=True)
    made = customer["email"].str.split("@").str[0].str.rstrip("0123456789")
    assert (made == local).mean() >= 0.95 and customer["email"].is_unique
    assert customer["email"].str.split("@").str[1].isin(["example.org", "example.com", "example.net"]).all()
