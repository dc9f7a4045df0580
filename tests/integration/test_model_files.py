"""Damaged model files: every command that reads one answers with one line and exit 2, never a
traceback. Hypothesis damages a real model file (zip and JSON stay valid) and runs the commands in
process, so a few hundred files take seconds."""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbsynth.cli import main
from tests.conftest import SHOP_SQL

JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                        st.text(max_size=6), st.lists(st.integers(-3, 3), max_size=3), st.just({}))


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into the JSON tree: what a damage can hit."""
    if isinstance(doc, dict):
        items: Any = doc.items()
    elif isinstance(doc, list):
        items = enumerate(doc)
    else:
        return
    for k, v in items:
        yield (*prefix, k)
        yield from _paths(v, (*prefix, k))


def _parts(path: Path) -> tuple[dict[str, Any], bytes]:
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("model.json")), z.read("arrays.npz")


def _write(path: Path, doc: Any, arrays: bytes) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("model.json", json.dumps(doc))
        z.writestr("arrays.npz", arrays)


@st.composite
def damaged(draw: st.DrawFn, original: Path) -> tuple[Any, bytes]:
    doc, arrays = _parts(original)
    kind = draw(st.sampled_from(["delete", "replace", "replace", "version", "garbage arrays", "bad array"]))
    if kind in ("delete", "replace"):
        *parent_path, last = draw(st.sampled_from(sorted(_paths(doc), key=repr)))
        parent = doc
        for k in parent_path:
            parent = parent[k]
        if kind == "delete":
            del parent[last]
        else:
            parent[last] = draw(JSON_VALUES)
    elif kind == "version":
        doc["version"] = draw(st.sampled_from(["2", 0, -1, 2.5, None, True]))
    elif kind == "garbage arrays":
        arrays = draw(st.binary(max_size=64))
    else:
        with np.load(io.BytesIO(arrays)) as npz:
            data = {k: npz[k] for k in npz.files}
        name = draw(st.sampled_from(sorted(data)))
        rows, cols = draw(st.integers(0, 4)), draw(st.integers(0, 4))
        fill = draw(st.sampled_from([np.nan, -1.0, 0.5, np.inf]))
        data[name] = np.full((rows, cols), fill)
        buf = io.BytesIO()
        np.savez(buf, **data)
        arrays = buf.getvalue()
    return doc, arrays


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """Two seeded copies of the shop schema: the real and synthetic sides of ``report``."""
    import dbsynth

    urls = []
    for name in ("real", "synth"):
        path = tmp_path_factory.mktemp("report") / f"{name}.sqlite"
        with sqlite3.connect(path) as db:
            db.executescript(SHOP_SQL.read_text())
        urls.append(f"sqlite:///{path}")
        dbsynth.seed(urls[-1], default_rows=30, seed=len(urls))
    return urls[0], urls[1]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    code = exit_.value.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().err


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_command_answers_a_damaged_model_in_one_line(
        data: st.DataObject, shop_model: Path, databases: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    doc, arrays = data.draw(damaged(shop_model))
    real, synth = databases
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "damaged.dbsynth"
        _write(model, doc, arrays)
        for args in (["rules", str(model)], ["privacy", str(model)], ["check", str(model), "--against", real],
                     ["generate", str(model), "--to-dir", str(Path(tmp) / "out"), "--quiet"],
                     ["report", real, synth, "--model", str(model), "--json"]):
            code, err = _run(capsys, *args)
            if code in (0, 3, 4):  # a harmless change (a note, the creation time): the command did its job
                continue
            assert "Traceback" not in err, err
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error:"), (args, err)
            assert "unexpected" not in err, (args, err)
            assert code == 2 and str(model) in err, (args, code, err)


def test_named_damages(shop_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The damages a user met, each with the words that say what is wrong."""
    doc, arrays = _parts(shop_model)
    cases: dict[str, tuple[Any, bytes, str]] = {
        "garbage arrays": (doc, b"\x00garbage" * 8, "not a dbsynth model file"),
        "tables null": ({**doc, "tables": None}, arrays, "not a valid dbsynth model file"),
        "no schema": ({k: v for k, v in doc.items() if k != "schema"}, arrays, "'schema' is missing"),
        "no rows": ({**doc, "tables": {**doc["tables"], "customer": {
            k: v for k, v in doc["tables"]["customer"].items() if k != "rows"}}}, arrays, "'rows' is missing"),
        "version as text": ({**doc, "version": "2"}, arrays, "format version '2'"),
        "bad epsilon": ({**doc, "params": {**doc["params"], "epsilon": -1}}, arrays, "epsilon -1"),
        "missing array": (doc, _without_arrays(arrays), "is missing"),
        "unknown generator": ({**doc, "tables": {**doc["tables"], "customer": {
            **doc["tables"]["customer"], "generator": {**doc["tables"]["customer"]["generator"], "kind": "ctgan"}}}},
            arrays, "its generator 'ctgan' is not installed"),
    }
    for name, (d, a, needle) in cases.items():
        path = tmp_path / f"{name}.dbsynth"
        _write(path, d, a)
        for command in ("rules", "privacy"):
            code, err = _run(capsys, command, str(path))
            assert code == 2 and needle in err and "Traceback" not in err, (name, err)
    code, err = _run(capsys, "generate", str(tmp_path / "absent.dbsynth"), "--to-dir", str(tmp_path))
    assert code == 2 and "no model file" in err


def _without_arrays(arrays: bytes) -> bytes:
    buf = io.BytesIO()
    np.savez(buf)
    return buf.getvalue()
