"""Small-area estimation: the Fay–Herriot area-level model (DESIGN.md §5, issue 13 §3).

A province's ~600 respondents spread over ~100 communes give about six respondents per
commune, so a commune's direct (design-based) estimate is mostly noise. The Fay–Herriot model
borrows strength across communes through area-level covariates:

.. math::

    y_i = x_i'\\beta + u_i + e_i, \\quad u_i \\sim N(0, \\sigma^2_u), \\quad
    e_i \\sim N(0, \\psi_i),

where :math:`y_i` is the direct estimate, :math:`\\psi_i` its design variance (treated as
known) and :math:`x_i` the covariates with an intercept. The EBLUP is
:math:`\\hat\\theta_i = \\hat\\gamma_i y_i + (1 - \\hat\\gamma_i) x_i'\\hat\\beta` with shrinkage
factor :math:`\\hat\\gamma_i = \\hat\\sigma^2_u / (\\hat\\sigma^2_u + \\psi_i)`.

Everything here follows Rao & Molina (2015), *Small Area Estimation*, 2nd ed., Wiley, ch. 6
(§6.1 the model and the BLUP, §6.2.1 the estimators of :math:`\\sigma^2_u` and the MSE
estimators), which is also what R's ``sae::eblupFH`` / ``sae::mseFH`` implement:

* ``reml`` (default) and ``ml``: Fisher scoring on the (restricted) likelihood, §6.1.2;
* ``fh``: the Fay–Herriot (1979) moment estimator, the root of
  :math:`\\sum_i (y_i - x_i'\\tilde\\beta)^2/(\\sigma^2_u + \\psi_i) = m - p`;
* :math:`\\hat\\sigma^2_u` is truncated at 0;
* MSE :math:`= g_{1i} + g_{2i} + 2 g_{3i} - (1 - \\hat\\gamma_i)^2 b`, every term evaluated at
  :math:`\\hat\\sigma^2_u`:

  - ``reml``: :math:`b = 0` (Prasad & Rao 1990; Datta & Lahiri 2000);
  - ``ml``: :math:`b` is the bias of the ML estimator (Datta & Lahiri 2000);
  - ``fh``: :math:`g_{3i}` uses the asymptotic variance of the moment estimator and :math:`b`
    its bias (Datta, Rao & Smith 2005).

An area without a direct estimate (out of sample) gets the synthetic estimate
:math:`x_i'\\hat\\beta` with MSE :math:`\\hat\\sigma^2_u + x_i' V(\\hat\\beta) x_i`.

Also here: :func:`benchmark` (ratio or difference benchmarking of the EBLUPs to a province
total), :func:`smooth_variances` (a generalised variance function for design variances that
are zero or unstable) and :func:`normal_qq` (positions for a normal Q–Q plot of the
standardised residuals).

References
----------
Rao, J. N. K. & Molina, I. (2015). *Small Area Estimation*, 2nd ed. Wiley. Chapter 6.

Fay, R. E. & Herriot, R. A. (1979). Estimates of income for small places: an application of
James–Stein procedures to census data. *JASA* 74, 269–277.

Prasad, N. G. N. & Rao, J. N. K. (1990). The estimation of the mean squared error of
small-area estimators. *JASA* 85, 163–171.

Datta, G. S. & Lahiri, P. (2000). A unified measure of uncertainty of estimated best linear
unbiased predictors in small area estimation problems. *Statistica Sinica* 10, 613–627.

Datta, G. S., Rao, J. N. K. & Smith, D. D. (2005). On measuring the variability of small
area estimators under a basic area level model. *Biometrika* 92, 183–196.

Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed. Springer. Chapter 7
(generalised variance functions).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .dist import norm_ppf
from .errors import AnalysisError

METHODS = ("reml", "ml", "fh")
"""Estimators of :math:`\\sigma^2_u`, by the name the command line and the services use."""

BENCHMARKS = ("ratio", "difference")
GVF_FORMS = ("proportion", "loglinear")

Float = NDArray[np.float64]


@dataclass(frozen=True)
class AreaEstimate:
    """One area's direct and model-based estimate.

    Attributes
    ----------
    area : str
        The area's label as given.
    direct, direct_se : float or None
        Direct estimate and its standard error :math:`\\sqrt{\\psi_i}`; None out of sample.
    eblup : float
        The EBLUP (in sample) or the synthetic estimate :math:`x_i'\\hat\\beta` (out of
        sample); after :func:`benchmark`, the benchmarked value.
    mse : float
        Estimated mean squared error of ``eblup`` (of the unbenchmarked EBLUP: see
        :func:`benchmark`).
    gamma : float or None
        Shrinkage factor :math:`\\hat\\gamma_i`; None out of sample.
    synthetic : bool
        True for an out-of-sample area (its estimate is synthetic), False for every area with
        a direct estimate, even when :math:`\\hat\\gamma_i = 0`.
    synthetic_estimate : float
        The regression part :math:`x_i'\\hat\\beta`.
    residual : float or None
        Standardised residual :math:`(y_i - x_i'\\hat\\beta)/\\sqrt{\\hat\\sigma^2_u + \\psi_i}`,
        None out of sample. Under the model these are roughly N(0, 1).
    """

    area: str
    direct: float | None
    direct_se: float | None
    eblup: float
    mse: float
    gamma: float | None
    synthetic: bool
    synthetic_estimate: float
    residual: float | None

    @property
    def rmse(self) -> float:
        """Root MSE of the model-based estimate."""
        return math.sqrt(self.mse)

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """Normal interval ``eblup ± z·√mse`` for the model-based estimate."""
        z = norm_ppf(0.5 + level / 2)
        return self.eblup - z * self.rmse, self.eblup + z * self.rmse


@dataclass(frozen=True)
class Model:
    """The fitted Fay–Herriot model.

    Attributes
    ----------
    method : str
        ``"reml"``, ``"ml"`` or ``"fh"``.
    covariates : tuple of str
        Covariate names, in the order of ``beta[1:]``.
    beta, beta_se : tuple of float
        GLS :math:`\\hat\\beta = (X'\\hat V^{-1}X)^{-1}X'\\hat V^{-1}y` (intercept first) and
        :math:`\\sqrt{\\mathrm{diag}(X'\\hat V^{-1}X)^{-1}}`.
    sigma2_u : float
        :math:`\\hat\\sigma^2_u` after truncation at 0.
    iterations : int
        Fisher-scoring iterations (``reml``, ``ml``) or root-finder iterations (``fh``).
    m, p : int
        In-sample areas and parameters (intercept included).
    """

    method: str
    covariates: tuple[str, ...]
    beta: tuple[float, ...]
    beta_se: tuple[float, ...]
    sigma2_u: float
    iterations: int
    m: int
    p: int

    @property
    def truncated(self) -> bool:
        """True when :math:`\\hat\\sigma^2_u` was set to 0 (every EBLUP is then synthetic)."""
        return self.sigma2_u == 0.0


@dataclass(frozen=True)
class Benchmark:
    """How the EBLUPs were benchmarked to a province estimate.

    Attributes
    ----------
    kind : str
        ``"ratio"`` (every estimate times ``adjustment``) or ``"difference"`` (every estimate
        plus ``adjustment``).
    target : float
        The province's direct estimate the weighted EBLUPs now add up to.
    before : float
        :math:`\\sum_i w_i \\hat\\theta_i` before benchmarking.
    adjustment : float
        The factor (ratio) or the shift (difference).
    """

    kind: str
    target: float
    before: float
    adjustment: float


@dataclass(frozen=True)
class SAEResult:
    """A fitted model and one :class:`AreaEstimate` per area, in input order."""

    model: Model
    areas: tuple[AreaEstimate, ...]
    benchmark: Benchmark | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``surveyapp sae`` (DESIGN.md §5, the small-area contract)."""
        return {
            "model": {
                "method": self.model.method,
                "beta": list(self.model.beta),
                "beta_se": list(self.model.beta_se),
                "sigma2_u": self.model.sigma2_u,
            },
            "areas": [
                {
                    "area": a.area,
                    "direct": a.direct,
                    "direct_se": a.direct_se,
                    "eblup": a.eblup,
                    "mse": a.mse,
                    "gamma": a.gamma,
                    "synthetic": a.synthetic,
                }
                for a in self.areas
            ],
        }


