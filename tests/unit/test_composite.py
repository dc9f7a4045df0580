"""Composite columns as one column per field: CHECK text rewriting and the table as written."""

from __future__ import annotations

import pytest

from dbsynth.schema.model import Column, ColumnType, Composite, PrimaryKey, Table, TypeKind, Unique, field_references

GEO = Composite("coordinates", "geocoord", (("latitude", "numeric"), ("longitude", "numeric")), nullable=False)
ADDRESS = Composite("Ship to", '"Postal address"', (("street", "text"), ("Post code", "text")), nullable=True)


@pytest.mark.parametrize(("sql", "expected"), [
    ("(coordinates).latitude BETWEEN -90 AND 90", '"coordinates.latitude" BETWEEN -90 AND 90'),
    ("( coordinates ) . longitude <= 180::numeric", '"coordinates.longitude" <= 180::numeric'),
    ('("Ship to")."Post code" IS NOT NULL', '"Ship to.Post code" IS NOT NULL'),
    ("(coordinates).altitude > 0", "(coordinates).altitude > 0"),  # no such field: left for the database
    ("(other).latitude > 0 AND latitude > 0", "(other).latitude > 0 AND latitude > 0"),
    ("lower(name) = name", "lower(name) = name"),
])
def test_field_references_name_the_field_columns(sql: str, expected: str) -> None:
    assert field_references(sql, (GEO, ADDRESS)) == expected


def test_physical_puts_each_composite_back_where_its_first_field_stood() -> None:
    num, text = ColumnType(TypeKind.DECIMAL, "numeric"), ColumnType(TypeKind.STRING, "text")
    table = Table(None, "city", (
        Column("id", ColumnType(TypeKind.INTEGER, "integer"), False),
        Column("coordinates.latitude", num, False), Column("coordinates.longitude", num, False),
        Column("name", text, True),
        Column("Ship to.street", text, True), Column("Ship to.Post code", text, True),
    ), primary_key=PrimaryKey(None, ("id",)),
        uniques=(Unique(None, ("coordinates.latitude", "coordinates.longitude")),), composites=(GEO, ADDRESS))
    physical = table.physical()
    assert [(c.name, c.type.kind, c.type.name, c.nullable) for c in physical.columns] == [
        ("id", TypeKind.INTEGER, "integer", False), ("coordinates", TypeKind.COMPOSITE, "geocoord", False),
        ("name", TypeKind.STRING, "text", True), ("Ship to", TypeKind.COMPOSITE, '"Postal address"', True)]
    assert [u.columns for u in physical.uniques] == [("coordinates",)]
    assert physical.physical() == physical
    assert table.field_of("Ship to.Post code") == (ADDRESS, "Post code")
    assert table.field_of("name") is None
