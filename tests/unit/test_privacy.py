"""The mechanisms' noise matches their parameters; the accountant composes as zCDP says."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dbsynth.errors import DbsynthError
from dbsynth.privacy import release
from dbsynth.privacy.accountant import Accountant, eps_from_rho, rho_from_eps
from dbsynth.privacy.budget import TableBudget
from dbsynth.privacy.mechanisms import exponential, gaussian, gaussian_sigma

N = 50_000


@pytest.mark.parametrize(("sens", "rho"), [(1.0, 0.5), (5.0, 0.01), (30.0, 2.0)])
def test_gaussian_variance_matches_closed_form(sens: float, rho: float) -> None:
    """OpenDP's discrete Gaussian: whole numbers around the counts, variance σ² = Δ²/(2ρ) (to well
    under 1% for σ ≥ 1), and draws that no seed reproduces."""
    counts = np.full(N, 7.0)
    draws = gaussian(counts, sens, rho) - counts
    expected = sens**2 / (2 * rho)
    assert np.array_equal(draws, np.rint(draws))
    assert abs(draws.var() / expected - 1) < 0.03
    assert abs(draws.mean()) < 4 * math.sqrt(expected / N)
    assert gaussian_sigma(sens, rho) == pytest.approx(math.sqrt(expected))
    assert not np.array_equal(gaussian(counts[:50], sens, rho), gaussian(counts[:50], sens, rho))


def test_exponential_mechanism_frequencies_match_softmax() -> None:
    scores = np.array([0.0, 1.0, 2.0, 4.0])
    rho, sens = 0.5, 1.0
    picks = np.bincount([exponential(scores, sens, rho) for _ in range(10_000)], minlength=4) / 10_000
    eps = math.sqrt(8 * rho)
    weights = np.exp(eps * scores / (2 * sens))
    assert np.abs(picks - weights / weights.sum()).max() < 0.02


@given(st.floats(0.01, 20), st.sampled_from([1e-5, 1e-6, 1e-9]))
def test_rho_and_epsilon_convert_both_ways(eps: float, delta: float) -> None:
    rho = rho_from_eps(eps, delta)
    assert eps_from_rho(rho, delta) == pytest.approx(eps, rel=1e-9)


def test_composition_adds_rho_and_never_exceeds_the_budget() -> None:
    acc = Accountant(1.0, 1e-6)
    k = 10
    for i in range(k):
        acc.spend("t", f"q{i}", "gaussian", acc.total_rho / k, sensitivity=1, scale=1)
    # k Gaussian releases of ρ each compose to kρ, whose (ε, δ) is exactly the budget
    assert acc.spent_rho == pytest.approx(acc.total_rho)
    assert acc.spent_epsilon == pytest.approx(1.0)
    with pytest.raises(DbsynthError, match="budget exhausted"):
        acc.spend("t", "one more", "gaussian", 1e-6, sensitivity=1, scale=1)
    assert Accountant.from_json(acc.to_json()).spent_rho == pytest.approx(acc.spent_rho)


def test_date_domain_releases_no_empty_cells() -> None:
    """Fifty dates in one quarter with noise far above their count: over 1,000 fits, the released
    bins lie away from the data (an empty grid cell passed the floor) in at most 75, the same 7.5 %
    as 15 in 200 — the floor allows about 5% per fit (5.8 % over 1,000 fits), and at 200 fits that
    count passed 15 in about one run of ten (17 and 18 in three CI-sized runs of this stop); a plain
    3σ floor failed in about two fits of three."""
    import numpy as np
    import pandas as pd

    from dbsynth.generators.dp_domain import dp_discretizer

    dates = pd.Series(pd.date_range("2010-01-01", periods=50, freq="D"))
    start, end = pd.Timestamp("2010-01-01").timestamp(), pd.Timestamp("2010-04-01").timestamp()
    stray = 0
    for seed in range(1000):
        budget = TableBudget(Accountant(1.0, 1e-6), "t", 0.001, {"d": 10.0}, np.random.default_rng(seed))
        d = dp_discretizer(dates, "datetime", labels=None, node="d", budget=budget, parts=1)
        if d.kind == "bins" and (d.edges[0] < start or d.edges[-1] > end):
            stray += 1
    assert stray <= 75


def test_decimal_domain_keeps_repeated_prices() -> None:
    """Prices at 0.99 and 1.99: the refined histogram finds the cent each lies on, so decoding gives
    those prices back instead of values spread over the grid cells [0.7, 1) and [1.5, 2)."""
    import numpy as np
    import pandas as pd

    from dbsynth.generators.dp_domain import dp_discretizer

    prices = pd.Series([0.99] * 2000 + [1.99] * 300)
    # the noise is OpenDP's and unseeded: at this ρ the refined cells' floor (≈ 90 rows) lies far
    # under the 300 prices at 1.99 (at ρ = 0.05, ≈ 275, a third of the fits lost them)
    budget = TableBudget(Accountant(5.0, 1e-6), "t", 0.5, {"p": 5.0}, np.random.default_rng(3))
    d = dp_discretizer(prices, "decimal:2", labels=None, node="p", budget=budget, parts=1)
    # both prices' cents are found; by design an empty histogram lets about one fit in twenty keep
    # one noise-born cell besides them
    assert {(0.99, 1.0), (1.99, 2.0)} <= set(d.spans) and len(d.spans) <= 3
    low, high = d.spans.index((0.99, 1.0)), d.spans.index((1.99, 2.0))
    decoded = d.decode(np.array([low, low, high, high, high]), np.random.default_rng(0))
    assert decoded.tolist() == [0.99, 0.99, 1.99, 1.99, 1.99]
    assert sum(e.rho for e in budget.accountant.entries) == pytest.approx(0.5 * 0.2)  # the domain share


@pytest.mark.parametrize(("values", "unit"), [
    (np.repeat([3, 4, 5, 6, 7], 400), "int"),  # found as values in half the domain share
    (np.arange(2_000), "int"),  # on the grid: the whole share
    (np.repeat([0.99, 2.99, 4.99], 700), "decimal:2"),
    (np.linspace(0.0, 50.0, 2_000).round(2), "decimal:2"),  # grid, then its refined cells
    (np.array([], dtype=float), "decimal:2"),  # no cell kept: the refined quarter is never spent
])
def test_a_table_spends_its_whole_share_whatever_its_domains_turn_out(values: np.ndarray, unit: str) -> None:
    """What a domain did not need goes to the table's structure and CPTs, released afterwards: the
    ledger's domain entries plus the other parts' ρ is the table's ρ (a fit of Pagila at ε = 5
    spent 4.94 when payment.amount's values were found in half the domain share)."""
    import pandas as pd

    from dbsynth.generators.dp_domain import dp_discretizer

    budget = TableBudget(Accountant(5.0, 1e-6, thresholds=1), "t", 0.5, {"x": 5.0}, np.random.default_rng(3))
    budget.use(["scalars", "domain", "structure", "cpt"])
    dp_discretizer(pd.Series(values), unit, labels=None, node="x", budget=budget, parts=1, rows=max(len(values), 1))
    spent = sum(e.rho for e in budget.accountant.entries)
    assert 0 < spent <= budget.part("domain") * (1 + 1e-9)
    later = sum(budget.part(k) for k in ("scalars", "structure", "cpt"))
    assert spent + later == pytest.approx(0.5, rel=1e-9)