def _as_float(x: ArrayLike, what: str) -> Float:
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise AnalysisError(f"{what}: non-numeric values") from None


class _Fit:
    """Quantities of the model at one value of sigma2_u (in-sample areas only)."""

    def __init__(self, a: float, y: Float, x: Float, psi: Float) -> None:
        self.a = a
        self.v = a + psi
        w = 1.0 / self.v
        xtw = x.T * w
        info = xtw @ x
        try:
            self.q = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            raise AnalysisError(
                "covariates are collinear (X'V^-1 X is singular): drop one"
            ) from None
        self.beta = self.q @ (xtw @ y)
        self.resid = y - x @ self.beta
        self.w = w
        self.x = x

    def trace_q(self, power: int) -> float:
        """tr[(X'V^-1X)^-1 X'V^-power X]."""
        xt = self.x.T * self.w**power
        return float(np.trace(self.q @ (xt @ self.x)))


def _reml_step(f: _Fit) -> tuple[float, float]:
    # Restricted likelihood with P = V^-1 - V^-1 X Q X' V^-1, never formed (m can be ~3,000):
    # score = -tr(P)/2 + y'PPy/2, information = tr(PP)/2 (Rao & Molina 2015, §6.1.2).
    w = f.w
    py = f.resid * w
    tr_p = float(w.sum()) - f.trace_q(2)
    x2 = (f.x.T * w**2) @ f.x
    qx2 = f.q @ x2
    tr_pp = float((w**2).sum()) - 2.0 * f.trace_q(3) + float(np.trace(qx2 @ qx2))
    return -0.5 * tr_p + 0.5 * float(py @ py), 0.5 * tr_pp


