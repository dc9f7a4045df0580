"""dbsynth: seed relational databases with synthetic data that behaves like production.

The library API mirrors the CLI: :func:`seed` runs the whole pipeline, :func:`inspect_database`
reflects and plans without writing.
"""

from dbsynth.errors import DbsynthError
from dbsynth.learn import fit
from dbsynth.model import Model
from dbsynth.model_io import load
from dbsynth.pipeline import Inspection, SeedResult, inspect_database, seed

__all__ = ["DbsynthError", "Inspection", "Model", "SeedResult", "fit", "inspect_database", "load", "seed"]
__version__ = "0.1.0"