def test_swamped_rates_are_zero() -> None:
    """A NULL rate whose noisy count lies within 2σ of none is 0 (post-processing): clipping at 0
    alone gave a random rate in one fit of two where σ swamps the rows (60 rows, σ > 50). Over 400
    fits at most 20 keep a rate (2.3% expected). A count far above the noise keeps its rate."""
    from dbsynth.privacy.release import ScalarShare

    kept = 0
    for seed in range(400):
        budget = TableBudget(Accountant(1.0, 1e-6), "t", 1e-4, {"c": 1.0}, np.random.default_rng(seed))
        scalars = ScalarShare(budget, 1.0, 3)
        assert scalars.sigma > 50
        kept += scalars.rate(0, 60, "nulls a") > 0
        assert scalars.rate(50_000, 100_000, "nulls b") == pytest.approx(0.5, abs=5 * scalars.sigma / 100_000)
    assert kept <= 20


def test_thresholded_releases_share_half_of_delta() -> None:
    """Planned thresholded releases split δ/2 between them; the other half converts ρ to ε. One
    release more than planned is refused, and the split survives the model file."""
    acc = Accountant(1.0, 1e-6, thresholds=4)
    assert acc.total_rho == pytest.approx(rho_from_eps(1.0, 5e-7))
    for i in range(4):
        acc.spend("t", f"domain c{i}", "gaussian, thresholded", 1e-3, sensitivity=1, scale=1,
                  delta=acc.threshold_delta)
    assert acc.spent_delta == pytest.approx(1e-6)
    with pytest.raises(DbsynthError, match="δ exhausted"):
        acc.spend("t", "domain c5", "gaussian, thresholded", 1e-3, sensitivity=1, scale=1, delta=acc.threshold_delta)
    again = Accountant.from_json(acc.to_json())
    assert again.thresholds == 4 and again.spent_delta == pytest.approx(1e-6)
    plain = Accountant(1.0, 1e-6)
    assert plain.threshold_delta == 0 and plain.total_rho == pytest.approx(rho_from_eps(1.0, 1e-6))


