"""Forecasting a published score from the own survey: intervals cover at their stated rate."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm

from surveyapp.analysis.forecast import back_test, forecast_official, rank_band


def _history(rng: np.random.Generator, years: int, se: float) -> tuple[np.ndarray, ...]:
    """Own estimates of a true score measured with error, and the published figure.

    The published figure follows the true score with a known relation (a = 3, b = 0.95) and
    its own noise (sd 0.8): the relation the forecast has to learn.
    """
    truth = rng.normal(80.0, 3.0, years + 1)
    own = truth + rng.normal(0.0, se, years + 1)
    official = 3.0 + 0.95 * truth + rng.normal(0.0, 0.8, years + 1)
    return own, official


@pytest.mark.parametrize(("years", "method"), [(8, "regression"), (3, "mean_difference")])
def test_prediction_intervals_cover_at_the_stated_rate(years: int, method: str) -> None:
    rng = np.random.default_rng(20261203)
    se, reps, covered = 1.0, 1500, 0
    for _ in range(reps):
        own, official = _history(rng, years, se)
        fc = forecast_official(own[:-1], [se] * years, official[:-1], own[-1], se)
        assert fc.method == method
        covered += fc.pi_low <= official[-1] <= fc.pi_high
    # 1500 replications: the binomial sd of the coverage is 0.0056.
    assert 0.93 <= covered / reps <= 0.97


def test_regression_matches_the_textbook_interval_when_precision_is_unchanged() -> None:
    rng = np.random.default_rng(7)
    own, official = _history(rng, 6, 1.0)
    fc = forecast_official(own[:-1], [1.0] * 6, official[:-1], own[-1], 1.0, level=0.9)
    fit = sm.OLS(official[:-1], sm.add_constant(own[:-1])).fit()
    frame = fit.get_prediction(np.array([[1.0, own[-1]]])).summary_frame(alpha=0.1)
    assert fc.estimate == pytest.approx(float(frame["mean"].iloc[0]), rel=1e-12)
    assert fc.pi_low == pytest.approx(float(frame["obs_ci_lower"].iloc[0]), rel=1e-9)
    assert fc.pi_high == pytest.approx(float(frame["obs_ci_upper"].iloc[0]), rel=1e-9)
    assert fc.df == 4


def test_a_less_precise_sample_this_year_widens_the_interval() -> None:
    rng = np.random.default_rng(11)
    own, official = _history(rng, 6, 1.0)
    usual = forecast_official(own[:-1], [1.0] * 6, official[:-1], own[-1], 1.0)
    noisy = forecast_official(own[:-1], [1.0] * 6, official[:-1], own[-1], 3.0)
    assert noisy.sampling_se > usual.sampling_se
    assert noisy.width > usual.width
    assert noisy.relation_se == pytest.approx(usual.relation_se)


def test_short_histories_fall_back_and_say_so() -> None:
    one = forecast_official([80.0], [1.2], [81.5], 82.0, 1.0)
    assert one.method == "one_difference"
    assert one.estimate == pytest.approx(83.5)
    assert one.se == pytest.approx(math.hypot(1.0, 1.2))
    none = forecast_official([], [], [], 82.0, 1.0)
    assert none.method == "no_history"
    assert none.relation_se == 0.0
    assert none.pi_high - none.pi_low == pytest.approx(2 * 1.959963984540054)
    # Missing years are skipped, not read as zeros.
    gap = forecast_official([80.0, math.nan], [1.0, 1.0], [81.0, 82.0], 82.0, 1.0)
    assert gap.method == "one_difference" and gap.n_history == 1


def test_rank_band_probability_reads_the_others_order_statistics() -> None:
    fc = forecast_official([], [], [], 80.0, 1.0)
    others = [90.0, 85.0, 81.0, 79.0, 70.0]  # the forecast sits between 81 and 79
    band = rank_band(fc, others, 4, 4)
    assert band.of == 6 and band.expected_rank == 4
    # rank 4 <=> 79 <= score < 81
    assert band.probability == pytest.approx(fc.cdf(81.0) - fc.cdf(79.0))
    everything = rank_band(fc, others, 1, 6)
    assert everything.probability == pytest.approx(1.0)
    top = rank_band(fc, others, 1, 1)
    assert top.probability == pytest.approx(1 - fc.cdf(90.0))
    with pytest.raises(ValueError):
        rank_band(fc, others, 3, 2)


def test_back_test_uses_only_earlier_years() -> None:
    years = [2020, 2021, 2022, 2023]
    own = [78.0, 79.0, 80.0, 81.0]
    official = [79.0, 80.5, 81.0, 82.5]
    rows = back_test(years[::-1], own[::-1], [1.0] * 4, official[::-1])
    assert [r.year for r in rows] == years
    assert [r.forecast.n_history for r in rows] == [0, 1, 2, 3]
    assert rows[1].forecast.estimate == pytest.approx(79.0 + 1.0)
    assert rows[0].forecast.method == "no_history"
    assert all(isinstance(r.covered, bool) for r in rows)