def _ml_step(f: _Fit) -> tuple[float, float]:
    w = f.w
    return -0.5 * float(w.sum()) + 0.5 * float(((f.resid * w) ** 2).sum()), 0.5 * float(
        (w**2).sum()
    )


def _fisher(
    y: Float, x: Float, psi: Float, method: str, tol: float, max_iter: int
) -> tuple[float, int]:
    step = _reml_step if method == "reml" else _ml_step
    # start where sae::eblupFH starts, so a reader can compare iteration by iteration
    a = float(np.median(psi))
    for it in range(1, max_iter + 1):
        score, info = step(_Fit(a, y, x, psi))
        if a == 0.0 and score <= 0.0:
            # the likelihood decreases from the boundary: the truncated estimate is 0
            return 0.0, it
        new = max(a + score / info, 0.0)
        if abs(new - a) <= tol * max(a, new, tol):
            return new, it
        a = new
    raise AnalysisError(
        f"sigma2_u ({method}): Fisher scoring did not converge in {max_iter} iterations"
    )


def _moment(y: Float, x: Float, psi: Float, tol: float) -> tuple[float, int]:
    m, p = int(x.shape[0]), int(x.shape[1])

    def h(a: float) -> float:
        f = _Fit(a, y, x, psi)
        return float((f.resid**2 * f.w).sum()) - (m - p)

    # y'P(A)y is decreasing in A, so the root is unique; none above 0 means truncation at 0
    if h(0.0) <= 0.0:
        return 0.0, 0
    hi = max(float(np.var(y)), float(np.median(psi)), 1e-12)
    while h(hi) > 0.0:
        hi *= 2.0
    from scipy import optimize  # imported here: ~1 s to import, needed by REML/ML only

    root, res = optimize.brentq(
        h, 0.0, hi, xtol=tol * hi * 1e-3, rtol=4 * np.finfo(float).eps, full_output=True
    )
    return float(root), int(res.iterations)


