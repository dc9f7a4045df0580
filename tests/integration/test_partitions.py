"""Partitioned runs (see :mod:`dbsynth.partition`): the same seed gives the same rows in every table
whatever the number of workers, the executor (this process, a Dask cluster of our own, an existing
one) and the write batch size; and what the partitions write passes every constraint of the target."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

import pandas as pd
import pytest
import sqlalchemy as sa

import dbsynth
from dbsynth.config import Config
from dbsynth.errors import UsageError
from dbsynth.partition import choose, closure, read_by
from tests.conftest import DATASETS

PAGILA_DDL = DATASETS / "pagila" / "pagila-schema.sql"
SCALE = 2.5  # 2,500 films: two partitions of Pagila's film and what hangs below them (≈ 107k rows)


def checksums(url: str) -> dict[str, str]:
    """Per table, the md5 of its rows as text, in order."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        names = conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                     "AND tablename NOT LIKE 'payment_p%'")).scalars().all()
        out = {n: conn.execute(sa.text(f'SELECT md5(string_agg(t::text, \'|\' ORDER BY t::text)) FROM "{n}" t')
                               ).scalar() for n in names}
    engine.dispose()
    return out


def digest(frame: pd.DataFrame) -> str:
    return hashlib.sha1(pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy().tobytes()).hexdigest()


@pytest.fixture(scope="module")
def pagila_model(source_databases: dict[str, str]) -> dbsynth.Model:
    return dbsynth.fit(source_databases["pagila"], epsilon=math.inf)


def test_the_same_rows_whatever_the_workers_and_batches(pagila_model: dbsynth.Model,
                                                        pg_database: Callable[..., str]) -> None:
    from dask.distributed import LocalCluster

    cut = choose(pagila_model, SCALE, {}, Config())
    assert cut is not None and cut.root == "film" and cut.parts == 2, cut
    alone = dbsynth.sample(pagila_model, scale=SCALE, seed=3)
    two = dbsynth.sample(pagila_model, scale=SCALE, seed=3, workers=2)
    assert {k: digest(f) for k, f in alone.items()} == {k: digest(f) for k, f in two.items()}
    assert len(alone["film"]) == 2500 and alone["rental"]["rental_id"].is_unique
    assert alone["payment"]["payment_id"].tolist() == list(range(1, len(alone["payment"]) + 1))

    written = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        for kwargs in ({"batch_size": 700}, {"workers": 2, "batch_size": 100_000},
                       {"scheduler": cluster.scheduler_address}):
            target = pg_database(PAGILA_DDL)
            result = dbsynth.write_model(pagila_model, target, scale=SCALE, seed=3, **kwargs)  # type: ignore[arg-type]
            assert result.rows["rental"] == len(alone["rental"]), kwargs
            written.append(checksums(target))
    assert written[0] == written[1] == written[2]
    assert len(written[0]) >= 15 and all(written[0].values())


def test_workers_and_batch_size_are_checked(pagila_model: dbsynth.Model, tmp_path: object) -> None:
    with pytest.raises(UsageError, match="--workers must be at least 1"):
        dbsynth.sample(pagila_model, scale=SCALE, workers=0)
    with pytest.raises(UsageError, match="--batch-size must be at least 1"):
        dbsynth.write_model(pagila_model, None, to_dir=tmp_path, batch_size=0)  # type: ignore[arg-type]


def test_partitions_hold_only_the_tables_they_reach(pagila_model: dbsynth.Model) -> None:
    """A partition of customers reads the tables its rows point at, up to the countries, and of
    them the keys (and the columns its networks take as context), never a sibling such as film_actor."""
    inside = set(closure(pagila_model.schema, pagila_model.plan, "customer"))
    assert inside == {"customer", "rental", "payment"}
    read = read_by(pagila_model, inside, Config())
    assert set(read) == {"address", "city", "country", "store", "staff", "inventory", "film", "language"}
    assert {"film_id", "store_id", "inventory_id"} <= read["inventory"] and "title" not in read["film"]


def test_partitions_stream_into_mariadb(pagila_model: dbsynth.Model, mariadb_database: Callable[..., str]) -> None:
    """Pagila's partitions stream into MariaDB batch by batch (its schema created from the model), the
    database checking every FK as the rows arrive: the same rows as the same run sampled in memory."""
    alone = dbsynth.sample(pagila_model, scale=SCALE, seed=3)
    target = mariadb_database()
    result = dbsynth.write_model(pagila_model, target, scale=SCALE, seed=3, batch_size=700, create_schema=True)
    engine = sa.create_engine(target.replace("mysql://", "mysql+pymysql://"))
    with engine.connect() as conn:
        rentals = conn.execute(sa.text("SELECT rental_id, inventory_id, customer_id FROM rental ORDER BY 1")).all()
        counts = {k: conn.execute(sa.text(f"SELECT count(*) FROM `{k}`")).scalar() for k in alone}
    engine.dispose()
    assert counts == {k: len(f) for k, f in alone.items()} == result.rows
    expected = alone["rental"][["rental_id", "inventory_id", "customer_id"]].sort_values("rental_id")
    assert [tuple(r) for r in rentals] == list(expected.itertuples(index=False, name=None))
