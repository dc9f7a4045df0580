"""The one interface every per-table generator implements (schema-only, Bayesian network, neural).

Public ``fit``/``sample`` validate their arguments and call ``_fit``/``_sample`` (SDV's template
methods), so each generator only writes the part that differs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from dbsynth.errors import UsageError
from dbsynth.schema.model import Table

__all__ = ["TableGenerator"]


class TableGenerator(ABC):
    """Makes the values of one table's own (non-foreign-key) columns."""

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
