"""Forecasting a published index score from the province's own survey.

A province's own SIPAS-style survey and the Ministry's published SIPAS measure the same thing
with different samples, questionnaires and aggregation, so the published figure is the own
estimate plus a relation learnt from past years:

``official_t = a + b · own_t + e_t``,  ``e_t ~ N(0, τ²)``.

The forecast for the coming publication carries both sources of uncertainty: the sampling
error of this year's own estimate (``b² · se_own²``) and the uncertainty of the own-to-official
relation (the regression's prediction variance, coefficients included). With few years of
history the regression cannot be fitted honestly, and the method falls back to simpler models
that it names (:data:`METHODS`), saying what the interval then leaves out.

The rank band of a forecast is read off the other provinces' published scores: the rank is one
plus the number of provinces scoring higher, so ``P(lo <= rank <= hi)`` is the forecast's
predictive probability of landing between two order statistics of the others' scores.

References
----------
Kutner, M. H., Nachtsheim, C. J., Neter, J. & Li, W. (2005). *Applied Linear Statistical
    Models*, 5th ed., §2.5 (prediction of a new observation).
Fuller, W. A. (1987). *Measurement Error Models*, ch. 1 (a regressor measured with error).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .ci import quantile
from .dist import norm_cdf, t_cdf

#: How a forecast was made, from the most to the least history it needs.
#: ``regression``: OLS of official on own over the past years (≥ ``min_regression_years``),
#: prediction interval for a new observation plus this year's sampling error.
#: ``mean_difference``: official = own + the mean past difference; the spread of the
#: differences (t on n − 1 df) plus this year's sampling error (2 or more years).
#: ``one_difference``: official = own + the one past difference; its spread is unknown, so the
#: interval adds only that year's and this year's sampling errors (a lower bound on the width).
#: ``no_history``: official = own; the interval is the sampling error alone and says nothing of
#: the own-to-official difference.
METHODS = ("regression", "mean_difference", "one_difference", "no_history")


@dataclass(frozen=True)
class Forecast:
    """The forecast of one published figure.

    Attributes
    ----------
    estimate, se
        Predicted official value and the standard error of the prediction.
    pi_low, pi_high
        Prediction interval at ``level``: where the official figure should fall.
    df
        Degrees of freedom of the t reference (``inf`` for the normal).
    method
        One of :data:`METHODS`.
    n_history
        Past years used.
    sampling_se
        This year's own-survey sampling error, as it enters the forecast (× slope).
    relation_se
        Uncertainty of the own-to-official relation alone (0 when it is unknown).
    intercept, slope
        The fitted relation (slope 1 for the difference methods).
    """

    estimate: float
    se: float
    pi_low: float
    pi_high: float
    level: float
    df: float
    method: str
    n_history: int
    sampling_se: float
    relation_se: float
    intercept: float
    slope: float

    @property
    def width(self) -> float:
        return self.pi_high - self.pi_low

    def cdf(self, x: float) -> float:
        """Predictive probability that the official figure is at most ``x``."""
        if not self.se > 0:
            return 1.0 if x >= self.estimate else 0.0
        z = (x - self.estimate) / self.se
        return norm_cdf(z) if math.isinf(self.df) else t_cdf(z, self.df)


def _finite_history(
    own: Sequence[float], own_se: Sequence[float], official: Sequence[float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    o = np.asarray(own, dtype=float)
    s = np.asarray(own_se, dtype=float)
    y = np.asarray(official, dtype=float)
    if not (o.shape == s.shape == y.shape) or o.ndim != 1:
        raise ValueError("own, own_se and official must be 1-d arrays of one length")
    keep = np.isfinite(o) & np.isfinite(y)
    s = np.where(np.isfinite(s), s, 0.0)
    return o[keep], s[keep], y[keep]


def forecast_official(
    own: Sequence[float],
    own_se: Sequence[float],
    official: Sequence[float],
    own_now: float,
    own_se_now: float,
    *,
    level: float = 0.95,
    min_regression_years: int = 4,
) -> Forecast:
    """Forecast the published figure from this year's own estimate and past pairs.

    Parameters
    ----------
    own, own_se, official
        Past years' own estimates, their standard errors and the published figures, aligned
        (a year missing either value is skipped).
    own_now, own_se_now
        This year's own estimate and its standard error (design-based).
    level
        Coverage of the prediction interval.
    min_regression_years
        Fewest past years for the regression; below it a difference method is used. With
        fewer than 4 years a two-parameter fit leaves at most one residual degree of freedom,
        and the interval it gives is too wide to be of use or, with 2 years, undefined.

    Returns
    -------
    Forecast
    """
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    if not (math.isfinite(own_now) and math.isfinite(own_se_now) and own_se_now >= 0):
        raise ValueError("this year's own estimate and its standard error must be finite")
    o, s, y = _finite_history(own, own_se, official)
    n = int(o.size)
    if n >= max(min_regression_years, 3) and float(np.ptp(o)) > 0:
        return _regression(o, s, y, own_now, own_se_now, level)
    if n >= 2:
        d = y - o
        spread = float(np.var(d, ddof=1))
        # A new difference varies like the past ones (which hold the past samples' errors)
        # and their mean is itself estimated; a sample more or less precise than past ones
        # this year moves the variance by the change in sampling variance.
        change = own_se_now**2 - float(np.mean(s**2))
        total = spread * (1 + 1 / n) + change
        if change < 0:  # never below what this year's sample alone leaves
            total = max(total, spread / n + own_se_now**2)
        relation_var = total - own_se_now**2
        shift = float(d.mean())
        return _assemble(
            own_now + shift, own_se_now, relation_var, n - 1, level, "mean_difference", n, shift
        )
    if n == 1:
        shift = float(y[0] - o[0])
        # One difference has no spread to learn from; it carries at least that year's own
        # sampling error, which is all the interval can add.
        return _assemble(
            own_now + shift,
            own_se_now,
            float(s[0]) ** 2,
            math.inf,
            level,
            "one_difference",
            1,
            shift,
        )
    return _assemble(own_now, own_se_now, 0.0, math.inf, level, "no_history", 0, 0.0)


def _assemble(
    estimate: float,
    sampling_se: float,
    relation_var: float,
    df: float,
    level: float,
    method: str,
    n: int,
    intercept: float,
    slope: float = 1.0,
) -> Forecast:
    se = math.sqrt(max(sampling_se**2 + relation_var, 0.0))
    q = quantile(level, df)
    return Forecast(
        estimate=estimate,
        se=se,
        pi_low=estimate - q * se,
        pi_high=estimate + q * se,
        level=level,
        df=df,
        method=method,
        n_history=n,
        sampling_se=sampling_se,
        relation_se=math.sqrt(max(relation_var, 0.0)),
        intercept=intercept,
        slope=slope,
    )


def _regression(
    o: np.ndarray, s: np.ndarray, y: np.ndarray, own_now: float, own_se_now: float, level: float
) -> Forecast:
    # Imported here: statsmodels takes ~1 s to import, and every process that loads the
    # web application would pay it; only a forecast with enough history needs it.
    import statsmodels.api as sm

    fit = sm.OLS(y, sm.add_constant(o, has_constant="add")).fit()
    frame = fit.get_prediction(np.array([[1.0, own_now]])).summary_frame(alpha=1 - level)
    estimate = float(frame["mean"].iloc[0])
    slope = float(fit.params[1])
    # The prediction variance of a new observation (Kutner et al. §2.5) is the residual
    # variance plus the fitted mean's. The residuals already hold the past own estimates'
    # sampling errors passed through the slope (Fuller 1987 ch. 1), so when this year's sample
    # is as precise as past ones that is the whole interval; a more or less precise sample
    # moves it by the change in sampling variance. ``relation_se`` is what remains once this
    # year's sampling error (``sampling_se``) is taken out.
    mean_var = float(frame["mean_se"].iloc[0]) ** 2
    sampling_var = slope**2 * own_se_now**2
    change = sampling_var - slope**2 * float(np.mean(s**2))
    total = float(fit.scale) + mean_var + change
    if change < 0:  # never below what this year's sample alone leaves
        total = max(total, mean_var + sampling_var)
    relation_var = total - sampling_var
    return _assemble(
        estimate,
        abs(slope) * own_se_now,
        relation_var,
        float(fit.df_resid),
        level,
        "regression",
        int(o.size),
        float(fit.params[0]),
        slope,
    )


@dataclass(frozen=True)
class RankBand:
    """Where the forecast falls among the other provinces.

    Attributes
    ----------
    probability
        Predictive probability that the rank is within ``[low, high]``.
    low, high
        The band, as ranks out of ``of`` (1 = best).
    of
        Number of provinces ranked (the others plus this one).
    expected_rank
        Rank of the point forecast among the others.
    """

    probability: float
    low: int
    high: int
    of: int
    expected_rank: int


def rank_band(forecast: Forecast, others: Sequence[float], low: int, high: int) -> RankBand:
    """Probability that the published rank lands in ``[low, high]``.

    The rank of a score ``x`` is ``1 + #{others > x}``, so it lies in ``[low, high]`` exactly
    when ``x`` is at least the ``high``-th best of the others and below the ``(low-1)``-th best
    (ties counted in the province's favour). The others' scores are taken as known: they are
    the latest published table, the only distribution a rank can be forecast against before
    publication.

    Parameters
    ----------
    forecast
        The predictive distribution of this province's score.
    others
        The other provinces' scores on the same index and scale.
    low, high
        The band (1-based, ``low <= high``), e.g. 20 and 30 for "xếp thứ 20–30/63".
    """
    scores = np.sort(np.asarray([x for x in others if math.isfinite(x)], dtype=float))[::-1]
    of = int(scores.size) + 1
    if not 1 <= low <= high:
        raise ValueError("a rank band needs 1 <= low <= high")
    low, high = min(low, of), min(high, of)
    upper = math.inf if low == 1 else float(scores[low - 2])
    lower = -math.inf if high >= of else float(scores[high - 1])
    p_upper = 1.0 if math.isinf(upper) else _below(forecast, upper)
    p_lower = 0.0 if math.isinf(lower) else _below(forecast, lower)
    expected = 1 + int(np.sum(scores > forecast.estimate))
    return RankBand(
        probability=max(0.0, p_upper - p_lower), low=low, high=high, of=of, expected_rank=expected
    )


def _below(forecast: Forecast, x: float) -> float:
    """P(score < x): a score equal to another province's shares its (better) rank."""
    return forecast.cdf(x)


@dataclass(frozen=True)
class BackTestRow:
    """What the method would have forecast for a past year, and where the figure fell."""

    year: int
    official: float
    forecast: Forecast

    @property
    def covered(self) -> bool:
        return self.forecast.pi_low <= self.official <= self.forecast.pi_high

    @property
    def error(self) -> float:
        return self.official - self.forecast.estimate


def back_test(
    years: Sequence[int],
    own: Sequence[float],
    own_se: Sequence[float],
    official: Sequence[float],
    *,
    level: float = 0.95,
    min_regression_years: int = 4,
) -> list[BackTestRow]:
    """Forecast each past year from the years before it only.

    Years are taken in order; a year is forecast when it has both an own estimate and a
    published figure, using every earlier year that has both.
    """
    order = np.argsort(np.asarray(years))
    ys = [int(years[i]) for i in order]
    o = [float(own[i]) for i in order]
    s = [float(own_se[i]) for i in order]
    y = [float(official[i]) for i in order]
    rows = []
    for k, year in enumerate(ys):
        if not (math.isfinite(o[k]) and math.isfinite(y[k]) and math.isfinite(s[k])):
            continue
        fc = forecast_official(
            o[:k], s[:k], y[:k], o[k], s[k], level=level, min_regression_years=min_regression_years
        )
        rows.append(BackTestRow(year=year, official=y[k], forecast=fc))
    return rows
