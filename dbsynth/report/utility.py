"""Machine-learning utility, the other measure the field uses: train on synthetic, test on real (TSTR)
next to train on real, test on real (TRTR), per table, for one target column.

The model is scikit-learn's histogram gradient boosting (classifier for a category or boolean,
regressor for a number or date), on the table's scored columns (see
:func:`dbsynth.report.fidelity.sdtypes`) and those of every parent it references through a
relationship (``parent.column``: a payment's amount follows its rental's dates). The real rows are
split once, 70 % to train TRTR's model, 30 % held out; TSTR's model trains on the synthetic rows.
Both are scored on the held-out real rows: accuracy for a category, R² for a number. Without a
chosen target a table gets its most predictable category (the largest gain of TRTR's accuracy over
always answering the most common class). scikit-learn is the ``report`` extra.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dbsynth.errors import UsageError
from dbsynth.relational import fk_id, join_parent
from dbsynth.report.fidelity import relationships, scored_values, sdtypes
from dbsynth.schema.model import Schema

__all__ = ["Utility", "ml_utility"]

TEST_SHARE = 0.3
MAX_ROWS = 50_000  # rows a model trains on (sampled): the score settles long before
MIN_ROWS = 50
MAX_CLASSES = 50


@dataclass(frozen=True)
class Utility:
    table: str
    target: str
    metric: str  # "accuracy" or "R²"
    trtr: float
    tstr: float


def _learners() -> tuple[Any, Any]:
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    except ImportError:
        raise UsageError("the machine-learning utility needs scikit-learn: pip install 'dbsynth[report]'") from None
    return HistGradientBoostingClassifier, HistGradientBoostingRegressor


def _features(schema: Schema, frames: Mapping[str, pd.DataFrame], kinds: Mapping[str, Mapping[str, str]],
              table: str) -> pd.DataFrame:
    """The table's scored columns and its parents' (``child(fk).column``), as the fidelity report
    reads them (:func:`scored_values`: numbers and dates as floats, categories as text)."""
    parts = [scored_values(frames[table], kinds[table])]
    for child, fk in relationships(schema):
        if child.key == table and fk.referred in kinds:
            joined = join_parent(frames[table], frames[fk.referred], fk, list(kinds[fk.referred]))
            parts.append(scored_values(joined, kinds[fk.referred]).add_prefix(f"{fk_id(table, fk)}."))
    return pd.concat(parts, axis=1)


def _encode(train: pd.DataFrame, others: Sequence[pd.DataFrame]) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Categories as codes of the training set's values (unknown: NaN); returns the matrices and which
    columns are categorical (few enough values for the booster's categorical splits)."""
    mats = [np.empty((len(train), train.shape[1])), *(np.empty((len(o), train.shape[1])) for o in others)]
    categorical = np.zeros(train.shape[1], dtype=bool)
    for j, c in enumerate(train.columns):
        if train[c].dtype == object:
            levels = pd.Index(train[c].dropna().unique())
            categorical[j] = len(levels) < 250
            for m, frame in zip(mats, [train, *others], strict=True):
                codes = levels.get_indexer(frame[c]).astype(float)
                codes[codes < 0] = np.nan
                m[:, j] = codes
        else:
            for m, frame in zip(mats, [train, *others], strict=True):
                m[:, j] = frame[c].to_numpy(dtype=float)
    return mats[0], mats[1:], categorical


def _score(x_train: pd.DataFrame, y_train: pd.Series, x_test: pd.DataFrame, y_test: pd.Series, classify: bool,
           seed: int) -> float:
    classifier, regressor = _learners()
    useful = [c for c in x_train.columns if x_train[c].nunique() > 1]  # the booster cannot bin an empty column
    if not useful:
        return float("nan")
    xt, (xs,), categorical = _encode(x_train[useful], [x_test[useful]])
    keep = y_train.notna().to_numpy()
    if keep.sum() < 2:
        return float("nan")
    if classify:
        model = classifier(categorical_features=categorical, random_state=seed)
        model.fit(xt[keep], y_train[keep].astype(str).to_numpy())
        test = y_test.notna().to_numpy()
        return float((model.predict(xs[test]) == y_test[test].astype(str).to_numpy()).mean())
    model = regressor(categorical_features=categorical, random_state=seed)
    model.fit(xt[keep], y_train[keep].to_numpy(dtype=float))
    test = y_test.notna().to_numpy()
    return float(model.score(xs[test], y_test[test].to_numpy(dtype=float)))


def ml_utility(schema: Schema, real: Mapping[str, pd.DataFrame], synth: Mapping[str, pd.DataFrame],
               targets: Sequence[str] = (), *, seed: int = 0) -> list[Utility]:
    """TSTR and TRTR for ``targets`` (``table.column``), or for every table's most predictable category."""
    kinds, _ = sdtypes(schema, {k: v for k, v in real.items() if k in synth})
    chosen: dict[str, str | None] = {}
    for target in targets:
        name, _, col = target.rpartition(".")
        key = schema.resolve(name) if name else ""
        if key not in kinds or col not in kinds[key]:
            raise UsageError(f"--target-column {target}: not a scored column (table.column) of the real database")
        chosen[key] = col
    if not targets:
        chosen = dict.fromkeys((t for t in kinds if len(real[t]) >= MIN_ROWS and kinds[t]), None)
    rng = np.random.default_rng(seed)
    out = []
    for table, column in chosen.items():
        xr, xs = _features(schema, real, kinds, table), _features(schema, synth, kinds, table)
        order = rng.permutation(len(xr))[:MAX_ROWS]
        cut = int(len(order) * (1 - TEST_SHARE))
        train, test = order[:cut], order[cut:]
        synth_rows = rng.permutation(len(xs))[:MAX_ROWS]
        candidates = [column] if column else [
            c for c, k in kinds[table].items() if k in ("categorical", "boolean")
            and 2 <= xr[c].nunique() <= MAX_CLASSES]
        best: Utility | None = None
        gain = -np.inf
        for name in candidates:
            classify = kinds[table][name] in ("categorical", "boolean")
            features = [c for c in xr.columns if c != name]
            if not features:
                continue
            y = xr[name]
            trtr = _score(xr.iloc[train][features], y.iloc[train], xr.iloc[test][features], y.iloc[test],
                          classify, seed)
            base = y.iloc[test].value_counts(normalize=True).iloc[0] if classify and len(test) else 0.0
            if column is None and not trtr - base > gain:
                continue
            gain = trtr - base
            tstr = _score(xs.iloc[synth_rows][features], xs[name].iloc[synth_rows], xr.iloc[test][features],
                          y.iloc[test], classify, seed)
            best = Utility(table, name, "accuracy" if classify else "R²", trtr, tstr)
        if best is not None:
            out.append(best)
    return out
