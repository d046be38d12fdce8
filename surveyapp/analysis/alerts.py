"""Desk alerts: a one-sided Bernoulli CUSUM on a desk's own ratings, and a volume collapse rule.

The rating rule
---------------
Each rating is a Bernoulli trial: ``bad`` when it is not "good or very good". At the Đồng Nai
standard (80 % good) a rating is bad with probability ``p0 = 0.20``; the chart is tuned to
detect a fall to ``p1 = 0.35`` bad (65 % good). Each rating adds its log-likelihood ratio to

    S_t = max(0, S_{t-1} + w_t),  w_t = ln(p1/p0) if bad else ln((1 - p1)/(1 - p0))

(+0.560 for a bad rating, −0.208 for a good one). An alert **opens** when ``S_t >= h``
(``h = 7``) and stays open, without repeating, until ``S_t`` returns to 0 (the statistic
resets): the desk's recent ratings are then back in line with the standard.

False-alarm rate: for a desk sitting exactly at the standard (the worst case of a desk that
meets it) with 440 ratings a month (20 per working day), about 1.2 % of desk-months raise a
false alert; a desk at 90 % good practically never does, and a desk with fewer ratings less
often. A fall to 65 % good is detected after a median of 94 ratings (70 % good: 166, and in
93 % of desk-months). Both are checked
by simulation (tests/analysis/test_alert_rules.py, fixed seed; :func:`simulate`).

The same chart runs on a commune centre's desks pooled (services.alerts): with more ratings a
month the false-alarm rate per month grows — 1,320 ratings (three desks at 20 a working day)
exactly at the standard alarm in about 5 % of commune-months (two desks: about 3 %), at 90 %
good never; the detection delay in ratings is the desk's (tests/test_commune_alerts.py).

The volume rule
---------------
A working day (Monday to Friday, less the public holidays the installation lists) with no
rating at a desk whose median over its previous :data:`VOLUME_HISTORY` working days is at
least :data:`VOLUME_MIN_USUAL` ratings: the QR sheet or kiosk has likely stopped working. The
alert closes on the next working day with a rating.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

# The Đồng Nai plan's desk standard: more than 80 % of ratings "good or very good". The desk
# standard page, the bulletin and both alert levels (desk, commune) read it from here.
STANDARD = 0.80
P0 = round(1 - STANDARD, 10)  # bad-rating rate at the 80 % standard
P1 = 0.35  # bad-rating rate the chart is tuned to detect (65 % good)
THRESHOLD = 7.0
VOLUME_HISTORY = 20  # working days
VOLUME_MIN_USUAL = 20  # ratings on a usual working day


@dataclass(frozen=True)
class CusumRule:
    """The parameters of the Bernoulli CUSUM."""

    p0: float = P0
    p1: float = P1
    threshold: float = THRESHOLD

    @property
    def up(self) -> float:
        """Increment of a bad rating."""
        return math.log(self.p1 / self.p0)

    @property
    def down(self) -> float:
        """Increment of a good rating (negative)."""
        return math.log((1 - self.p1) / (1 - self.p0))


@dataclass(frozen=True)
class CusumStep:
    """Where a run of ratings leaves a desk's chart."""

    statistic: float
    opened: bool  # the alert opened during this run (and was closed before it)
    open: bool  # the alert is open after this run
    peak: float  # the largest statistic reached during this run


def cusum_update(
    statistic: float, was_open: bool, good: Sequence[bool], rule: CusumRule = CusumRule()
) -> CusumStep:
    """Feed a desk's new ratings, oldest first, to its chart.

    Parameters
    ----------
    statistic
        The desk's stored statistic before these ratings (0 for a new desk).
    was_open
        Whether the desk's rating alert is open.
    good
        For each new rating, whether it was "good or very good".
    rule
        The chart's parameters.

    Returns
    -------
    CusumStep
        The new statistic and the alert's state. ``opened`` is True when the alert opened
        during these ratings (it had been closed): only then are people told.
    """
    s = statistic
    is_open = was_open
    opened = False
    peak = s
    for g in good:
        s = max(0.0, s + (rule.down if g else rule.up))
        peak = max(peak, s)
        if is_open and s == 0.0:
            is_open = False
        elif not is_open and s >= rule.threshold:
            is_open = True
            opened = True
    return CusumStep(statistic=s, opened=opened, open=is_open, peak=peak)


def volume_collapsed(
    history: Sequence[int], day_count: int, min_usual: int = VOLUME_MIN_USUAL
) -> bool:
    """Whether a working day with ``day_count`` ratings is a volume collapse.

    Parameters
    ----------
    history
        Ratings on each of the desk's previous working days (up to :data:`VOLUME_HISTORY`).
    day_count
        Ratings on the working day checked.
    min_usual
        The median a desk must usually reach for a day without ratings to be alarming.

    Returns
    -------
    bool
        True when the day had no rating and the desk usually has at least ``min_usual``.
    """
    if day_count > 0 or len(history) < 5:
        return False
    return float(np.median(np.asarray(history, dtype=np.float64))) >= min_usual


def is_working_day(day: date, holidays: Collection[date] = frozenset()) -> bool:
    """Monday to Friday, except the given public holidays (the installation lists them:
    Vietnam's days off move every year)."""
    return day.weekday() < 5 and day not in holidays


@dataclass(frozen=True)
class Simulation:
    """Operating characteristics of a rule, estimated by simulation."""

    alarm_rate: float  # share of runs with at least one alert opening
    median_delay: float | None  # ratings until the first alert, among runs that alerted
    runs: int


def simulate(
    share_good: float,
    ratings: int,
    runs: int,
    seed: int,
    rule: CusumRule = CusumRule(),
) -> Simulation:
    """Run the chart on ``runs`` simulated desks of ``ratings`` ratings each.

    Parameters
    ----------
    share_good
        Probability that a simulated rating is good.
    ratings
        Ratings per simulated desk (440: a month of 20 per working day).
    runs
        Number of simulated desks.
    seed
        Seed of the random generator, so the figures are reproducible.
    rule
        The chart's parameters.

    Returns
    -------
    Simulation
        The share of desks whose alert opened, and the median number of ratings before it.
    """
    rng = np.random.default_rng(seed)
    bad: npt.NDArray[np.bool_] = rng.random((runs, ratings)) >= share_good
    steps = np.where(bad, rule.up, rule.down)
    s = np.zeros(runs)
    first = np.full(runs, -1, dtype=np.int64)
    for t in range(ratings):
        s = np.maximum(0.0, s + steps[:, t])
        hit = (s >= rule.threshold) & (first < 0)
        first[hit] = t + 1
    alarmed = first[first > 0]
    delay = float(np.median(alarmed)) if alarmed.size else None
    return Simulation(float(alarmed.size / runs), delay, runs)
