"""Target verdicts, comparisons, rank intervals, small-domain flags and sample-size planning."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .ci import quantile
from .differences import PairDifference
from .dist import norm_cdf, t_cdf

MET = "met"
NOT_MET = "not_met"
INCONCLUSIVE = "inconclusive"
#: Every verdict label the package gives; the app translates these and no others.
VERDICTS = (MET, NOT_MET, INCONCLUSIVE)

#: Why a verdict is inconclusive or missing, why ``n_to_decide`` is null, or why an estimate
#: is null. Machine-readable codes (the JSON carries them); the app translates them.
VERDICT_REASONS = {
    "ci_contains_target": "the confidence interval contains the target",
    "se_zero": "the standard error is zero or undefined, so the interval claims certainty "
    "the sample cannot give",
    "small_sample": "the estimate rests on fewer than 30 answers or its CV exceeds 20 %",
    "no_estimate": "there is no estimate (no answers in this domain)",
}
N_TO_DECIDE_REASONS = {
    "decided": "the verdict is already met or not met",
    "no_estimate": "there is no estimate",
    "se_zero": "the standard error is zero or undefined",
    "at_target": "the estimate equals the target: no sample size separates them",
    "no_df": "the design has no degrees of freedom (one responding PSU per stratum)",
}
#: Reason code of an estimate that is null because a part of its index has no answers in the
#: domain; the parts follow the colon (``empty_part:q31,q32``).
EMPTY_PART = "empty_part"
NO_ANSWERS = "no_answers"

#: Default power of :func:`n_to_decide`.
POWER = 0.8


def verdict(
    ci_low: float,
    ci_high: float,
    target: float,
    se: float = math.nan,
    n: float = math.inf,
    est: float = math.nan,
) -> tuple[str | None, str | None]:
    """Verdict of an estimate against its target, and the reason when it is not decided.

    Parameters
    ----------
    ci_low, ci_high : float
        The estimate's confidence interval.
    target : float
        On the estimate's scale.
    se, n, est : float
        Standard error, answered rows and the estimate: a verdict needs a positive SE and an
        estimate not flagged small (:func:`small_domain`, DESIGN.md §5).

    Returns
    -------
    (verdict, reason)
        ``("met", None)`` if the CI lower bound >= target, ``("not_met", None)`` if the upper
        bound < target; otherwise ``("inconclusive", reason)`` with a reason code of
        :data:`VERDICT_REASONS` (``se_zero``, ``small_sample``, ``ci_contains_target``);
        ``(None, "no_estimate")`` when there is no estimate.

    Notes
    -----
    One respondent answering 5 gives a share of 1 with SE 0 and a degenerate interval
    [1, 1]; read literally it "meets" any target. A CI says something only when the design
    has measured the estimate's variability (SE > 0) on enough answers (Korn & Graubard
    1999, sec. 5.6 on suppressing unreliable estimates; Lumley 2010, sec. 2.2).
    """
    if not (math.isfinite(ci_low) and math.isfinite(ci_high)) or (
        not math.isnan(est) and not math.isfinite(est)
    ):
        return None, "no_estimate"
    if not (math.isfinite(se) and se > 0):
        return INCONCLUSIVE, "se_zero"
    if small_domain(n, est, se):
        return INCONCLUSIVE, "small_sample"
    if ci_low >= target:
        return MET, None
    if ci_high < target:
        return NOT_MET, None
    return INCONCLUSIVE, "ci_contains_target"


def _to_scale(est: float, se: float, target: float, logit: bool) -> tuple[float, float, float]:
    """Estimate, SE and target on the CI's scale (delta method for the logit)."""
    if logit and 0 < est < 1 and 0 < target < 1:
        return (
            math.log(est / (1 - est)),
            se / (est * (1 - est)),
            math.log(target / (1 - target)),
        )
    return est, se, target


