"""dbsynth: seed relational databases with synthetic data that behaves like production.

The library API mirrors the CLI: :func:`seed` runs the whole pipeline, :func:`inspect_database`
reflects and plans without writing, :func:`fit` learns a :class:`Model`, :func:`save` and
:func:`load` keep it in a file, :func:`write_model` generates from it into a database and
:func:`sample` into DataFrames.
"""

from dbsynth.errors import DbsynthError
from dbsynth.learn import fit
from dbsynth.model import Model
from dbsynth.model_io import load, save
from dbsynth.pipeline import Inspection, SeedResult, inspect_database, sample, seed, synthesize, write_model

__all__ = ["DbsynthError", "Inspection", "Model", "SeedResult", "fit", "inspect_database", "load", "sample", "save",
           "seed", "synthesize", "write_model"]
__version__ = "0.1.0"