def fay_herriot(
    direct: ArrayLike,
    variance: ArrayLike,
    covariates: ArrayLike | None = None,
    *,
    areas: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    method: str = "reml",
    tol: float = 1e-12,
    max_iter: int = 200,
) -> SAEResult:
    """Fit the Fay–Herriot model and return EBLUPs with their MSE estimates.

    Parameters
    ----------
    direct : array_like, shape (n,)
        Direct estimates :math:`y_i`; NaN marks an out-of-sample area.
    variance : array_like, shape (n,)
        Design variances :math:`\\psi_i` (squared standard errors, possibly smoothed with
        :func:`smooth_variances`); NaN exactly where ``direct`` is NaN.
    covariates : array_like, shape (n, k), optional
        Area-level covariates, no intercept column (one is always added); no missing values.
    areas : sequence of str, optional
        Area labels (default ``"1"``, ``"2"``, ...).
    names : sequence of str, optional
        Covariate names (default ``"x1"``, ...).
    method : {"reml", "ml", "fh"}
        Estimator of :math:`\\sigma^2_u` (Rao & Molina 2015, §6.1.2 and §6.2.1).
    tol : float
        Relative convergence tolerance on :math:`\\hat\\sigma^2_u`.
    max_iter : int
        Fisher-scoring iteration limit.

    Returns
    -------
    SAEResult

    Raises
    ------
    AnalysisError
        Unknown method, a variance ≤ 0 or missing for an in-sample area, a direct estimate
        without a variance (or the reverse), missing covariates, fewer in-sample areas than
        parameters + 1, collinear covariates.

    Notes
    -----
    With :math:`V_i = \\hat\\sigma^2_u + \\psi_i`, :math:`\\hat\\gamma_i = \\hat\\sigma^2_u/V_i`
    and :math:`Q = (X'\\hat V^{-1}X)^{-1}` over the :math:`m` in-sample areas,

    * :math:`g_{1i} = \\hat\\gamma_i\\psi_i`,
      :math:`g_{2i} = (1-\\hat\\gamma_i)^2 x_i'Qx_i`,
      :math:`g_{3i} = (1-\\hat\\gamma_i)^2 \\bar V(\\hat\\sigma^2_u)/V_i`;
    * ``reml``, ``ml``: :math:`\\bar V = 2/\\sum_j V_j^{-2}` (Prasad & Rao 1990; Datta &
      Lahiri 2000); ``fh``: :math:`\\bar V = 2m/(\\sum_j V_j^{-1})^2` (Datta, Rao & Smith
      2005);
    * bias :math:`b`: 0 for ``reml``;
      :math:`-\\mathrm{tr}(Q X'\\hat V^{-2}X)/\\sum_j V_j^{-2}` for ``ml`` (Datta & Lahiri
      2000); :math:`2[m\\sum_j V_j^{-2} - (\\sum_j V_j^{-1})^2]/(\\sum_j V_j^{-1})^3` for
      ``fh`` (Datta, Rao & Smith 2005);
    * :math:`\\mathrm{mse}_i = g_{1i} + g_{2i} + 2g_{3i} - (1-\\hat\\gamma_i)^2 b`.

    These are Rao & Molina (2015), §6.2.1, as R ``sae::mseFH`` computes them.
    """
    if method not in METHODS:
        raise AnalysisError(f"--method {method!r}: expected one of {', '.join(METHODS)}")
    y_all = _as_float(direct, "direct estimates").ravel()
    psi_all = _as_float(variance, "variances").ravel()
    n = y_all.size
    if psi_all.size != n:
        raise AnalysisError("direct estimates and variances differ in length")
    z, labels, cov_names = _covariate_matrix(covariates, n, areas, names)
    k = z.shape[1]
    yin = np.isfinite(y_all)
    pin = np.isfinite(psi_all)
    if (yin != pin).any():
        i = int((yin != pin).argmax())
        raise AnalysisError(
            f"area {labels[i]!r}: give both the direct estimate and its se, or neither"
        )
    bad = yin & (psi_all <= 0.0)
    if bad.any():
        i = int(bad.argmax())
        raise AnalysisError(f"area {labels[i]!r}: se must be > 0 for an in-sample area")
    x_all = np.column_stack([np.ones(n), z])
    p = k + 1
    m = int(yin.sum())
    if m < p + 1:
        raise AnalysisError(
            f"{m} in-sample areas for {p} parameters: the model needs at least {p + 1}"
        )
    y, x, psi = y_all[yin], x_all[yin], psi_all[yin]

    if method == "fh":
        a, iters = _moment(y, x, psi, tol)
    else:
        a, iters = _fisher(y, x, psi, method, tol, max_iter)

    f = _Fit(a, y, x, psi)
    v, w, q, beta = f.v, f.w, f.q, f.beta
    if method == "fh":
        s1 = float(w.sum())
        var_a = 2.0 * m / s1**2
        bias = 2.0 * (m * float((w**2).sum()) - s1**2) / s1**3
    else:
        var_a = 2.0 / float((w**2).sum())
        bias = -f.trace_q(2) / float((w**2).sum()) if method == "ml" else 0.0
    gamma = a / v
    one_g = 1.0 - gamma
    quad_in = np.einsum("ij,jk,ik->i", x, q, x)
    g1 = gamma * psi
    g2 = one_g**2 * quad_in
    g3 = one_g**2 * var_a / v
    mse_in = g1 + g2 + 2.0 * g3 - one_g**2 * bias
    syn_all = x_all @ beta
    eblup_in = gamma * y + one_g * syn_all[yin]
    resid_in = f.resid / np.sqrt(v)
    quad_all = np.einsum("ij,jk,ik->i", x_all, q, x_all)

    out: list[AreaEstimate] = []
    pos = np.cumsum(yin) - 1
    for i in range(n):
        if yin[i]:
            j = int(pos[i])
            out.append(
                AreaEstimate(
                    area=labels[i],
                    direct=float(y_all[i]),
                    direct_se=math.sqrt(float(psi_all[i])),
                    eblup=float(eblup_in[j]),
                    mse=float(mse_in[j]),
                    gamma=float(gamma[j]),
                    synthetic=False,
                    synthetic_estimate=float(syn_all[i]),
                    residual=float(resid_in[j]),
                )
            )
        else:
            out.append(
                AreaEstimate(
                    area=labels[i],
                    direct=None,
                    direct_se=None,
                    eblup=float(syn_all[i]),
                    mse=a + float(quad_all[i]),
                    gamma=None,
                    synthetic=True,
                    synthetic_estimate=float(syn_all[i]),
                    residual=None,
                )
            )
    model = Model(
        method=method,
        covariates=cov_names,
        beta=tuple(float(b) for b in beta),
        beta_se=tuple(math.sqrt(float(d)) for d in np.diag(q)),
        sigma2_u=a,
        iterations=iters,
        m=m,
        p=p,
    )
    return SAEResult(model=model, areas=tuple(out))