def prob_meets(est: float, se: float, target: float, df: float, logit: bool = False) -> float:
    """``p_meets_target``: how plausible it is that the true value reaches the target.

    Parameters
    ----------
    est, se : float
        The estimate and its linearized standard error.
    target : float
    df : float
        Design degrees of freedom (``inf``: normal).
    logit : bool
        Work on the logit scale, as logit share intervals do.

    Returns
    -------
    float
        ``F_t(df)((g(est) - g(target)) / se_g)`` with ``g`` the CI's scale (identity or
        logit) and ``se_g`` the SE on that scale; NaN without an estimate or with SE 0.

    Notes
    -----
    This is the confidence (not a frequentist probability of the fixed true value) with
    which the data say the true value is at least the target: the largest one-sided
    confidence level at which the lower bound still reaches the target. Under a flat prior
    on the CI's scale it is also the posterior probability ``P(theta >= target)``
    (Gelman et al. 2013, sec. 2.8). It is 0.5 when the estimate equals the target, and it is
    consistent with the interval: the two-sided ``level`` CI lies above the target exactly
    when ``p_meets_target >= 1 - (1 - level) / 2``. It is reported with every target, even
    when the verdict is inconclusive because the estimate is small; it does not replace the
    verdict.
    """
    if not (math.isfinite(est) and math.isfinite(se)) or se <= 0:
        return math.nan
    e, s_, t = _to_scale(est, se, target, logit)
    x = (t - e) / s_
    if math.isinf(df):
        return norm_cdf(-x)
    return t_cdf(-x, df)


def n_to_decide(
    est: float,
    se: float,
    n: float,
    target: float,
    level: float,
    df: float,
    logit: bool = False,
    power: float = POWER,
    decided: bool = False,
) -> tuple[float | None, str | None]:
    """``n_to_decide``: answers needed before the verdict is likely to be decided.

    Parameters
    ----------
    est, se, n : float
        Estimate, standard error and answered rows in the domain.
    target : float
    level : float
        Confidence level of the interval the verdict uses.
    df : float
        Design degrees of freedom (kept for the new sample: conservative).
    logit : bool
        The interval is on the logit scale (logit/xlogit share CIs).
    power : float
        Probability that the interval excludes the target at that size, if the true value
        is the present estimate (default 0.8).
    decided : bool
        The verdict is already met or not met.

    Returns
    -------
    (n, reason)
        ``n = ceil(n_now * ((t_{1-a/2} + t_{power}) * se_g / |g(est) - g(target)|)^2)`` on
        the CI's scale ``g``; or ``(None, reason)`` with a code of
        :data:`N_TO_DECIDE_REASONS`.

    Notes
    -----
    The variance is taken to scale as ``1/n`` at the design effect observed now (the same
    allocation, clustering and weighting), so ``deff`` is inside ``se``; the result counts
    answered rows of this domain, not questionnaires sent. It is the usual sample size for
    a one-sample test against ``target`` (Cochran 1977, sec. 4.4; Lohr 2019, sec. 7.5 for
    the design effect) with the power term ``t_{power}``; it is a planning figure that
    assumes the estimate will not move, not a promise.
    """
    if decided:
        return None, "decided"
    if not (math.isfinite(est) and n > 0):
        return None, "no_estimate"
    if not (math.isfinite(se) and se > 0):
        return None, "se_zero"
    e, s_, t = _to_scale(est, se, target, logit)
    diff = abs(e - t)
    if diff == 0:
        return None, "at_target"
    q = quantile(level, df) + quantile(2 * power - 1, df)
    if not math.isfinite(q):
        # No degrees of freedom (e.g. one responding PSU in every stratum): no sample size
        # at this design gives an interval, so there is none to report.
        return None, "no_df"
    return float(math.ceil(n * (q * s_ / diff) ** 2)), None


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
    df: float = math.inf,
) -> list[tuple[int, int]]:
    """Rank intervals for domains (rank 1 = highest when ``descending``).

    Parameters
    ----------
    est : sequence of float
    cov : array (k, k)
        Joint covariance of the estimates (calibration couples the domains: use it whole).
    level : float
    draws, seed : int
        Monte Carlo draws, seeded so that the result is deterministic.
    descending : bool
    df : float
        Design degrees of freedom: draws from the multivariate t with ``df`` (normal for
        ``inf``), as the domains' own intervals use t on the design df.

    Returns
    -------
    list of (low, high)
        Central ``level`` range of each domain's rank over draws from the joint
        distribution centred on the estimates.

    Notes
    -----
    A rank interval says where a domain may stand among the others given the sampling
    error of all of them at once; it is not a test between two domains. Two domains whose
    rank intervals (or confidence intervals) overlap may still differ significantly: use
    :func:`pairwise_differences` for that (Goldstein & Spiegelhalter 1996; Klein, Sinclair
    & Wright 2020, "Joint confidence region for ranks").
    """
    e = np.asarray(est, dtype=np.float64)
    k = len(e)
    if k == 0:
        return []
    rng = np.random.default_rng(seed)
    c = np.asarray(cov, dtype=np.float64)
    vals, vecs = np.linalg.eigh((c + c.T) / 2)
    root = vecs * np.sqrt(np.clip(vals, 0, None))
    noise = rng.standard_normal((draws, k)) @ root.T
    if math.isfinite(df) and df > 0:
        # multivariate t: one chi-square scale per draw, shared by every domain
        noise = noise / np.sqrt(rng.chisquare(df, draws) / df)[:, None]
    sims = e[None, :] + noise
    order = np.argsort(-sims if descending else sims, axis=1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, k + 1)[None, :], axis=1)
    a = (1 - level) / 2
    lo = np.quantile(ranks, a, axis=0, method="lower")
    hi = np.quantile(ranks, 1 - a, axis=0, method="higher")
    return [(int(x), int(y)) for x, y in zip(lo, hi, strict=True)]


