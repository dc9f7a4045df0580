"""dbsynth: seed relational databases with synthetic data that behaves like production.

The library API mirrors the CLI: :func:`seed` runs the whole pipeline, :func:`inspect_database`
reflects and plans without writing, :func:`fit` learns a :class:`Model`, :func:`save` and
:func:`load` keep it in a file, :func:`write_model` generates from it into a database and
:func:`sample` into DataFrames.

The names are imported on first use (PEP 562): a Dask worker that imports
:mod:`dbsynth.partition` then loads the generation modules only, not learning, the report and
scipy.stats (58 MB less in each worker process).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dbsynth.errors import DbsynthError

if TYPE_CHECKING:
    from dbsynth.learn import fit
    from dbsynth.model import Model
    from dbsynth.model_io import load, save
    from dbsynth.pipeline import Inspection, SeedResult, inspect_database, sample, seed, synthesize, write_model

__all__ = ["DbsynthError", "Inspection", "Model", "SeedResult", "fit", "inspect_database", "load", "sample", "save",
           "seed", "synthesize", "write_model"]
__version__ = "0.1.0"

_WHERE = {"fit": "dbsynth.learn", "Model": "dbsynth.model", "load": "dbsynth.model_io", "save": "dbsynth.model_io",
          **dict.fromkeys(("Inspection", "SeedResult", "inspect_database", "sample", "seed", "synthesize",
                           "write_model"), "dbsynth.pipeline")}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'dbsynth' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
