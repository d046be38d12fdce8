"""Confidence intervals for shares, as R ``svyciprop`` (Lumley 2010, sec. 2.4.1).

``logit`` (default) and ``xlogit``: t interval for logit(p) with se(p)/(p(1-p)); ``wald``
(R ``"mean"``): p +- t*se; ``asin``: on asin(sqrt(p)); ``beta``: Korn & Graubard (1998)
Clopper-Pearson interval on the effective sample size, adjusted by the ratio of t quantiles
(sample size - 1 versus design df), as R does; ``likelihood``: the Rao-Scott scaled profile
likelihood of the intercept-only quasi-binomial model, read off R's profile grid, ``fmm`` spline
and linear inversion exactly as ``confint.svyglm`` does (not the exact root); ``wilson``:
Wilson's score interval on the effective sample size p(1-p)/v with the design-df t quantile.
``df = inf`` uses normal quantiles.
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


def prop_interval(
    p: float,
    se: float,
    method: str,
    level: float,
    df: float,
    n: float,
    n_fit: float = math.nan,
    start: tuple[float, float] | None = None,
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
    n_fit : float
        Rows of R's model frame (``likelihood`` only; default ``n``): the subset's rows, or
        all rows of a calibrated design, whose subsets keep zero-weight rows.
    start : (float, float), optional
        :func:`likelihood_start` of the subset's rows (``likelihood`` only).
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
        return _likelihood(p, v, level, df, n, n if math.isnan(n_fit) else n_fit, start)
    raise ValueError(f"unknown CI method {method!r}")


def likelihood_start(w: np.ndarray, y: np.ndarray, n_fit: float) -> tuple[float, float]:
    """Row sums behind R ``glm.fit``'s first IRLS step for the likelihood interval.

    ``w``, ``y``: the subset's non-zero sampling weights and 0/1 answers. svyglm's prior
    weights are ``W = w n_fit / sum(w)``; binomial ``mustart = (W y + 1/2) / (W + 1)``. Returns
    the first intercept ``sum(h z) / sum(h)`` (``h = W mu (1 - mu)``, ``z`` the working
    response) and the starting deviance ``-2 sum W log((W + 1/2) / (W + 1))``.
    """
    ww = w * (n_fit / float(np.sum(w)))
    h = 0.5 * ww * (ww + 0.5) / (ww + 1) ** 2
    g = h * (np.log(2 * ww + 1) + (ww + 1) / (ww + 0.5))
    hz = np.where(y > 0, g, -g)
    return float(np.sum(hz) / np.sum(h)), float(-2 * np.sum(ww * np.log((ww + 0.5) / (ww + 1))))


def _glm_fit(p: float, n_fit: float, start: tuple[float, float]) -> tuple[float, float]:
    """R ``glm.fit`` (IRLS, ``epsilon = 1e-8``) of the intercept-only (quasi)binomial model.

    Returns the coefficient and ``mu (1 - mu)`` of the last iteration's working weights, whose
    sum ``summary.glm`` inverts for ``naive.cov`` (a step behind the converged fit).
    """

    def dev(m: float) -> float:
        return -2 * n_fit * (p * math.log(m) + (1 - p) * math.log(1 - m))

    b, devold = start
    wprev = math.nan  # first step: per-row weights (only their mean matters below)
    m = _expit(b)
    d = dev(m)
    it = 1
    while abs(d - devold) / (abs(d) + 0.1) >= 1e-8 and it < 25:
        devold = d
        wprev = m * (1 - m)
        b = b + (p - m) / wprev
        m = _expit(b)
        d = dev(m)
        it += 1
    return b, wprev


def _likelihood(
    p: float,
    v: float,
    level: float,
    df: float,
    n: float,
    n_fit: float,
    start: tuple[float, float] | None,
) -> tuple[float, float]:
    """R ``confint.svyglm(method="likelihood")`` on the intercept-only quasi-binomial model.

    As survey's ``MASSprofile_glm`` + ``confint_profile``: the Rao-Scott scale ``lambda`` (the
    design over the model variance of the logit, the latter from the IRLS fit's last working
    weights), profile steps of ``zmax / 5`` standard errors (at most 9 each way, until the
    signed root deviance reaches ``zmax``), an ``fmm`` spline through the profile evaluated at
    ``3 m`` points (R ``spline``) and linear inversion at the cutoffs (R ``approx``). The
    deviance of the model frame's ``n_fit`` rows with prior weights of mean 1 is
    ``2 n_fit KL(p, mu)``; ``start`` comes from :func:`likelihood_start` (without it the
    subset's weights are taken as equal).
    """
    if not (0 < p < 1 and v > 0 and n > 1 and n_fit > 1):
        return math.nan, math.nan
    q = quantile(level, df)
    if not math.isfinite(q):
        return math.nan, math.nan
    if start is None:
        start = likelihood_start(np.full(1, 1.0), np.ones(1), n_fit / n)
        start = (p * start[0] - (1 - p) * start[0], n * start[1])
    b0, wlast = _glm_fit(p, n_fit, start)
    m0 = _expit(b0)
    pq = m0 * (1 - m0)
    phi = n / (n - 1) * p * (1 - p) / pq  # svyvar of the Pearson residuals
    cov = v / (pq * pq)  # svy.varcoef
    if math.isnan(wlast):  # converged at the first step: the start's weights (equal ones)
        wlast = pq
    lam = cov * n_fit * wlast  # cov.unscaled / naive.cov
    from scipy import special  # only here: slow to import

    # alpha can be ~1e-14, where statistics.NormalDist's tails lose digits: scipy's ndtr/ndtri
    alpha = float(special.ndtr(-q * math.sqrt(lam))) / 2
    # sqrt(qf(alpha, 1, n - 1, lower.tail = FALSE)), from the lower tail
    zmax = -float(special.stdtrit(n_fit - 1, alpha / 2))
    if not (math.isfinite(zmax) and alpha > 0):
        return math.nan, math.nan
    step = zmax / 5 * math.sqrt(cov)
    xs = [b0]
    zs = [0.0]
    for sgn in (-1.0, 1.0):
        k = 0
        z = 0.0
        while (k := k + 1) < 10 and abs(z) < zmax:
            b = b0 + sgn * k * step
            mu = _expit(b)
            kl = p * math.log(m0 / mu) + (1 - p) * math.log((1 - m0) / (1 - mu))
            z = sgn * math.sqrt(max(2 * n_fit * kl / phi, 0.0))
            xs.append(b)
            zs.append(z)
    m = len(xs)
    # spline(x, y): ties averaged (regularize.values), then an fmm spline at 3 m equally
    # spaced points over the range of x
    x, y = _regularize(xs, zs)
    if len(x) < 2:  # a standard error at rounding level: no profile to read
        return math.nan, math.nan
    u = [float(t) for t in np.linspace(x[0], x[-1], 3 * m)]
    sy = _fmm_eval(x, y, u)
    cut = float(special.ndtri(2 * alpha))
    return _expit(_approx(sy, u, cut)), _expit(_approx(sy, u, -cut))


def _fmm_eval(x: list[float], y: list[float], u: list[float]) -> list[float]:
    """R ``spline(method = "fmm")``: Forsythe, Malcolm & Moler's cubic spline at ``u``."""
    n = len(x)
    b = [0.0] * n
    c = [0.0] * n
    d = [0.0] * n
    if n < 3:
        t = (y[1] - y[0]) / (x[1] - x[0])
        b = [t, t]
    else:
        d[0] = x[1] - x[0]
        c[1] = (y[1] - y[0]) / d[0]
        for i in range(1, n - 1):
            d[i] = x[i + 1] - x[i]
            b[i] = 2.0 * (d[i - 1] + d[i])
            c[i + 1] = (y[i + 1] - y[i]) / d[i]
            c[i] = c[i + 1] - c[i]
        # end conditions: third derivatives from divided differences
        b[0] = -d[0]
        b[n - 1] = -d[n - 2]
        c[0] = c[n - 1] = 0.0
        if n > 3:
            c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
            c[n - 1] = c[n - 2] / (x[n - 1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
            c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
            c[n - 1] = -c[n - 1] * d[n - 2] * d[n - 2] / (x[n - 1] - x[n - 4])
        for i in range(1, n):
            t = d[i - 1] / b[i - 1]
            b[i] = b[i] - t * d[i - 1]
            c[i] = c[i] - t * c[i - 1]
        c[n - 1] = c[n - 1] / b[n - 1]
        for i in range(n - 2, -1, -1):
            c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
        b[n - 1] = (y[n - 1] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[n - 1])
        for i in range(n - 1):
            b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
            d[i] = (c[i + 1] - c[i]) / d[i]
            c[i] = 3.0 * c[i]
        c[n - 1] = 3.0 * c[n - 1]
        d[n - 1] = d[n - 2]
    out = []
    i = 0
    for ul in u:
        if ul < x[i] or (i < n - 1 and x[i + 1] < ul):
            i, j = 0, n
            while j > i + 1:
                k = (i + j) // 2
                if ul < x[k]:
                    j = k
                else:
                    i = k
        dx = ul - x[i]
        out.append(y[i] + dx * (b[i] + dx * (c[i] + dx * d[i])))
    return out


def _regularize(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    """R ``regularize.values(ties = mean)``: sorted unique x with the mean y of each."""
    pts: dict[float, list[float]] = {}
    for a, b in zip(xs, ys, strict=True):
        pts.setdefault(a, []).append(b)
    x = sorted(pts)
    return x, [sum(pts[a]) / len(pts[a]) for a in x]


def _approx(xs: list[float], ys: list[float], v: float) -> float:
    """R ``approx(xs, ys, xout = v)$y``: ties averaged, linear, NA outside the range."""
    x, y = _regularize(xs, ys)
    if not (x[0] <= v <= x[-1]) or math.isnan(v):
        return math.nan
    i, j = 0, len(x) - 1
    while i < j - 1:
        k = (i + j) // 2
        if v < x[k]:
            j = k
        else:
            i = k
    if v == x[j]:
        return y[j]
    if v == x[i]:
        return y[i]
    return y[i] + (y[j] - y[i]) * ((v - x[i]) / (x[j] - x[i]))


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