@dataclass(frozen=True)
class PairwiseDifferences:
    """Every pairwise difference of one statistic between domains (see
    :func:`pairwise_differences`)."""

    pairs: tuple[PairDifference, ...]
    level: float
    df: float

    def get(self, a: object, b: object) -> PairDifference:
        """The difference ``a - b`` (the sign flips when the pair is stored as ``b - a``)."""
        for p in self.pairs:
            if (p.a, p.b) == (a, b):
                return p
            if (p.a, p.b) == (b, a):
                return p.reversed()
        raise KeyError((a, b))

    def to_dict(self) -> dict[str, object]:
        return {
            "level": self.level,
            "df": self.df if math.isfinite(self.df) else None,
            "pairs": [p.to_dict() for p in self.pairs],
        }


def pairwise_differences(
    estimates: Sequence[float],
    cov: np.ndarray,
    df: float,
    level: float = 0.95,
    labels: Sequence[object] | None = None,
) -> PairwiseDifferences:
    """Differences between every pair of domains with t intervals from the joint covariance.

    Parameters
    ----------
    estimates : sequence of float
        One statistic per domain (e.g. :attr:`DomainComparison.estimates`).
    cov : array (k, k)
        Their joint covariance (:attr:`DomainComparison.cov`): domains of one design are
        correlated (shared strata, calibration), so ``var(a - b) = v_a + v_b - 2 c_ab``.
    df : float
        Design degrees of freedom for the t quantile and p-value (``inf``: normal).
    level : float
    labels : sequence, optional
        Domain labels (default 0..k-1). Pairs with a non-finite estimate are left out.

    Returns
    -------
    PairwiseDifferences
        Pairs ``(labels[i], labels[j])`` for ``i < j``, each with estimate, SE,
        ``estimate -+ t_{df} * se`` and the two-sided p-value of a t test of no difference.

    Notes
    -----
    Overlapping confidence intervals do not mean two domains cannot be told apart
    (Schenker & Gentleman 2001); the interval of the difference answers that. The intervals
    are per pair, not simultaneous: with many pairs some will exclude 0 by chance.
    """
    e = [float(x) for x in estimates]
    k = len(e)
    labs = list(labels) if labels is not None else list(range(k))
    if len(labs) != k or np.shape(cov) != (k, k):
        raise ValueError("pairwise_differences: estimates, cov and labels do not match")
    c = np.asarray(cov, dtype=np.float64)
    q = quantile(level, df)
    pairs = []
    for i in range(k):
        for j in range(i + 1, k):
            if not (math.isfinite(e[i]) and math.isfinite(e[j])):
                continue
            d = e[i] - e[j]
            se = math.sqrt(max(c[i, i] + c[j, j] - 2 * c[i, j], 0.0))
            if se > 0:
                x = abs(d) / se
                p = 2 * (norm_cdf(-x) if math.isinf(df) else t_cdf(-x, df))
            else:  # no measured variability: no honest p-value
                p = math.nan
            pairs.append(PairDifference(labs[i], labs[j], d, se, d - q * se, d + q * se, p))
    return PairwiseDifferences(tuple(pairs), level, float(df))


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
