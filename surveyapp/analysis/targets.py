"""Target verdicts, comparisons, rank intervals, small-domain flags and sample-size planning."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .ci import quantile
from .dist import norm_cdf, t_cdf

VERDICTS = ("met", "not_met", "inconclusive")


def verdict(ci_low: float, ci_high: float, target: float) -> str | None:
    """``met`` if the CI lower bound >= target, ``not_met`` if the upper bound < target,
    else ``inconclusive`` (None when the interval is undefined)."""
    if not (math.isfinite(ci_low) and math.isfinite(ci_high)):
        return None
    if ci_low >= target:
        return "met"
    if ci_high < target:
        return "not_met"
    return "inconclusive"


def prob_meets(est: float, se: float, target: float, df: float, logit: bool = False) -> float:
    """Probability that the true value is at least ``target``, from the estimate's sampling
    distribution (t on ``df``; on the logit scale when the share CI is logit, consistent with
    the interval)."""
    if not (math.isfinite(est) and math.isfinite(se)):
        return math.nan
    if logit and 0 < est < 1 and 0 < target < 1:
        se_l = se / (est * (1 - est))
        lt = math.log(target / (1 - target))
        le = math.log(est / (1 - est))
        x = (lt - le) / se_l if se_l else 0.0
    elif se > 0:
        x = (target - est) / se
    else:
        return 1.0 if est >= target else 0.0
    if math.isinf(df):
        return norm_cdf(-x)
    return t_cdf(-x, df)


def n_to_decide(est: float, se: float, n: float, target: float, level: float, df: float) -> float:
    """Sample size at which the observed estimate's CI would just exclude ``target``, at the
    observed design effect (se^2 scales as 1/n): ``n * (t * se / |est - target|)^2``."""
    diff = abs(est - target)
    if not (math.isfinite(est) and math.isfinite(se)) or diff == 0 or n <= 0:
        return math.nan
    q = quantile(level, df)
    if not math.isfinite(q):
        # No degrees of freedom (e.g. one responding PSU in every stratum): no sample size
        # at this design gives an interval, so there is none to report.
        return math.nan
    return float(math.ceil(n * (q * se / diff) ** 2))


def small_domain(n: float, est: float, se: float, min_n: int = 30, max_cv: float = 0.2) -> bool:
    """Flag an estimate resting on fewer than ``min_n`` rows or with CV = se/est > ``max_cv``."""
    if n < min_n:
        return True
    if not (math.isfinite(est) and math.isfinite(se)) or est == 0:
        return True
    return se / abs(est) > max_cv


@dataclass(frozen=True)
class Difference:
    """A difference ``a - b`` with its standard error and t interval."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, float]:
        return {
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
        }


def difference(
    est_a: float,
    se_a: float,
    est_b: float,
    se_b: float,
    cov: float = 0.0,
    level: float = 0.95,
    df: float = math.inf,
) -> Difference:
    """Difference of two estimates. Two periods (independent samples): ``cov = 0``; two
    domains of one design: pass their linearized covariance (see
    :meth:`surveyapp.analysis.estimate.Analysis.domain_difference`)."""
    d = est_a - est_b
    se = math.sqrt(max(se_a * se_a + se_b * se_b - 2 * cov, 0.0))
    q = quantile(level, df)
    return Difference(d, se, d - q * se, d + q * se)


def rank_intervals(
    est: Sequence[float],
    cov: np.ndarray,
    level: float = 0.95,
    draws: int = 4000,
    seed: int = 12345,
    descending: bool = True,
) -> list[tuple[int, int]]:
    """Rank intervals for domains (rank 1 = highest when ``descending``): central ``level``
    range of ranks over draws from the joint normal N(est, cov). Deterministic (seeded)."""
    e = np.asarray(est, dtype=np.float64)
    k = len(e)
    if k == 0:
        return []
    rng = np.random.default_rng(seed)
    c = np.asarray(cov, dtype=np.float64)
    vals, vecs = np.linalg.eigh((c + c.T) / 2)
    root = vecs * np.sqrt(np.clip(vals, 0, None))
    sims = e[None, :] + rng.standard_normal((draws, k)) @ root.T
    order = np.argsort(-sims if descending else sims, axis=1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, k + 1)[None, :], axis=1)
    a = (1 - level) / 2
    lo = np.quantile(ranks, a, axis=0, method="lower")
    hi = np.quantile(ranks, 1 - a, axis=0, method="higher")
    return [(int(x), int(y)) for x, y in zip(lo, hi, strict=True)]


def plan_sample_size(
    moe: float,
    p: float = 0.5,
    deff: float = 1.0,
    level: float = 0.95,
    popsizes: Sequence[float] | None = None,
    per_stratum: bool = True,
    response_rate: float = 1.0,
) -> list[int]:
    """Respondents needed for a margin of error ``moe`` on a share ``p``.

    ``n0 = z^2 p(1-p) deff / moe^2``, finite-population corrected ``n0 / (1 + (n0-1)/N)``
    and divided by the response rate. With ``per_stratum`` every stratum (population sizes
    ``popsizes``) gets its own n for that margin (domain estimates); otherwise the total n
    is allocated proportionally to ``popsizes``. Without ``popsizes``: one number.
    """
    if not (0 < moe < 1) or not (0 < p < 1) or deff <= 0 or not (0 < response_rate <= 1):
        raise ValueError("plan_sample_size: need 0 < moe < 1, 0 < p < 1, deff > 0")
    z = quantile(level, math.inf)
    n0 = z * z * p * (1 - p) * deff / (moe * moe)

    def fpc(n: float, big: float) -> float:
        return n / (1 + (n - 1) / big) if math.isfinite(big) and big > 0 else n

    if not popsizes:
        return [math.ceil(n0 / response_rate)]
    pops = [float(x) for x in popsizes]
    if per_stratum:
        return [min(math.ceil(fpc(n0, big) / response_rate), math.ceil(big)) for big in pops]
    total = sum(pops)
    n = fpc(n0, total)
    return [math.ceil(n * big / total / response_rate) for big in pops]
