"""Save and load model files: one zip archive holding ``model.json`` and ``arrays.npz``.

Versioned and portable: JSON for structure and parameters, numpy arrays (loaded with
``allow_pickle=False``) for conditional probability tables — no pickle anywhere, so a model file
cannot run code when it is opened. The file records the schema and its fingerprint, and loading it
against a database whose schema differs yields a readable diff.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dbsynth import registry
from dbsynth.errors import DbsynthError, ModelFileError, UsageError
from dbsynth.generators.bayesnet import BayesNetGenerator
from dbsynth.meetings import Meeting
from dbsynth.model import GENERATED, ColumnModel, Model, TableModel
from dbsynth.model_check import check_model
from dbsynth.privacy.accountant import Accountant
from dbsynth.relational import fk_id
from dbsynth.rules.invariants import Aggregate, Dependency, Equality, rule_from_json
from dbsynth.schema.serialize import fingerprint, schema_from_dict, schema_to_dict
from dbsynth.semantics import ColumnKind

__all__ = ["FORMAT_VERSION", "check_output", "load", "save"]

FORMAT = "dbsynth-model"
# 2: date gaps (older readers would write the gap seconds as dates); NULL-parent share
# 3: learned rules as typed data instead of SQL text (formats 1-2 are read by parsing the text)
FORMAT_VERSION = 3


def _default(v: Any) -> Any:
    if isinstance(v, pd.Timestamp | dt.datetime):
        return {"__datetime__": pd.Timestamp(v).isoformat()}
    if isinstance(v, dt.date):
        return {"__date__": v.isoformat()}
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, bytes):
        return {"__bytes__": v.hex()}
    return str(v)


def _hook(d: dict[str, Any]) -> Any:
    if "__datetime__" in d:
        return pd.Timestamp(d["__datetime__"])
    if "__date__" in d:
        return dt.date.fromisoformat(d["__date__"])
    if "__bytes__" in d:
        return bytes.fromhex(d["__bytes__"])
    return d


def save(model: Model, path: str | Path) -> Path:
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    tables = {}
    for key, tm in model.tables.items():
        tables[key] = {
            "rows": tm.rows,
            "columns": [{"name": c.name, "kind": str(c.kind), "null_rate": c.null_rate, "lengths": list(c.lengths),
                         "shape": c.shape, **({"generated": _generated(tm, c)} if _generated(tm, c) else {})}
                        for c in tm.columns],
            "generator": {"kind": tm.generator.kind, **tm.generator.to_json(arrays, key)},
            "primary": tm.primary,
            "context": [list(c) for c in tm.context],
            "counts": [list(c) for c in tm.counts],
            "fk_null_rates": tm.fk_null_rates,
            "null_parent_rate": tm.null_parent_rate,
            "rules": [r.to_json() for r in tm.rules],
            "equalities": [[e.column, e.fk, e.parent, e.parent_column] for e in tm.equalities],
            "rule_notes": list(tm.rule_notes),
            "gaps": [list(g) for g in tm.gaps],
            "dependencies": [[d.column, d.derived, [list(p) for p in d.pairs]] for d in tm.dependencies],
            "aggregates": [[a.column, a.child, a.fk, a.expr] for a in tm.aggregates],
            "meetings": [[list(m.fixed), list(m.anchor), m.ancestor, m.agreement] for m in tm.meetings],
        }
    doc = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "fingerprint": fingerprint(model.schema),
        "params": {"epsilon": "inf" if math.isinf(model.epsilon) else model.epsilon, "k": model.k,
                   "public": list(model.public), "unit": model.unit, "unit_proposed": model.unit_proposed,
                   "cap": model.cap, "holdout": model.holdout, "seed": model.seed,
                   "differential_privacy": not math.isinf(model.epsilon)},
        "privacy": None if model.privacy is None else model.privacy.to_json(),
        "schema": schema_to_dict(model.schema),
        "tables": tables,
    }
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
    check_output(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr("model.json", json.dumps(doc, default=_default, indent=1))
            z.writestr("arrays.npz", buf.getvalue())
        tmp.replace(path)
    except OSError as exc:
        raise DbsynthError(f"cannot write the model file {path}: {exc.strerror or exc}") from exc
    finally:  # interrupted or failed: no half-written file is left behind
        tmp.unlink(missing_ok=True)
    return path


def _generated(tm: TableModel, c: ColumnModel) -> str | None:
    """Why the column is generated rather than learned (for a reader of the file), or None."""
    if c.kind in GENERATED:
        return GENERATED[c.kind]
    if c.name in tm.generator.discretizers and not tm.generator.released(c.name):
        return "no value cleared the differential-privacy threshold: generated from the schema"
    return None


def check_output(path: Path) -> None:
    """A model file can be written at ``path``: said before a fit spends minutes reading the source."""
    if path.is_dir():
        raise UsageError(f"-o {path} is a directory; name a model file, e.g. -o {path / 'model.dbsynth'}")
    if not path.parent.is_dir():
        raise UsageError(f"-o {path}: the directory {path.parent} does not exist; create it first")


def load(path: str | Path) -> Model:
    """The model in the file at ``path``, checked (see :mod:`dbsynth.model_check`): a missing,
    damaged or foreign file is a :class:`ModelFileError` naming what is wrong, never a traceback."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as z:
            doc = json.loads(z.read("model.json"), object_hook=_hook)
            with np.load(io.BytesIO(z.read("arrays.npz")), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise ModelFileError(f"no model file at {path}") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path} is a directory, not a model file") from None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, zlib.error) as exc:
        # ValueError: JSON that does not parse, or arrays.npz that is not an array archive
        raise ModelFileError(f"{path} is not a dbsynth model file ({_reason(exc)})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a dbsynth model file")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{path} is not a valid dbsynth model file: format version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{path} was written by a newer dbsynth (format {version}); upgrade dbsynth")
    try:
        model = _model(doc, arrays)
        check_model(model, str(path))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:  # a field of the wrong kind
        raise ModelFileError(f"{path} is not a valid dbsynth model file: {_reason(exc)}") from None
    return model