@given(st.floats(1e-12, 0.4))
def test_upper_z_inverts_the_normal_tail(p: float) -> None:
    from dbsynth.privacy.release import upper_z

    assert 0.5 * math.erfc(upper_z(p) / math.sqrt(2)) == pytest.approx(p, rel=1e-6)


@pytest.mark.parametrize(("sens", "sigma"), [(1.0, 0.5), (1.0, 3.0), (5.0, 2.0), (25.0, 40.0)])
def test_threshold_bounds_a_units_own_values(sens: float, sigma: float) -> None:
    """Values only one unit holds, Δ rows in all: the chance that any of them clears τ is at most δ_t,
    in closed form (every split of the Δ rows) and empirically with a δ_t large enough to measure;
    a value of 3Δ rows or fewer never clears it."""
    from dbsynth.privacy.release import threshold

    def tail(x: float) -> float:
        return 0.5 * math.erfc(x / (sigma * math.sqrt(2)))

    for delta_t in (1e-7, 0.3):
        tau = threshold(sens, sigma, delta_t)
        assert tau > 3 * sens
        d = int(sens)
        for parts in {1, d, max(d // 2, 1)}:  # Δ rows over `parts` values
            rows = [d // parts] * parts
            assert sum(tail(tau - c) for c in rows) <= delta_t * (1 + 1e-9)
    rng = np.random.default_rng(0)
    tau = threshold(sens, sigma, 0.3)
    own = int(sens) * np.ones((200_000, 1)) + rng.normal(0, sigma, (200_000, 1))
    assert (own > tau).any(axis=1).mean() <= 0.3


def test_number_domains_stay_inside_the_type() -> None:
    """A smallint column under noise far above its counts: over 400 fits no released bin leaves
    [-32768, 32767] (a noise-born cell at -10⁸ once failed the write), while without the type's range
    some do (about one fit in forty; none in 400 has odds of 1 in 20,000)."""
    import pandas as pd

    from dbsynth.generators.dp_domain import dp_discretizer

    values = pd.Series(np.arange(100) % 50 + 60)
    outside = {True: 0, False: 0}
    for seed in range(400):
        for bounded in (True, False):
            budget = TableBudget(Accountant(1.0, 1e-6), "t", 1e-5, {"n": 5.0}, np.random.default_rng(seed))
            d = dp_discretizer(values, "int", labels=None, node="n", budget=budget, parts=1,
                               bounds=(-32768.0, 32767.0, 1.0) if bounded else None)
            if d.kind == "bins" and (d.edges[0] < -32768 or d.edges[-1] > 32768):
                outside[bounded] += 1
    assert outside[True] == 0 and outside[False] > 0


def test_date_and_check_domains_stay_inside_what_the_schema_allows() -> None:
    """A MySQL ``timestamp`` holds 1970–2038 and a CHECK bounds a score: read from the schema
    (``schema_bounds``), they keep every released bin inside over 200 fits at a tiny ρ, where noise-born
    cells in 1900–2100 and beyond the CHECK show up without them (a 1907 bin once failed a write)."""
    import pandas as pd

    from dbsynth.generators.dp_domain import dp_discretizer, schema_bounds
    from dbsynth.rules.checks import compile_check
    from dbsynth.rules.domains import column_domains
    from dbsynth.schema.model import Column, ColumnType, Table, TypeKind

    table = Table(None, "event", (Column("logged_at", ColumnType(TypeKind.DATETIME, "timestamp"), False),
                                  Column("score", ColumnType(TypeKind.INTEGER, "int", bits=32), False)))
    check = compile_check("c", "score BETWEEN 0 AND 100", dialect="mysql", columns=["logged_at", "score"])
    bounds = schema_bounds(table, "mysql", column_domains([check]))
    assert bounds["score"] == (0.0, 100.0, 1.0) and bounds["logged_at"][:2] == (1.0, 2**31 - 1.0)
    assert "logged_at" not in schema_bounds(table, "postgresql", {})  # a PostgreSQL timestamp holds more
    data = {"logged_at": (pd.Series(pd.date_range("2001-01-01", periods=300, freq="7D")), "datetime"),
            "score": (pd.Series(np.arange(300) % 90 + 5), "int")}
    outside = {(c, b): 0 for c in data for b in (True, False)}
    for seed in range(200):
        for col, (values, unit) in data.items():
            for bounded in (True, False):
                budget = TableBudget(Accountant(1.0, 1e-6), "t", 1e-5, {col: 5.0}, np.random.default_rng(seed))
                d = dp_discretizer(values, unit, labels=None, node=col, budget=budget, parts=1,
                                   bounds=bounds[col] if bounded else None)
                lo, hi, step = bounds[col]
                if d.kind == "bins" and (d.edges[0] < lo or d.edges[-1] > hi + step):
                    outside[(col, bounded)] += 1
    assert outside[("logged_at", True)] == outside[("score", True)] == 0
    assert outside[("logged_at", False)] > 0 and outside[("score", False)] > 0


def test_a_number_column_of_few_values_keeps_them() -> None:
    """Rental durations of 3 to 7 days (2,000 rows each) come back as those five values, where the
    grid's bins spread them over [3, 5) and [5, 7); lengths over 1,000 distinct values still get bins;
    a value that did not clear the threshold is encoded as its nearest neighbour, not as the first."""
    import pandas as pd

    from dbsynth.generators.dp_domain import dp_discretizer

    def fitted(values: pd.Series) -> object:
        budget = TableBudget(Accountant(5.0, 1e-6, thresholds=1), "t", 0.05, {"n": 1.0}, np.random.default_rng(0))
        return dp_discretizer(values, "int", labels=None, node="n", budget=budget, parts=1, rows=float(len(values)))

    days = fitted(pd.Series(np.repeat([3, 4, 5, 6, 7], 2000)))
    assert days.kind == "values" and days.values == (3, 4, 5, 6, 7)
    assert days.encode(pd.Series([5, 9, 1, None])).tolist() == [2, 4, 0, days.null_state]
    assert fitted(pd.Series(np.arange(10_000) % 1000)).kind == "bins"


@pytest.mark.parametrize(("highest", "kept"), [(3.5, [3.5]), (2.5, [2.5]), (2.1, [2.1]), (1.2, [])])
def test_a_count_floor_no_bin_clears_steps_down_to_two_sigma(
        monkeypatch: pytest.MonkeyPatch, highest: float, kept: list[float]) -> None:
    """Noisy counts (given here, in σ) under a 3σ floor: a bin over 2σ is kept when none clears 3σ,
    rather than the CPT going uniform over the domain (a count node's empty bins are most of it);
    under 2σ nothing is told from noise and it does."""
    monkeypatch.setattr(release, "gaussian", lambda counts, sens, rho: counts.copy())
    budget = TableBudget(Accountant(1.0, 1e-6), "t", 0.01, {"n": 1.0}, np.random.default_rng(0))
    sigma = gaussian_sigma(1.0, budget.part("cpt", 1))
    in_sigma = np.array([0.0] * 12 + [highest, 0.8, 0.3])
    cpt = release.dp_cpt((in_sigma * sigma)[None, :], 1.0, budget, "cpt #n", 1, floor=3.0, lowest=2.0)[0]
    expected = np.where(np.isin(in_sigma, kept), in_sigma, 0.0) if kept else np.ones(len(in_sigma))
    np.testing.assert_allclose(cpt, expected / expected.sum())