def _covariate_matrix(
    covariates: ArrayLike | None,
    n: int,
    areas: Sequence[str] | None,
    names: Sequence[str] | None,
) -> tuple[Float, list[str], tuple[str, ...]]:
    """The covariates as an (n, k) matrix with the area labels and covariate names; refuses
    a length that does not match or a missing value."""
    if covariates is None:
        z = np.empty((n, 0))
    else:
        z = _as_float(covariates, "covariates")
        if z.ndim == 1:
            z = z[:, None]
        if z.shape[0] != n:
            raise AnalysisError("covariates and direct estimates differ in length")
    k = z.shape[1]
    labels = [str(i + 1) for i in range(n)] if areas is None else [str(a) for a in areas]
    cov_names = tuple(f"x{j + 1}" for j in range(k)) if names is None else tuple(names)
    if len(labels) != n or len(cov_names) != k:
        raise AnalysisError("area labels or covariate names do not match the data")
    for j in range(k):
        bad = ~np.isfinite(z[:, j])
        if bad.any():
            i = int(bad.argmax())
            raise AnalysisError(f"covariate {cov_names[j]!r}: missing value for area {labels[i]!r}")
    return z, labels, cov_names


def benchmark(
    result: SAEResult,
    target: float,
    weights: ArrayLike,
    kind: Literal["ratio", "difference"] = "ratio",
) -> SAEResult:
    """Benchmark the model-based estimates to a province's direct estimate.

    After benchmarking, :math:`\\sum_i w_i \\hat\\theta^b_i = T` with :math:`w_i` the areas'
    shares of the province (normalised to sum to 1):

    * ``ratio``: :math:`\\hat\\theta^b_i = \\hat\\theta_i\\, T / \\sum_j w_j\\hat\\theta_j`;
    * ``difference``: :math:`\\hat\\theta^b_i = \\hat\\theta_i + T - \\sum_j w_j\\hat\\theta_j`
      (Rao & Molina 2015, §6.3.1).

    Parameters
    ----------
    result : SAEResult
        From :func:`fay_herriot`.
    target : float
        The province's direct estimate :math:`T`.
    weights : array_like, shape (n,)
        Population weights of the areas, in ``result.areas`` order, all ≥ 0, positive sum.
    kind : {"ratio", "difference"}

    Returns
    -------
    SAEResult
        Same model, benchmarked ``eblup``; ``benchmark`` says how. ``mse`` is left as the
        unbenchmarked EBLUP's: the extra term benchmarking adds is of order :math:`1/m`
        (Steorts & Ghosh 2013) and is not estimated here.
    """
    if kind not in BENCHMARKS:
        raise AnalysisError(f"benchmark {kind!r}: expected one of {', '.join(BENCHMARKS)}")
    w = _as_float(weights, "benchmark weights").ravel()
    if w.size != len(result.areas) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise AnalysisError("benchmark weights: one non-negative weight per area, positive sum")
    if not math.isfinite(target):
        raise AnalysisError("benchmark target: not a number")
    w = w / w.sum()
    theta = np.array([a.eblup for a in result.areas])
    before = float(w @ theta)
    if kind == "ratio":
        if before == 0.0:
            raise AnalysisError("ratio benchmarking: the weighted estimates sum to 0")
        adj = target / before
        new = theta * adj
    else:
        adj = target - before
        new = theta + adj
    areas = tuple(replace(a, eblup=float(t)) for a, t in zip(result.areas, new, strict=True))
    return SAEResult(
        model=result.model,
        areas=areas,
        benchmark=Benchmark(kind=kind, target=float(target), before=before, adjustment=adj),
    )