def _generator(kind: str) -> type[BayesNetGenerator]:
    """The generator class a model file names, through the ``dbsynth.generators`` entry points."""
    try:
        cls = registry.load("dbsynth.generators", kind)
    except DbsynthError as exc:
        raise ValueError(f"its generator {kind!r} is not installed ({exc})") from None
    if not (isinstance(cls, type) and issubclass(cls, BayesNetGenerator)):
        raise ValueError(f"its generator {kind!r} is not a learned network generator")  # the only kind yet
    return cls


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, KeyError):
        return f"{text} is missing"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _model(doc: dict[str, Any], arrays: dict[str, np.ndarray]) -> Model:
    version = doc["version"]
    schema = schema_from_dict(doc["schema"])
    if fingerprint(schema) != doc["fingerprint"]:
        raise ValueError("its schema does not match the fingerprint it was saved with (the file was changed)")
    tables = {}
    for key, t in doc["tables"].items():
        tables[key] = TableModel(
            key=key, rows=t["rows"],
            columns=tuple(ColumnModel(c["name"], ColumnKind(c["kind"]), c["null_rate"], tuple(c["lengths"]),
                                      c.get("shape")) for c in t["columns"]),
            generator=_generator(t["generator"].get("kind", "bayesnet")).from_json(schema.table(key), t["generator"],
                                                                                 arrays),
            primary=t["primary"],
            context=tuple((a, b) for a, b in t["context"]),
            counts=tuple((a, b, float(m)) for a, b, m in t["counts"]),
            fk_null_rates=t["fk_null_rates"],
            null_parent_rate=t["null_parent_rate"],
            rules=tuple(rule_from_json(r) for r in t.get("rules", ())),
            equalities=tuple(Equality(a, b, c, d) for a, b, c, d in t.get("equalities", ())),
            rule_notes=tuple(t.get("rule_notes", ())),
            gaps=tuple((a, b) for a, b in t.get("gaps", ())),
            dependencies=tuple(Dependency(a, b, tuple((k, v) for k, v in pairs))
                               for a, b, pairs in t.get("dependencies", ())),
            aggregates=tuple(Aggregate(a, b, c, d) for a, b, c, d in t.get("aggregates", ())),
            meetings=tuple(Meeting(tuple(f), tuple(a), anc, share) for f, a, anc, share in t.get("meetings", ())),
        )
    if version < 2:  # format 1 stored rows without a parent per parent row
        for tm in tables.values():
            fk = next((f for f in schema.table(tm.key).foreign_keys if fk_id(tm.key, f) == tm.primary), None)
            if fk is not None and tm.null_parent_rate:
                orphans = tm.null_parent_rate * tables[fk.referred].rows
                tables[tm.key] = replace(tm, null_parent_rate=min(orphans / max(tm.rows, 1), 0.95))
    params = doc["params"]
    eps = params["epsilon"]
    privacy = doc.get("privacy")
    return Model(schema=schema, tables=tables, epsilon=math.inf if eps == "inf" else float(eps),
                 k=params["k"], privacy=None if privacy is None else Accountant.from_json(privacy),
                 public=tuple(params.get("public", ())), unit=params.get("unit"),
                 unit_proposed=params.get("unit_proposed"), cap=int(params.get("cap", 5)),
                 holdout=float(params.get("holdout", 0.0)), seed=int(params.get("seed", 0)))
