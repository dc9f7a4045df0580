"""The report's similarity scores stay in [0, 1] whatever the frequencies (SDMetrics' range)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from dbsynth.report.fidelity import pair_similarity, tvd_similarity

counts = st.lists(st.integers(1, 40), min_size=1, max_size=12)


def _column(prefix: str, sizes: list[int]) -> pd.Series:
    return pd.Series([f"{prefix}{i}" for i, n in enumerate(sizes) for _ in range(n)])


@given(counts, counts)
def test_disjoint_values_score_zero_never_below(real: list[int], synth: list[int]) -> None:
    """Nothing shared: the score is 0, not the -7e-17 that the summed frequencies gave (the demo
    printed inter-table trends of -0.000)."""
    assert 0.0 <= tvd_similarity(_column("r", real), _column("s", synth)) < 1e-12


@given(counts, counts)
def test_disjoint_pairs_score_zero_never_below(real: list[int], synth: list[int]) -> None:
    """The same for a pair's joint frequencies, where the real pair is associated (else no score)."""
    r = _column("r", real)
    real_pair = pd.DataFrame({"a": r, "b": r})  # b follows a: associated whenever a takes two values
    s = _column("s", synth)
    score = pair_similarity(real_pair, pd.DataFrame({"a": s, "b": s}), "a", "b", "categorical", "categorical")
    assert score != score or 0.0 <= score < 1e-12  # NaN: one real value, no association to score