@dataclass(frozen=True)
class SmoothedVariances:
    """Design variances after a generalised variance function.

    Attributes
    ----------
    variance : ndarray
        :math:`\\psi_i` to use in the model (NaN where the input had no estimate).
    smoothed : ndarray of bool
        Which areas got the GVF value instead of their own design variance.
    form : str
        ``"proportion"`` or ``"loglinear"``.
    params : tuple of float
        ``proportion``: (pooled design effect :math:`\\hat d`, pooled share :math:`\\bar p`);
        ``loglinear``: (intercept :math:`a`, slope :math:`b`, smearing factor).
    fitted_on : int
        Number of areas the function was fitted on (0: on the ``reference`` area).
    """

    variance: Float
    smoothed: NDArray[np.bool_]
    form: str
    params: tuple[float, ...]
    fitted_on: int


def _from_reference(
    est: Float,
    psi: Float,
    nn: Float,
    inside: NDArray[np.bool_],
    ok: NDArray[np.bool_],
    min_n: int,
    replace_all: bool,
    reference: tuple[float, float, float],
) -> SmoothedVariances:
    """The ``proportion`` GVF with :math:`\\hat d` the reference area's design effect."""
    p_r, s_r, n_r = (float(v) for v in reference)
    if not (0.0 < p_r < 1.0 and math.isfinite(s_r) and s_r > 0 and n_r > 0):
        raise AnalysisError(
            "generalised variance function: the reference area needs a share in (0, 1), a "
            "positive SE and respondents"
        )
    d = s_r**2 / (p_r * (1.0 - p_r) / n_r)
    counted = inside & (nn > 0)
    total = float(nn[counted].sum())
    # No area with respondents to average over: the reference area's own share.
    pbar = float((nn[counted] * est[counted]).sum() / total) if total > 0 else p_r
    out = np.full(est.size, np.nan)
    # An area without respondents has no variance to smooth (it gets the synthetic estimate).
    out[counted] = d * pbar * (1.0 - pbar) / nn[counted]
    unstable = inside & (~ok | (nn < min_n))
    use = inside if replace_all else unstable
    return SmoothedVariances(
        variance=np.where(use, out, np.where(inside, psi, np.nan)),
        smoothed=use,
        form="proportion",
        params=(d, pbar),
        fitted_on=0,
    )


