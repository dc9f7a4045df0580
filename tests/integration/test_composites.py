"""Columns of composite (row) types on a real PostgreSQL: the values dbsynth writes are read back by
the server field for field, and the CHECKs on fields hold in what it seeds and generates."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy.engine import Engine

import dbsynth
from dbsynth.connect import create_engine
from dbsynth.graph import plan
from dbsynth.pipeline import seed, sink_for, write_model
from dbsynth.report import fidelity_report
from dbsynth.schema import Schema, reflect
from dbsynth.schema.read import read_table
from dbsynth.sinks.base import WriteOptions, physical
from tests.conftest import SCHEMAS, _new_pg_database

COMPOSITE_SQL = SCHEMAS / "postgresql" / "composite_types.sql"
ROUND_TRIP = """
CREATE TYPE item AS (label text, qty numeric(10, 2), day date, ok boolean, "odd, name" text);
CREATE TABLE t (id int PRIMARY KEY, it item, req item NOT NULL);
"""


@pytest.fixture(scope="module")
def round_trip_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Schema]]:
    ddl = tmp_path_factory.mktemp("composite") / "item.sql"
    ddl.write_text(ROUND_TRIP, encoding="utf-8")
    janitors: list[DatabaseJanitor] = []
    engine = create_engine(_new_pg_database(f"dbsynth_ct_{uuid.uuid4().hex[:8]}", [ddl], janitors))
    yield engine, reflect(engine)
    engine.dispose()
    for j in janitors:
        j.drop()


texts = st.one_of(st.none(), st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                                     max_size=12))
rows = st.lists(st.tuples(texts, st.one_of(st.none(), st.decimals(-10**6, 10**6, places=2, allow_nan=False)),
                          st.one_of(st.none(), st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))),
                          st.one_of(st.none(), st.booleans()), texts),
                min_size=1, max_size=8)


@settings(max_examples=40, deadline=None)
@given(rows)
def test_composite_values_read_back_field_for_field(round_trip_db: tuple[Engine, Schema], values: list[tuple]) -> None:
    engine, schema = round_trip_db
    fields = ["label", "qty", "day", "ok", "odd, name"]
    frame = pd.DataFrame({"id": range(len(values))})
    for prefix in ("it", "req"):
        for i, f in enumerate(fields):
            frame[f"{prefix}.{f}"] = pd.Series([v[i] for v in values], dtype=object)
    written, frames = physical(schema, {"t": frame})
    sink_for(engine).write(written, plan(schema), frames, options=WriteOptions(truncate=True))
    with engine.connect() as conn:
        got = conn.execute(sa.text(
            'SELECT it::text IS NULL, (it).label, (it).qty, (it).day, (it).ok, (it)."odd, name", (req).label, '
            '(req).qty, (req).day, (req).ok, (req)."odd, name", req::text IS NULL FROM t ORDER BY id')).all()
    for row, v in zip(got, values, strict=True):
        assert tuple(row[1:6]) == v and tuple(row[6:11]) == v
        assert row[0] == all(x is None for x in v)  # NULL as a whole only when every field is
        assert row[11] is False  # NOT NULL: a row of NULL fields (which IS NULL tests true), never NULL


def _scalar(url: str, sql: str) -> object:
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(sa.text(sql)).scalar()
    engine.dispose()
    return value


def test_seed_and_generate_composite_columns_with_field_checks(pg_database: Callable[..., str]) -> None:
    source, target = pg_database(COMPOSITE_SQL), pg_database(COMPOSITE_SQL)
    result = seed(source, default_rows=400, seed=2)
    assert result.rows == {"country": 400, "city": 400, "shipment": 400}
    # the server checked every field CHECK and the UNIQUE over coordinates at the load; from outside:
    assert _scalar(source, "SELECT count(*) FROM city WHERE airport IS NOT NULL AND (airport).latitude IS NULL") == 0
    assert 0 < _scalar(source, "SELECT count(*) FROM city WHERE airport IS NULL") < 400  # type: ignore[operator]
    assert _scalar(source, "SELECT count(*) FROM shipment WHERE (cost).discount NOT BETWEEN 0 AND 100") == 0
    model = dbsynth.fit(source, epsilon=float("inf"))
    written = write_model(model, target, seed=3)
    assert written.rows["shipment"] > 0
    real, synth = (create_engine(u) for u in (source, target))
    schema = reflect(real)
    frames = [{k: read_table(e, schema.table(k)) for k in plan(schema).order} for e in (real, synth)]
    real.dispose()
    synth.dispose()
    report = fidelity_report(schema, *frames)
    # the fields were learned, not left to the schema: their shapes follow the source
    assert report.column_shapes["city"]["coordinates.latitude"] > 0.85
    assert report.column_shapes["shipment"]["cost.amount"] > 0.85
