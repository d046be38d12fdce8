"""The desk alert rules (issue 14 §3): false-alarm rate and detection delay by simulation."""

from __future__ import annotations

from datetime import date

from surveyapp.analysis.alerts import (
    CusumRule,
    cusum_update,
    is_working_day,
    simulate,
    volume_collapsed,
)

MONTH = 440  # ratings in a desk-month of 20 per working day


def test_false_alarm_rate_per_desk_month_at_the_standard() -> None:
    at_standard = simulate(0.80, MONTH, runs=4000, seed=20261203)
    assert 0.005 <= at_standard.alarm_rate <= 0.03, at_standard
    above = simulate(0.90, MONTH, runs=4000, seed=20261204)
    assert above.alarm_rate < 0.001, above


def test_a_fall_to_65_percent_good_is_detected_within_about_a_hundred_ratings() -> None:
    fallen = simulate(0.65, MONTH, runs=4000, seed=20261205)
    assert fallen.alarm_rate > 0.99
    assert fallen.median_delay is not None and 60 <= fallen.median_delay <= 130


def test_an_alert_opens_once_and_closes_when_the_statistic_resets() -> None:
    rule = CusumRule()
    step = cusum_update(0.0, False, [False] * 13, rule)  # 13 × 0.560 = 7.28 ≥ 7
    assert step.opened and step.open
    again = cusum_update(step.statistic, step.open, [False] * 5, rule)
    assert not again.opened and again.open  # still open: not repeated
    recovered = cusum_update(again.statistic, again.open, [True] * 60, rule)
    assert recovered.statistic == 0.0 and not recovered.open and not recovered.opened
    assert not cusum_update(0.0, False, [False] * 12, rule).open  # 6.72 < 7


def test_volume_collapse_needs_a_usually_busy_day_without_ratings() -> None:
    assert volume_collapsed([25, 22, 30, 21, 24], 0)
    assert not volume_collapsed([25, 22, 30, 21, 24], 1)
    assert not volume_collapsed([5, 3, 8, 4, 6], 0)
    assert not volume_collapsed([30, 30], 0)  # too little history to know the usual
    assert is_working_day(date(2026, 12, 4)) and not is_working_day(date(2026, 12, 5))
