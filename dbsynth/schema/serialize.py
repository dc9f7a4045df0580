"""A :class:`Schema` to plain JSON-able dicts and back, for model files."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from dbsynth.schema.model import (
    Check,
    Column,
    ColumnType,
    Composite,
    ForeignKey,
    Identity,
    PrimaryKey,
    Schema,
    Table,
    TypeKind,
    Unique,
)

__all__ = ["fingerprint", "schema_from_dict", "schema_to_dict"]


def schema_to_dict(schema: Schema) -> dict[str, Any]:
    """Plain dicts; a table without composite columns has no ``composites`` key, so the files (and
    fingerprints) of models saved before composites were modelled stay as they were."""
    d = dataclasses.asdict(schema)
    for t in d["tables"]:
        if not t["composites"]:
            del t["composites"]
    return d


def _ctype(d: dict[str, Any]) -> ColumnType:
    return ColumnType(**{**d, "kind": TypeKind(d["kind"]), "labels": tuple(d["labels"]),
                         "item": None if d["item"] is None else _ctype(d["item"])})


def schema_from_dict(d: dict[str, Any]) -> Schema:
    tables = []
    for t in d["tables"]:
        cols = tuple(Column(**{**c, "type": _ctype(c["type"]),
                               "identity": None if c["identity"] is None else Identity(**c["identity"])})
                     for c in t["columns"])
        pk = t["primary_key"]
        tables.append(Table(
            schema=t["schema"], name=t["name"], columns=cols,
            primary_key=None if pk is None else PrimaryKey(pk["name"], tuple(pk["columns"])),
            foreign_keys=tuple(ForeignKey(**{**f, "columns": tuple(f["columns"]),
                                             "referred_columns": tuple(f["referred_columns"])})
                               for f in t["foreign_keys"]),
            uniques=tuple(Unique(**{**u, "columns": tuple(u["columns"]), "expressions": tuple(u["expressions"])})
                          for u in t["uniques"]),
            checks=tuple(Check(**c) for c in t["checks"]),
            partitions=tuple(t["partitions"]),
            composites=tuple(Composite(c["column"], c["type_name"], tuple((f, s) for f, s in c["fields"]),
                                       c["nullable"], tuple((e, tuple(labels)) for e, labels in c["enums"]))
                             for c in t.get("composites", ())),
        ))
    return Schema(d["dialect"], tuple(tables), d["default_schema"], tuple(d["skipped"]))


def fingerprint(schema: Schema) -> str:
    """A hash of what generation depends on: tables, columns, types, keys and constraints."""
    data = schema_to_dict(schema)
    data.pop("skipped", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]
