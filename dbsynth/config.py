"""User configuration: ``dbsynth.toml``, or ``[tool.dbsynth]`` in ``pyproject.toml``.

Validated against the JSON Schema shipped beside this module (``schemas/config.schema.json`` in the
repository); a bad file is an error naming the file, the rule (``rules[2]``), its line and the key.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from dbsynth.errors import UsageError
from dbsynth.rules.checks import sql_literal
from dbsynth.scenarios import Scenario

__all__ = ["Config", "UserRule", "load_config"]

SCHEMA = json.loads((Path(__file__).with_name("config.schema.json")).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class UserRule:
    """One rule from the file; ``sql`` is its row condition over the table (parent columns of a
    cross-table rule written ``parent.column``), or ``None`` for an aggregate."""

    table: str
    name: str
    sql: str | None
    parent: str | None = None
    column: str | None = None
    aggregate: str | None = None
    child: str | None = None


@dataclass(frozen=True)
class Config:
    rules: tuple[UserRule, ...] = ()
    source: Path | None = None
    disable_learned: tuple[str, ...] = ()  # 'table: rule' as `dbsynth rules` lists it, or 'table'
    scenario: Scenario = field(default_factory=Scenario)  # --where / --boost (see dbsynth.scenarios)

    def for_table(self, table: str) -> list[UserRule]:
        """The table's row rules, a ``--where`` among them."""
        wheres = [UserRule(w.table, f"--where {w.text}", w.sql) for w in self.scenario.wheres if w.table == table]
        return [r for r in self.rules if r.table == table and r.sql is not None] + wheres

    @property
    def aggregates(self) -> list[UserRule]:
        return [r for r in self.rules if r.aggregate is not None]


def _to_rule(i: int, raw: dict[str, Any]) -> UserRule:
    name = raw.get("name") or f"rules[{i}]"
    col = raw.get("column")
    if "aggregate" in raw:
        return UserRule(raw["table"], name, None, column=col, aggregate=raw["aggregate"], child=raw["child"])
    if "when" in raw:
        sql = f"NOT ({raw['when']}) OR ({raw['then']})"
    elif "values" in raw:
        sql = f"{col} IN ({', '.join(sql_literal(v) for v in raw['values'])})"
    elif "fixed" in raw:
        sql = f"{col} = {sql_literal(raw['fixed'])}"
    elif "check" in raw:
        sql = raw["check"]
    elif "format" in raw:
        sql = f"{col} ~ {sql_literal(raw['format'])}"
    else:
        parts = ([f"{col} >= {sql_literal(raw['min'])}"] if "min" in raw else []) + \
                ([f"{col} <= {sql_literal(raw['max'])}"] if "max" in raw else [])
        sql = " AND ".join(parts)
    return UserRule(raw["table"], name, sql, parent=raw.get("parent"), column=col)


def _line_of_rule(text: str, index: int) -> int | None:
    header = re.compile(r"\s*\[\[(tool\.dbsynth\.)?rules\]\]")
    starts = [i + 1 for i, line in enumerate(text.splitlines()) if header.match(line)]
    return starts[index] if index < len(starts) else None


def load_config(path: Path | None = None, *, cwd: Path | None = None) -> Config:
    """``path``, else ``dbsynth.toml`` in ``cwd``, else ``[tool.dbsynth]`` of its ``pyproject.toml``,
    else an empty configuration."""
    base = cwd or Path.cwd()
    candidates = [path] if path else [base / "dbsynth.toml", base / "pyproject.toml"]
    for candidate in candidates:
        if candidate is None or not candidate.exists():
            if path is not None:
                raise UsageError(f"no configuration file at {path}")
            continue
        text = candidate.read_text(encoding="utf-8")
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{candidate}: not valid TOML: {exc}") from exc
        if candidate.name == "pyproject.toml" and path is None:
            doc = doc.get("tool", {}).get("dbsynth")
            if doc is None:
                continue
        errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(doc), key=lambda e: list(e.path))
        if errors:
            err = errors[0]
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.path).lstrip(".") or "top level"
            line = _line_of_rule(text, err.path[1]) if len(err.path) > 1 and err.path[0] == "rules" else None
            at = f" (line {line})" if line else ""
            what = "this combination of keys is not a known rule kind (check, when/then, values, format, fixed, " \
                   "min/max, aggregate)" if err.validator == "oneOf" else err.message
            raise UsageError(f"{candidate}: {where}{at}: {what}")
        return Config(tuple(_to_rule(i, r) for i, r in enumerate(doc.get("rules", []))), candidate,
                      tuple(doc.get("disable_learned", [])))
    return Config()
