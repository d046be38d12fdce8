"""Confidence intervals for shares, as R ``svyciprop`` (Lumley 2010, sec. 2.4.1).

``logit`` (default) and ``xlogit``: t interval for logit(p) with se(p)/(p(1-p)); ``wald``
(R ``"mean"``): p +- t*se; ``asin``: on asin(sqrt(p)); ``beta``: Korn & Graubard (1998)
Clopper-Pearson interval on the effective sample size, adjusted by the ratio of t quantiles
(sample size - 1 versus design df), as R does; ``likelihood``: the Rao-Scott scaled profile
likelihood of the intercept-only quasi-binomial model (R's spline is replaced by an exact
root); ``wilson``: Wilson's score interval on the effective sample size p(1-p)/v with the
design-df t quantile. ``df = inf`` uses normal quantiles.
"""

from __future__ import annotations

import math

import numpy as np

from .dist import norm_ppf, t_ppf

CI_METHODS = ("logit", "wald", "beta", "asin", "xlogit", "likelihood", "wilson")


def quantile(level: float, df: float) -> float:
    """Two-sided critical value: t(df) or normal for ``df = inf``."""
    q = 1 - (1 - level) / 2
    if math.isinf(df):
        return norm_ppf(q)
    if df <= 0:
        return math.nan
    return t_ppf(q, df)


def t_interval(est: float, se: float, level: float, df: float) -> tuple[float, float]:
    """``est -+ t(df) * se``."""
    q = quantile(level, df)
    return est - q * se, est + q * se


def prop_interval(
    p: float,
    se: float,
    method: str,
    level: float,
    df: float,
    n: float,
    phi: float = math.nan,
) -> tuple[float, float]:
    """Confidence interval for a share.

    Parameters
    ----------
    p, se : float
        Estimate and linearized standard error.
    method : str
        One of :data:`CI_METHODS`.
    level, df : float
        Confidence level and degrees of freedom (``inf`` for normal).
    n : float
        Number of rows behind the estimate (``beta`` uses ``n - 1`` as R).
    phi : float
        Quasi-binomial dispersion (``likelihood`` only), see :func:`likelihood_phi`.
    """
    if not (math.isfinite(p) and math.isfinite(se)):
        return math.nan, math.nan
    q = quantile(level, df)
    v = se * se
    if method == "wald":
        return p - q * se, p + q * se
    if method in ("logit", "xlogit"):
        if p <= 0 or p >= 1:
            return (0.0, 0.0) if p <= 0 else (1.0, 1.0)
        lg = math.log(p / (1 - p))
        s = se / (p * (1 - p))
        return _expit(lg - q * s), _expit(lg + q * s)
    if method == "asin":
        if p <= 0 or p >= 1:
            return (0.0, 0.0) if p <= 0 else (1.0, 1.0)
        x = math.asin(math.sqrt(p))
        s = se / (2 * math.sqrt(p * (1 - p)))
        return math.sin(x - q * s) ** 2, math.sin(x + q * s) ** 2
    if method == "beta":
        alpha = 1 - level
        neff = p * (1 - p) / v if v > 0 else n
        if n > 1:
            tq = t_ppf(alpha / 2, n - 1)
            dq = norm_ppf(alpha / 2) if math.isinf(df) else t_ppf(alpha / 2, df)
            neff = neff * (tq / dq) ** 2
        from scipy import special  # only here: slow to import

        lo = special.betaincinv(neff * p, neff * (1 - p) + 1, alpha / 2) if p > 0 else 0.0
        hi = special.betaincinv(neff * p + 1, neff * (1 - p), 1 - alpha / 2) if p < 1 else 1.0
        return float(lo), float(hi)
    if method == "wilson":
        neff = p * (1 - p) / v if v > 0 else n
        if neff <= 0:
            return math.nan, math.nan
        z2 = q * q / neff
        centre = (p + z2 / 2) / (1 + z2)
        half = q * math.sqrt(p * (1 - p) / neff + q * q / (4 * neff * neff)) / (1 + z2)
        return centre - half, centre + half
    if method == "likelihood":
        return _likelihood(p, v, q, phi)
    raise ValueError(f"unknown CI method {method!r}")


def likelihood_phi(n: float) -> float:
    """R's quasi-binomial dispersion for ``svyciprop(method="likelihood")``.

    ``summary.svyglm`` takes the survey variance of the Pearson residuals, which for the
    intercept-only model with survey weights is exactly ``n / (n - 1)`` (``n`` rows with a
    non-zero weight in the subset).
    """
    return n / (n - 1) if n > 1 else math.nan


def _likelihood(p: float, v: float, q: float, phi: float) -> tuple[float, float]:
    from scipy import optimize  # imported lazily: it is slow to import

    if p <= 0 or p >= 1 or not math.isfinite(phi):
        return math.nan, math.nan
    target = phi * q * q * v / (2 * p * (1 - p))

    def kl(x: float) -> float:
        pp = _expit(x)
        return p * math.log(p / pp) + (1 - p) * math.log((1 - p) / (1 - pp)) - target

    x0 = math.log(p / (1 - p))
    if not target > 0:
        return p, p
    step = max(1.0, 4 * math.sqrt(v) / (p * (1 - p)))
    lo_b = x0 - step
    while kl(lo_b) < 0:
        lo_b -= step
    hi_b = x0 + step
    while kl(hi_b) < 0:
        hi_b += step
    try:
        lo = optimize.brentq(kl, lo_b, x0, xtol=1e-14, rtol=1e-14)
        hi = optimize.brentq(kl, x0, hi_b, xtol=1e-14, rtol=1e-14)
    except ValueError:  # variance at rounding level: the interval collapses to p
        return (p, p) if target < 1e-12 else (math.nan, math.nan)
    return _expit(lo), _expit(hi)


def _expit(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def as_array_ci(
    p: np.ndarray, se: np.ndarray, method: str, level: float, df: float
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised logit/wald/xlogit/asin intervals (fast path for many rows)."""
    q = quantile(level, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "wald":
            return p - q * se, p + q * se
        if method in ("logit", "xlogit"):
            lg = np.log(p / (1 - p))
            s = se / (p * (1 - p))
            lo = 1 / (1 + np.exp(-(lg - q * s)))
            hi = 1 / (1 + np.exp(-(lg + q * s)))
        else:
            x = np.arcsin(np.sqrt(p))
            s = se / (2 * np.sqrt(p * (1 - p)))
            lo, hi = np.sin(x - q * s) ** 2, np.sin(x + q * s) ** 2
    edge0 = p <= 0
    edge1 = p >= 1
    lo = np.where(edge0, 0.0, np.where(edge1, 1.0, lo))
    hi = np.where(edge0, 0.0, np.where(edge1, 1.0, hi))
    return lo, hi