def smooth_variances(
    estimate: ArrayLike,
    se: ArrayLike,
    n: ArrayLike,
    *,
    form: Literal["proportion", "loglinear"] = "proportion",
    min_n: int = 10,
    replace_all: bool = False,
    reference: tuple[float, float, float] | None = None,
) -> SmoothedVariances:
    """Smooth design variances with a generalised variance function (GVF).

    With a handful of respondents per commune a design SE is unstable, and it is exactly 0
    when every respondent gave the same answer (:math:`\\hat p = 0` or 1), which the
    Fay–Herriot model cannot use (:math:`\\psi_i` would claim a perfect estimate). A GVF fits
    the variance as a smooth function of the sample size across communes and uses the fitted
    value instead (Wolter 2007, ch. 7; Rao & Molina 2015, §6.4.6):

    ``proportion`` (shares and indices in [0, 1])
        :math:`\\tilde\\psi_i = \\hat d\\,\\bar p(1-\\bar p)/n_i`, with :math:`\\bar p` the
        :math:`n`-weighted mean of the estimates and the pooled design effect
        :math:`\\hat d = \\sum_R \\psi_i / \\sum_R \\bar p(1-\\bar p)/n_i` over the reliable
        areas :math:`R`. Using :math:`\\bar p` rather than :math:`\\hat p_i` keeps
        :math:`\\tilde\\psi_i` away from 0 and uncorrelated with the area's own estimate.
    ``loglinear`` (any statistic)
        OLS of :math:`\\log\\psi_i` on :math:`\\log n_i` over :math:`R`,
        :math:`\\tilde\\psi_i = \\exp(a + b\\log n_i)\\cdot s` with Duan's smearing factor
        :math:`s` = mean of the exponentiated residuals.

    The reliable areas :math:`R` have a positive, finite SE and :math:`n_i \\ge` ``min_n``;
    when fewer than 2 (``loglinear``: 3) areas qualify, every area with a positive SE is used.
    With ``proportion`` and a ``reference`` (estimate, SE, n of an area holding them all,
    e.g. the province), too few reliable areas fit :math:`\\hat d` on the reference alone,
    :math:`\\hat d = s_r^2 / (\\hat p_r(1-\\hat p_r)/n_r)`, its design effect: the areas'
    own SEs are then not used at all (a commune that is one PSU of the design has no
    design-based SE, and its ultimate-cluster SE of about 0 would make :math:`\\hat d`
    near 0).

    Parameters
    ----------
    estimate, se, n : array_like, shape (areas,)
        Direct estimates, design standard errors and respondent counts; NaN estimate marks
        an out-of-sample area (left NaN).
    form : {"proportion", "loglinear"}
    min_n : int
        Areas with fewer respondents count as unstable.
    replace_all : bool
        If True every in-sample area gets the smoothed variance; otherwise only unstable
        ones (SE ≤ 0, not finite, or :math:`n_i <` ``min_n``).
    reference : (float, float, float), optional
        Estimate, SE and respondents of an area that holds all the areas (``proportion``).

    Returns
    -------
    SmoothedVariances
    """
    if form not in GVF_FORMS:
        raise AnalysisError(f"GVF form {form!r}: expected one of {', '.join(GVF_FORMS)}")
    est = _as_float(estimate, "estimates").ravel()
    s = _as_float(se, "standard errors").ravel()
    nn = _as_float(n, "sample sizes").ravel()
    if not (est.size == s.size == nn.size):
        raise AnalysisError("estimates, standard errors and sample sizes differ in length")
    inside = np.isfinite(est)
    if (inside & ~(nn > 0)).any():
        raise AnalysisError("an in-sample area has no respondents")
    psi = s**2
    ok = inside & np.isfinite(psi) & (psi > 0)
    reliable = ok & (nn >= min_n)
    need = 2 if form == "proportion" else 3
    if reliable.sum() < need and form == "proportion" and reference is not None:
        return _from_reference(est, psi, nn, inside, ok, min_n, replace_all, reference)
    if reliable.sum() < need:
        reliable = ok
    if reliable.sum() < need:
        raise AnalysisError(
            f"generalised variance function: {int(reliable.sum())} areas with a positive SE,"
            f" {need} needed"
        )
    out = np.full(est.size, np.nan)
    if form == "proportion":
        pbar = float((nn[inside] * est[inside]).sum() / nn[inside].sum())
        pq = pbar * (1.0 - pbar)
        if not 0.0 < pbar < 1.0:
            raise AnalysisError(
                "generalised variance function: the pooled share is 0 or 1, use 'loglinear'"
            )
        d = float(psi[reliable].sum() / (pq / nn[reliable]).sum())
        out[inside] = d * pq / nn[inside]
        params: tuple[float, ...] = (d, pbar)
    else:
        lx = np.log(nn[reliable])
        ly = np.log(psi[reliable])
        slope, intercept = np.polyfit(lx, ly, 1)
        smear = float(np.mean(np.exp(ly - (intercept + slope * lx))))
        out[inside] = np.exp(intercept + slope * np.log(nn[inside])) * smear
        params = (float(intercept), float(slope), smear)
    unstable = inside & (~ok | (nn < min_n))
    use = inside if replace_all else unstable
    variance = np.where(use, out, np.where(inside, psi, np.nan))
    return SmoothedVariances(
        variance=variance,
        smoothed=use,
        form=form,
        params=params,
        fitted_on=int(reliable.sum()),
    )


def normal_qq(values: ArrayLike) -> tuple[Float, Float]:
    """Positions for a normal Q–Q plot.

    Parameters
    ----------
    values : array_like
        E.g. the standardised residuals; NaN ignored.

    Returns
    -------
    theoretical, sample : ndarray
        Standard-normal quantiles at Blom's plotting positions :math:`(i - 3/8)/(n + 1/4)`
        and the sorted values. Points near the line :math:`y = x` support the model's
        normality assumption.
    """
    v = _as_float(values, "values").ravel()
    v = np.sort(v[np.isfinite(v)])
    k = v.size
    if k == 0:
        return np.empty(0), np.empty(0)
    pp = (np.arange(1, k + 1) - 0.375) / (k + 0.25)
    return np.array([norm_ppf(float(p)) for p in pp], dtype=np.float64), v
