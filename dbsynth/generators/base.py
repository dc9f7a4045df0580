"""The one interface every per-table generator implements (schema-only, Bayesian network, neural).

Public ``fit``/``sample`` validate their arguments and call ``_fit``/``_sample`` (SDV's template
methods), so each generator only writes the part that differs. Generators are found through the
``dbsynth.generators`` entry points under their :attr:`TableGenerator.kind`; a model file names each
table's kind, and loading it looks the class up there (a plugin's model files load like ours).

``sample`` takes the parent attributes already lined up with the rows to make (``parent_context``,
one row per generated row) rather than parent rows and a count per parent: which parent each row
gets is decided before the generator runs, by the loop (the parent's own count nodes, ``--rows``,
the share of rows without a parent), and the same generator then serves resampling a few failing
rows with their own parents.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from dbsynth.errors import UsageError
from dbsynth.schema.model import Table

__all__ = ["TableGenerator"]


class TableGenerator(ABC):
    """Makes the values of one table's own (non-foreign-key) columns."""

    kind: ClassVar[str]  # its entry-point name in the ``dbsynth.generators`` group

    def __init__(self, table: Table) -> None:
        self.table = table

    @property
    @abstractmethod
    def columns(self) -> tuple[str, ...]:
        """The columns this generator produces."""

    def fit(self, frame: pd.DataFrame, *, context: pd.DataFrame | None = None, budget: Any = None) -> None:
        """Learn from the table's rows. ``context``: attributes of the referenced parent rows;
        ``budget``: ``None``/``inf`` for exact statistics, or the table's
        :class:`~dbsynth.privacy.budget.TableBudget` for differentially private ones."""
        self._fit(frame, context=context, budget=budget)

    def _fit(self, frame: pd.DataFrame, *, context: pd.DataFrame | None, budget: Any) -> None:
        return None

    def sample(self, n: int, *, rng: np.random.Generator, columns: Sequence[str] | None = None,
               parent_context: pd.DataFrame | None = None) -> pd.DataFrame:
        """``n`` rows of ``columns`` (default: all of :attr:`columns`)."""
        if n < 0:
            raise UsageError(f"cannot sample a negative number of rows ({n}) for {self.table.key}")
        wanted = tuple(columns) if columns is not None else self.columns
        unknown = set(wanted) - set(self.columns)
        if unknown:
            raise UsageError(f"{self.table.key}: generator does not make {sorted(unknown)}")
        return self._sample(n, rng=rng, columns=wanted, parent_context=parent_context)

    @abstractmethod
    def _sample(self, n: int, *, rng: np.random.Generator, columns: Sequence[str],
                parent_context: pd.DataFrame | None) -> pd.DataFrame: ...

    def to_json(self, arrays: dict[str, np.ndarray], prefix: str) -> dict[str, Any]:
        """What a model file stores of the fitted generator: JSON, with numpy arrays put in
        ``arrays`` under keys starting with ``prefix`` (never pickle)."""
        raise UsageError(f"{self.table.key}: the {self.kind} generator learns nothing to save")

    @classmethod
    def from_json(cls, table: Table, data: dict[str, Any], arrays: dict[str, np.ndarray]) -> TableGenerator:
        raise UsageError(f"the {cls.kind} generator cannot be loaded from a model file")
