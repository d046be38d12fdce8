"""Estimation core on cell tables: calibration g-factors, estimates, linearized variances.

Calibration follows R ``postStratify`` / ``rake`` (Deville & Särndal 1992; Deville, Särndal &
Sautory 1993; Lumley 2010, ch. 7): weights are multiplied by a factor per calibration cell
and the linearized scores are replaced by their residuals, exactly as R ``svyrecvar`` does it
(post-stratification: weighted cell means; raking: ten sweeps of unweighted margin means).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .cells import CellTable, RowMoments, _unique_inverse
from .design import DesignStructure, FloatArray, IntArray, _sampling_f
from .errors import AnalysisError
from .linearization import (
    GroupSum,
    group_sum,
    moment_stage1,
    stratified_variance,
    unit_variance,
)

DENSE_LIMIT = 20_000_000
# units x domains up to which domain_covariance forms every domain's unit totals (dense)
COV_DENSE_LIMIT = 4_000_000
# values per raking sweep array of several domains (calibration cells x domains x statistics)
RAKE_BATCH = 2_000_000


@dataclass(frozen=True)
class BaseStat:
    """A ratio-type statistic ``theta = sum(w*a) / sum(w*b)`` (``b`` None: a total).

    Column names refer to :attr:`CellTable.mom`.
    """

    kind: str  # "mean" (shares too), "total", "ratio"
    a: str
    b: str | None
    au: str | None
    bu: str | None
    cnt: str
    sq: str | None = None
    wr: str | None = None


@dataclass(frozen=True)
class Calibration:
    """Calibration of a cell table: one margin post-stratifies, several rake.

    Attributes
    ----------
    g : array (J,)
        Weight factor per joint calibration cell.
    margins : array (J, M)
        Category code of each joint cell on each margin.
    """

    g: FloatArray
    margins: IntArray

    @property
    def raking(self) -> bool:
        return bool(self.margins.shape[1] > 1)


def calibrate(
    ct: CellTable,
    targets: list[FloatArray],
    names: list[str],
    labels: list[list[object]],
    epsilon: float = 1e-10,
    maxit: int = 1000,
) -> Calibration:
    """Post-stratify (one margin) or rake (several, iterative proportional fitting).

    Parameters
    ----------
    ct : CellTable
        Its ``cal`` codes index ``ct.cal_margins`` rows (categories per margin).
    targets : list of arrays
        Population total per category of each margin (category codes as in ``cal_margins``).
    names, labels : list
        Margin names and category labels, for error messages.
    epsilon : float
        Convergence: after a full sweep every margin total is within ``epsilon`` times the
        population total of its target.
    maxit : int
        Maximum number of sweeps; no convergence raises :class:`AnalysisError`.
    """
    margins = ct.cal_margins
    ncal = margins.shape[0]
    base = np.bincount(ct.cal, weights=ct.sw, minlength=ncal)
    g = np.ones(ncal)
    for m, (tgt, name) in enumerate(zip(targets, names, strict=True)):
        have = np.bincount(margins[:, m], weights=base, minlength=len(tgt))
        empty = (have <= 0) & (tgt > 0)
        if empty.any():
            raise AnalysisError(
                f"--margin {name}: category {labels[m][int(np.argmax(empty))]!s} has a "
                "population total but no sampled rows"
            )
    total = float(np.sum(targets[0]))
    for it in range(max(1, maxit if len(targets) > 1 else 1)):
        for m, tgt in enumerate(targets):
            cur = np.bincount(margins[:, m], weights=base * g, minlength=len(tgt))
            with np.errstate(divide="ignore", invalid="ignore"):
                fac = np.where(cur > 0, tgt / cur, 1.0)
            g = g * fac[margins[:, m]]
        if len(targets) == 1:
            break
        # converged when every margin holds after a full sweep (the last one always does)
        gap = max(
            float(
                np.max(np.abs(np.bincount(margins[:, m], weights=base * g, minlength=len(t)) - t))
            )
            for m, t in enumerate(targets)
        )
        if gap < epsilon * total:
            break
        if it == maxit - 1:
            raise AnalysisError(
                f"--margin: raking did not converge in {maxit} iterations "
                "(margins may be inconsistent: their totals must agree)"
            )
    return Calibration(g=g, margins=margins)


def apply_calibration(ct: CellTable, cal: Calibration) -> CellTable:
    """A new cell table whose weighted moments use the calibrated weights."""
    gc = cal.g[ct.cal]
    mom = {}
    for k, v in ct.mom.items():
        m = k.rsplit(":", 1)[1]
        if m.startswith("w2"):
            mom[k] = v * gc * gc
        elif m.startswith("w15"):
            mom[k] = v * gc * np.sqrt(gc)
        elif m.startswith("w"):
            mom[k] = v * gc
        else:
            mom[k] = v
    return CellTable(
        unit=ct.unit,
        psu=ct.psu,
        stratum=ct.stratum,
        cal=ct.cal,
        dom=ct.dom,
        n=ct.n,
        sw=ct.sw * gc,
        mom=mom,
        structure=ct.structure,
        n_units=ct.n_units,
        n_pos=ct.n_pos,
        cal_margins=ct.cal_margins,
        dom_labels=ct.dom_labels,
    )


@dataclass(frozen=True)
class LinearResult:
    """Per (domain, statistic): estimate, variance, counts and the sums CIs need."""

    est: FloatArray
    var: FloatArray
    n: FloatArray
    wsum: FloatArray
    deff: FloatArray
    extra: dict[str, FloatArray]


def _col(ct: CellTable, name: str | None) -> FloatArray:
    if name is None:
        return np.zeros(ct.ncell)
    return ct.mom[name]


def _stack(ct: CellTable, names: list[str | None]) -> FloatArray:
    """The moment columns ``names`` side by side (cells x names), read-only: cached on the
    cell table, so the national and by-domain runs build each matrix once."""
    key = tuple(names)
    got = ct.stacks.get(key)
    if got is None:
        got = np.column_stack([_col(ct, n) for n in names]) if names else np.zeros((ct.ncell, 0))
        ct.stacks[key] = got
    return got


@dataclass(frozen=True)
class _Scores:
    """Domain estimates of ratio-type statistics and their linearized scores per cell."""

    is_total: np.ndarray[Any, np.dtype[np.bool_]]
    sa: FloatArray
    sb: FloatArray
    theta: FloatArray
    denom: FloatArray
    ok: np.ndarray[Any, np.dtype[np.bool_]]
    z: FloatArray


def _scores(ct: CellTable, stats: list[BaseStat], dom: IntArray, ndom: int) -> _Scores:
    """``theta = sum(a)/sum(b)`` per domain (``sum(a)`` for totals) and the scores
    ``z = (a - theta b) / sum(b)`` of every cell (Binder 1983), zero outside the domains."""
    a = _stack(ct, [st.a for st in stats])
    b = _stack(ct, [st.b for st in stats])
    is_total = np.array([st.b is None for st in stats], dtype=bool)
    sa = group_sum(dom, a, ndom)
    sb = group_sum(dom, b, ndom)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(is_total[None, :], sa, sa / sb)
        denom = np.where(is_total[None, :], 1.0, sb)
    ok = dom >= 0
    dsafe = np.where(ok, dom, 0)
    th_c = np.where(np.isfinite(theta), theta, 0.0)[dsafe]
    de_c = np.where((denom != 0) & np.isfinite(denom), denom, np.inf)[dsafe]
    z = np.where(ok[:, None], (a - th_c * b) / de_c, 0.0)
    return _Scores(is_total, sa, sb, theta, denom, ok, z)


def estimate_linear(
    ct: CellTable,
    stats: list[BaseStat],
    combos: FloatArray | None,
    dom: IntArray,
    ndom: int,
    cal: Calibration | None = None,
    extra_moments: tuple[str, ...] = (),
) -> LinearResult:
    """Estimates and linearized variances for ``stats`` (and linear ``combos`` of them).

    Parameters
    ----------
    ct : CellTable
        With calibrated moments if ``cal`` is given.
    stats : list of BaseStat
    combos : array (s, k), optional
        Extra statistics as linear combinations of ``stats`` (indices): estimate
        ``theta @ combos`` and score ``z @ combos`` (joint linearization).
    dom : array (C,)
        Domain code per cell (``-1`` excluded).
    cal : Calibration, optional
        Replace scores by calibration residuals (R ``svyrecvar``).
    extra_moments : tuple of str
        Moments summed per (domain, statistic) and returned in ``extra`` (e.g. ``w2y``).
    """
    s = len(stats)
    sc = _scores(ct, stats, dom, ndom)
    is_total, sa, theta, denom, ok, z = sc.is_total, sc.sa, sc.theta, sc.denom, sc.ok, sc.z
    est = theta
    if combos is not None:
        z = np.hstack([z, z @ combos])
        est = np.hstack([theta, combine(theta, combos)])
    k = z.shape[1]
    st = ct.structure
    if ct.second is not None:
        if cal is not None:
            raise AnalysisError("row moments: calibration needs the rows")
        t2 = _row_squares(ct.second, stats, combos, theta, denom, dom)
        var = moment_stage1(st, dom, ct.stratum, np.where(ok[:, None], z, 0.0), t2, ndom)
    elif cal is None:
        key = dom * ct.n_units + ct.unit
        keep = ok
        uniq, inv = np.unique(key[keep], return_inverse=True)
        totals = group_sum(inv.astype(np.int64), z[keep], len(uniq))
        g_dom = (uniq // ct.n_units).astype(np.int64)
        g_unit = (uniq % ct.n_units).astype(np.int64)
        present = None
        if st.lonely_psu == "average":
            cnt = _stack(ct, [x.cnt for x in stats])
            if combos is not None:
                cnt = np.hstack([cnt, (cnt @ (combos != 0)).astype(np.float64)])
            hkey = np.where(ok, dom * st.n_strata + ct.stratum, -1)
            present = (group_sum(hkey, cnt, ndom * st.n_strata) > 0).astype(np.float64)
        var = stratified_variance(st, g_dom, g_unit, totals, ndom, present)
    else:
        # the dense path is exact; the Gram-matrix path avoids units x domains x statistics
        # arrays for big designs (it loses precision only when calibration explains nearly
        # all of a statistic's variance, e.g. the total of a calibration variable)
        dense = st.two_stage or ct.n_units * ndom * z.shape[1] <= DENSE_LIMIT
        fn = _calibrated_variance if dense else _calibrated_variance_fast
        var = fn(ct, stats, combos, z, dom, ndom, theta, denom, is_total, cal)
    # domain sums by column names: shares reuse sum(b) as the weight sum and sum(a) as the
    # sum of squares (y = y*y), so only the counts need a new pass
    sums: dict[tuple[str | None, ...], FloatArray] = {
        tuple(x.a for x in stats): sa,
        tuple(x.b for x in stats): sc.sb,
    }

    def dom_sum(names: list[str | None]) -> FloatArray:
        key_ = tuple(names)
        if key_ not in sums:
            sums[key_] = group_sum(dom, _stack(ct, names), ndom)
        return sums[key_]

    n = dom_sum([x.cnt for x in stats])
    wsum = dom_sum([x.wr or x.b for x in stats])
    s2 = dom_sum([x.sq for x in stats])
    deff = _deff(theta, sa, wsum, s2, n, var[:, :s], stats)
    extra = {}
    for m in extra_moments:
        cols = []
        for x in stats:
            key_ = x.a.rsplit(":", 1)[0]
            cols.append(ct.mom.get(f"{key_}:{m}", np.zeros(ct.ncell)))
        extra[m] = group_sum(dom, np.column_stack(cols), ndom)
    if combos is not None:
        with np.errstate(invalid="ignore"):
            d_idx = combine(deff, np.abs(combos)) / np.maximum(np.abs(combos).sum(axis=0), 1e-300)
            n_idx = np.max(np.where(combos[None, :, :] != 0, n[:, :, None], 0), axis=1)
            w_idx = np.max(np.where(combos[None, :, :] != 0, wsum[:, :, None], 0), axis=1)
        deff = np.hstack([deff, d_idx])
        n = np.hstack([n, n_idx])
        wsum = np.hstack([wsum, w_idx])
    assert var.shape == (ndom, k)
    return LinearResult(est=est, var=var, n=n, wsum=wsum, deff=deff, extra=extra)


def _row_squares(
    second: RowMoments,
    stats: list[BaseStat],
    combos: FloatArray | None,
    theta: FloatArray,
    denom: FloatArray,
    dom: IntArray,
) -> FloatArray:
    """Per cell and statistic, the sum over its rows of their squared scores.

    A row's score is ``w * g_d' x`` with ``g_d`` holding, per statistic of domain ``d``,
    ``1/sum(b)`` at its ``a`` moment and ``-theta/sum(b)`` at its ``b`` moment (the same
    non-finite guards as :func:`_scores`); its square summed over the cell's rows is
    ``w**2 * g_d' (sum x x') g_d``.
    """
    k_dim = second.products.shape[1]
    ndom = theta.shape[0]
    s = len(stats)
    finite_theta = np.where(np.isfinite(theta), theta, 0.0)
    usable = (denom != 0) & np.isfinite(denom)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(usable, 1.0 / np.where(usable, denom, 1.0), 0.0)
    g = np.zeros((ndom, k_dim, s))
    for j, st in enumerate(stats):
        if st.a not in second.index or (st.b is not None and st.b not in second.index):
            raise AnalysisError(f"row moments: no products for {st.a.rsplit(':', 1)[0]}")
        g[:, second.index[st.a], j] += inv[:, j]
        if st.b is not None:
            g[:, second.index[st.b], j] -= finite_theta[:, j] * inv[:, j]
    if combos is not None:
        g = np.concatenate([g, g @ combos], axis=2)
    ok = dom >= 0
    out = np.zeros((len(dom), g.shape[2]))
    if ok.any():
        gc = g[dom[ok]]
        prod = np.matmul(second.products[ok], gc)
        out[ok] = np.einsum("ckv,ckv->cv", prod, gc) * (second.weight[ok] ** 2)[:, None]
    return out


def combine(values: FloatArray, combos: FloatArray) -> FloatArray:
    """``values @ combos`` where a part with coefficient 0 cannot spoil a combination.

    Plain ``@`` gives ``nan * 0 = nan``: one item without answers in a domain would blank
    every index of that domain, also those that do not use it. Here a combination is NaN
    only when one of its own parts (non-zero coefficient) is not finite.

    Parameters
    ----------
    values : array (d, s)
        Per domain, the base statistics.
    combos : array (s, k)
        Coefficients of each combination.

    Returns
    -------
    array (d, k)
    """
    bad = ~np.isfinite(values)
    out = np.where(bad, 0.0, values) @ combos
    spoiled = bad.astype(np.float64) @ (combos != 0).astype(np.float64) > 0
    return np.asarray(np.where(spoiled, np.nan, out), dtype=np.float64)


def _deff(
    theta: FloatArray,
    sa: FloatArray,
    wsum: FloatArray,
    s2: FloatArray,
    n: FloatArray,
    var: FloatArray,
    stats: list[BaseStat],
) -> FloatArray:
    """R ``svymean``/``svytotal`` ``deff=TRUE``: design variance over the SRS-without-
    replacement variance ``s2 * (1 - n/N) / n`` (of the total: times ``N^2``)."""
    kinds = np.array([x.kind for x in stats])
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = sa / wsum
        s2w = n / (n - 1) * (s2 / wsum - mean * mean)
        vsrs = s2w * (wsum - n) / (wsum * n)
        vsrs = np.where(kinds[None, :] == "total", vsrs * wsum * wsum, vsrs)
        d = var / vsrs
    d = np.where(kinds[None, :] == "ratio", np.nan, d)
    d = np.where(wsum < n, np.nan, d)
    return np.asarray(d, dtype=np.float64)


def _calibrated_variance(
    ct: CellTable,
    stats: list[BaseStat],
    combos: FloatArray | None,
    z: FloatArray,
    dom: IntArray,
    ndom: int,
    theta: FloatArray,
    denom: FloatArray,
    is_total: np.ndarray,
    cal: Calibration,
) -> FloatArray:
    """Variance with calibration residuals: every unit of every domain gets a score.

    Per domain only its own cells are read (in cell order, so every sum adds the same terms
    in the same order as over all cells with zeros outside the domain); what does not depend
    on the domain (weights per unit and cell, the groupings) is built once. The unit totals
    are a full (units x statistics) array per domain, never units x domains x statistics.
    """
    ncal = cal.margins.shape[0]
    nu = ct.n_units
    k = z.shape[1]
    import scipy.sparse as sp  # imported lazily: slow to import, needed only here

    # final weights per (unit, joint cell) and rows per joint cell, all rows
    uc = sp.csr_matrix((ct.sw, (ct.unit, ct.cal)), shape=(nu, ncal))
    n_j = np.bincount(ct.cal, weights=ct.n, minlength=ncal)
    w_j = np.bincount(ct.cal, weights=ct.sw, minlength=ncal)
    out = np.zeros((ndom, k))
    everyone = ndom == 1 and bool(np.all(dom == 0))
    order = np.argsort(dom, kind="stable")
    bounds = np.searchsorted(dom[order], np.arange(ndom + 1))
    if cal.raking:
        au = _stack(ct, [x.au for x in stats])
        bu = _stack(ct, [x.bu for x in stats])
        not_total = np.where(is_total, 0.0, 1.0)
        cats = [cal.margins[:, m] for m in range(cal.margins.shape[1])]
        margin_sum = [GroupSum(cat, int(cat.max()) + 1, reuse=True) for cat in cats]
        dens = [
            np.bincount(cat, weights=n_j, minlength=g.ngroups)
            for cat, g in zip(cats, margin_sum, strict=True)
        ]

    def rows_of(d: int) -> slice | IntArray:
        return slice(None) if everyone else order[bounds[d] : bounds[d + 1]]

    # the raking sweeps work column by column, so several domains side by side give the same
    # numbers with a fraction of the Python overhead; batches bound the cells x domains x
    # statistics arrays
    batch = max(1, RAKE_BATCH // max(ncal * k, 1)) if cal.raking else 1
    for d0 in range(0, ndom, batch):
        doms = range(d0, min(ndom, d0 + batch))
        if cal.raking:
            u_j = np.empty((ncal, len(doms) * k))
            for i, d in enumerate(doms):
                rows = rows_of(d)
                th = np.where(np.isfinite(theta[d]), theta[d], 0.0)
                de = np.where((denom[d] != 0) & np.isfinite(denom[d]), denom[d], np.inf)
                zu = (au[rows] - th * not_total * bu[rows]) / de
                if combos is not None:
                    zu = np.hstack([zu, zu @ combos])
                u_j[:, i * k : (i + 1) * k] = GroupSum(ct.cal[rows], ncal)(zu)
            offsets = np.zeros_like(u_j)
            for _ in range(10):
                for cat, msum, den in zip(cats, margin_sum, dens, strict=True):
                    num = msum(u_j)
                    with np.errstate(divide="ignore", invalid="ignore"):
                        a_c = np.where(den[:, None] > 0, num / den[:, None], 0.0)
                    u_j = u_j - a_c[cat] * n_j[:, None]
                    offsets = offsets + a_c[cat]
        for i, d in enumerate(doms):
            rows = rows_of(d)
            zd = z[rows]
            if cal.raking:
                offset = np.ascontiguousarray(offsets[:, i * k : (i + 1) * k])
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    sums = GroupSum(ct.cal[rows], ncal)(zd)
                    offset = np.where(w_j[:, None] > 0, sums / w_j[:, None], 0.0)
            # unit totals: the domain's scores minus the calibrated weights times the offsets
            tot = np.asarray(uc @ offset, dtype=np.float64)
            np.negative(tot, out=tot)
            units, inv = _unique_inverse(ct.unit[rows])
            tot[units] += group_sum(inv, zd, len(units))
            out[d] = unit_variance(ct.structure, tot)
    return out


def domain_estimates(
    ct: CellTable,
    stats: list[BaseStat],
    combos: FloatArray | None,
    column: int,
    dom: IntArray,
    ndom: int,
) -> FloatArray:
    """The domains' estimates of one statistic (column of ``stats`` and ``combos``), as
    :func:`estimate_linear` gives them, without their variances."""
    theta = _scores(ct, stats, dom, ndom).theta
    if column < len(stats):
        return np.asarray(theta[:, column], dtype=np.float64)
    if combos is None:
        raise AnalysisError(f"column {column} is neither a statistic nor a combination")
    return combine(theta, combos)[:, column - len(stats)]


def domain_covariance(
    ct: CellTable,
    stats: list[BaseStat],
    combos: FloatArray | None,
    column: int,
    dom: IntArray,
    ndom: int,
    variances: FloatArray | None,
    cal: Calibration | None = None,
) -> FloatArray:
    """Joint covariance matrix of the ``ndom`` domain estimates of one statistic (column of
    ``stats`` and ``combos``), in one pass over the cells.

    A domain's variance is a quadratic form in the variance-unit totals ``t_d`` of its
    linearized score (calibration residuals when ``cal`` is given), the same form for every
    domain: per stratum ``s_h Σ_u t_u t_u' − c_h (Σ_u t_u)(Σ_u t_u)'`` with ``c_h = s_h/n_h``
    and ``s_h = (1 − n_h/N_h) n_h/(n_h − 1)`` (a lonely PSU: ``s_h`` the fpc factor and no
    centring under ``adjust``, nothing otherwise), plus, with an fpc at both stages, the same
    within each PSU over its SSUs. The covariance of two domains is that form's bilinear
    value on their two totals: the off-diagonal :func:`estimate_linear`'s variance of the
    mean of the two gives by polarization, without a run per pair. The unit totals are
    ``T = A − W O``: ``A`` the domain's own score totals (sparse), ``W`` the calibrated weight
    of each unit per calibration cell, ``O`` the residual offsets of every domain (the
    regression :func:`_calibrated_variance` uses), so every product is of sparse matrices
    and small dense ones: O(cells + strata x domains^2 + domains x calibration cells^2);
    up to :data:`COV_DENSE_LIMIT` units x domains, ``T`` itself is formed and centred within
    each stratum (PSU), as the variances are, so its diagonal is theirs to rounding.

    A row-moment table (every row its own PSU, :class:`RowMoments`) holds each row in one
    domain, so ``Σ_u t_ud t_ue`` is zero for two domains and only the centring couples them:
    ``−Σ_h c_h T_hd T_he`` from the per-(stratum, domain) score sums ``T_hd``.

    Parameters
    ----------
    variances : array (ndom,), optional
        The domains' variances (:func:`estimate_linear`), put on the diagonal as they are
        (None: the form's own; a row-moment table then lacks the rows' squares there).
    cal : Calibration, optional
        The calibration ``ct`` carries (its moments already calibrated).

    Returns
    -------
    array (ndom, ndom)
    """
    sc = _scores(ct, stats, dom, ndom)
    nbase = len(stats)
    if column < nbase:
        zc = sc.z[:, column]
    elif combos is None or column - nbase >= combos.shape[1]:
        raise AnalysisError(f"column {column} is neither a statistic nor a combination")
    else:
        zc = sc.z @ combos[:, column - nbase]
    ok = sc.ok
    st = ct.structure
    import scipy.sparse as sp  # imported lazily: slow to import

    if ct.second is not None:
        if cal is not None:
            raise AnalysisError("row moments: calibration needs the rows")
        _s1, c1 = _stage_factors(st.n_psu_in_stratum, st.popsize1, st.lonely_psu)
        sums = sp.csr_matrix((zc[ok], (ct.stratum[ok], dom[ok])), shape=(st.n_strata, ndom))
        dense = np.asarray(sums.todense())
        cov = -(dense.T @ (c1[:, None] * dense))
    else:
        nu = ct.n_units
        a = sp.csr_matrix((zc[ok], (ct.unit[ok], dom[ok])), shape=(nu, ndom))
        w = offsets = None
        if cal is not None:
            w = sp.csr_matrix((ct.sw, (ct.unit, ct.cal)), shape=(nu, cal.margins.shape[0]))
            offsets = _domain_offsets(ct, stats, combos, column, zc, dom, ndom, sc, cal)
        cov1, cov2 = _stage_forms(st, a, w, offsets)
        if st.lonely_psu == "average":
            cov1 = _averaged(ct, stats, combos, column, dom, ndom, cov1, cal is not None)
        cov = cov1 + cov2
    out = np.asarray((cov + cov.T) / 2, dtype=np.float64)
    if variances is not None:
        np.fill_diagonal(out, variances)
    return out


def _stage_forms(
    st: DesignStructure, a: Any, w: Any, offsets: FloatArray | None
) -> tuple[FloatArray, FloatArray]:
    """The stage-1 and stage-2 (zero for one stage) covariance forms of the unit totals
    ``T = a − w @ offsets`` (see :func:`domain_covariance`)."""
    import scipy.sparse as sp

    nu, ndom = a.shape
    s1, c1 = _stage_factors(st.n_psu_in_stratum, st.popsize1, st.lonely_psu)
    form: Any
    first: Any
    if nu * ndom <= COV_DENSE_LIMIT:
        # the units' totals of every domain side by side, centred as the variances are
        first = a.toarray()
        if w is not None:
            first -= np.asarray(w @ offsets, dtype=np.float64)
        form = _dense_form
    else:
        form, first = _form, (a, w, offsets)
    cov2 = np.zeros((ndom, ndom))
    if st.two_stage:
        assert st.psu_of_ssu is not None and st.n_ssu_in_psu is not None
        assert st.popsize2 is not None
        h_of_psu = st.stratum_of_psu
        outer = st.n_psu_in_stratum[h_of_psu] / st.popsize1[h_of_psu]
        s2, c2 = _stage_factors(st.n_ssu_in_psu, st.popsize2, st.lonely_psu)
        cov2 = form(first, st.psu_of_ssu, s2 * outer, c2 * outer)
        agg = sp.csr_matrix((np.ones(nu), (st.psu_of_ssu, np.arange(nu))), shape=(st.n_psu, nu))
        if form is _dense_form:
            first = np.asarray(agg @ first, dtype=np.float64)
        else:
            first = (sp.csr_matrix(agg @ a), None if w is None else sp.csr_matrix(agg @ w), offsets)
    return form(first, st.stratum_of_psu, s1, c1), cov2


def _stage_factors(n: IntArray, popsize: FloatArray, lonely: str) -> tuple[FloatArray, FloatArray]:
    """Per group (stratum, or PSU at stage 2) of ``n`` units: the factor ``s`` of the
    units' own products and ``c`` of the group sum's, as :func:`_stage1_from_ss` and
    :func:`~.linearization.unit_variance` scale them."""
    f = _sampling_f(n, popsize)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n > 1, f * n / np.maximum(n - 1, 1), f)
    scale = np.where(f < 1e-7, 0.0, scale)
    lone = n <= 1
    s = np.where(lone, scale if lonely == "adjust" else 0.0, scale)
    c = np.where(lone, 0.0, scale / np.maximum(n, 1))
    return np.asarray(s, dtype=np.float64), np.asarray(c, dtype=np.float64)


def _dense_form(totals: FloatArray, group: IntArray, s: FloatArray, c: FloatArray) -> FloatArray:
    """:func:`_form` from the units' totals themselves (units x domains), centred within
    each group (the lonely ones, ``c`` zero, are not) before the products, as
    :func:`~.linearization.unit_variance` centres them."""
    ngroups = len(s)
    count = np.bincount(group, minlength=ngroups).astype(np.float64)
    centre = c > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(
            centre[:, None], group_sum(group, totals, ngroups) / np.maximum(count, 1)[:, None], 0.0
        )
    dev = totals - mean[group]
    return np.asarray(dev.T @ (s[group][:, None] * dev), dtype=np.float64)


def _form(
    parts: tuple[Any, Any, FloatArray | None],
    group: IntArray,
    s: FloatArray,
    c: FloatArray,
) -> FloatArray:
    """``T' diag(s_g(u)) T − (G T)' diag(c) (G T)`` for ``T = a − w @ offsets`` (``parts``;
    ``w`` None: ``T = a``), ``G`` the indicator of ``group`` (units → groups), never forming
    ``T``."""
    import scipy.sparse as sp

    a, w, offsets = parts
    nunits = a.shape[0]
    ngroups = len(s)
    su = sp.diags(s[group])
    ind = sp.csr_matrix((np.ones(nunits), (group, np.arange(nunits))), shape=(ngroups, nunits))
    own = np.asarray((a.T @ su @ a).todense())
    ga = np.asarray((ind @ a).todense())
    if w is not None:
        assert offsets is not None
        aw = np.asarray((a.T @ su @ w).todense()) @ offsets
        ww = np.asarray((w.T @ su @ w).todense())
        own = own - aw - aw.T + offsets.T @ ww @ offsets
        ga = ga - np.asarray((ind @ w).todense()) @ offsets
    return np.asarray(own - ga.T @ (c[:, None] * ga), dtype=np.float64)


def _domain_offsets(
    ct: CellTable,
    stats: list[BaseStat],
    combos: FloatArray | None,
    column: int,
    zc: FloatArray,
    dom: IntArray,
    ndom: int,
    sc: _Scores,
    cal: Calibration,
) -> FloatArray:
    """Residual offsets (calibration cells x domains) of every domain's score of one column:
    weighted cell means (post-stratification) or the raking sweeps of
    :func:`_calibrated_variance`, all domains side by side."""
    ncal = cal.margins.shape[0]
    ok = dom >= 0
    jd = np.where(ok, ct.cal * ndom + dom, -1)
    n_j = np.bincount(ct.cal, weights=ct.n, minlength=ncal)
    if not cal.raking:
        w_j = np.bincount(ct.cal, weights=ct.sw, minlength=ncal)
        sums = group_sum(jd, zc, ncal * ndom).reshape(ncal, ndom)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.where(w_j[:, None] > 0, sums / w_j[:, None], 0.0))
    au = _stack(ct, [x.au for x in stats])
    bu = _stack(ct, [x.bu for x in stats])
    dsafe = np.where(ok, dom, 0)
    th = np.where(np.isfinite(sc.theta), sc.theta, 0.0)[dsafe]
    de = np.where((sc.denom != 0) & np.isfinite(sc.denom), sc.denom, np.inf)[dsafe]
    not_total = np.where(sc.is_total, 0.0, 1.0)
    zu = np.where(ok[:, None], (au - th * not_total * bu) / de, 0.0)
    nbase = len(stats)
    if column < nbase:
        zuc = zu[:, column]
    else:
        assert combos is not None
        zuc = zu @ combos[:, column - nbase]
    u_j = group_sum(jd, zuc, ncal * ndom).reshape(ncal, ndom)
    offsets = np.zeros((ncal, ndom))
    cats = [cal.margins[:, m] for m in range(cal.margins.shape[1])]
    dens = [np.bincount(cat, weights=n_j, minlength=int(cat.max()) + 1) for cat in cats]
    for _ in range(10):
        for cat, den in zip(cats, dens, strict=True):
            num = group_sum(cat, u_j, len(den))
            with np.errstate(divide="ignore", invalid="ignore"):
                a_c = np.where(den[:, None] > 0, num / den[:, None], 0.0)
            u_j = u_j - a_c[cat] * n_j[:, None]
            offsets = offsets + a_c[cat]
    return offsets


def _averaged(
    ct: CellTable,
    stats: list[BaseStat],
    combos: FloatArray | None,
    column: int,
    dom: IntArray,
    ndom: int,
    cov: FloatArray,
    calibrated: bool,
) -> FloatArray:
    """Lonely PSUs under ``average``: each variance is scaled by its own (domain's) strata
    count over the non-lonely ones among them, and the covariance of two domains is what
    that rule gives the variance of their mean (strata of either domain) by polarization.
    Calibrated, every domain counts every stratum (as :func:`_calibrated_variance`): one
    factor for the whole matrix."""
    st = ct.structure
    f = _sampling_f(st.n_psu_in_stratum, st.popsize1)
    usable = (~((st.n_psu_in_stratum == 1) & (f >= 1e-7))).astype(np.float64)
    if usable.all():
        return cov
    if calibrated:
        nok = float(usable.sum())
        return cov * (st.n_strata / nok if nok else np.nan)
    nbase = len(stats)
    cnt = _stack(ct, [x.cnt for x in stats])
    if column < nbase:
        cc = cnt[:, column]
    else:
        assert combos is not None
        cc = cnt @ (combos[:, column - nbase] != 0).astype(np.float64)
    hcount = st.n_strata
    key = np.where(dom >= 0, dom * hcount + ct.stratum, -1)
    present = (group_sum(key, cc, ndom * hcount).reshape(ndom, hcount) > 0).astype(np.float64)
    both = present @ present.T
    nstrat_1 = present.sum(axis=1)
    nok_1 = present @ usable
    both_ok = (present * usable) @ present.T
    nstrat_2 = nstrat_1[:, None] + nstrat_1[None, :] - both
    nok_2 = nok_1[:, None] + nok_1[None, :] - both_ok
    with np.errstate(divide="ignore", invalid="ignore"):
        r1 = np.where(nok_1 > 0, nstrat_1 / nok_1, np.nan)
        r2 = np.where(nok_2 > 0, nstrat_2 / nok_2, np.nan)
    v = np.diag(cov)
    pair = (v[:, None] + v[None, :] + 2 * cov) * r2
    return np.asarray((pair - (v * r1)[:, None] - (v * r1)[None, :]) / 2, dtype=np.float64)


def _calibrated_variance_fast(
    ct: CellTable,
    stats: list[BaseStat],
    combos: FloatArray | None,
    z: FloatArray,
    dom: IntArray,
    ndom: int,
    theta: FloatArray,
    denom: FloatArray,
    is_total: np.ndarray,
    cal: Calibration,
) -> FloatArray:
    """:func:`_calibrated_variance` for one-stage designs without a loop over domains.

    The PSU total of domain ``d`` is ``t_u = a_u - W_u . o_d`` (``a_u`` its score total,
    ``W_u`` its calibrated weight per calibration cell, ``o_d`` the residual offsets), so the
    stratum sums of squares need only the sparse ``a``, per-stratum Gram matrices
    ``sum_u W_u W_u'`` and the offsets: O(strata x cells^2 x domains x statistics).
    """
    st = ct.structure
    ncal = cal.margins.shape[0]
    nu = ct.n_units
    k = z.shape[1]
    ok = dom >= 0
    # offsets o[j, d, :]
    jd = np.where(ok, ct.cal * ndom + dom, -1)
    n_j = np.bincount(ct.cal, weights=ct.n, minlength=ncal)
    w_j = np.bincount(ct.cal, weights=ct.sw, minlength=ncal)
    if cal.raking:
        au = np.column_stack([_col(ct, x.au) for x in stats])
        bu = np.column_stack([_col(ct, x.bu) for x in stats])
        th = np.where(np.isfinite(theta), theta, 0.0)[np.where(ok, dom, 0)]
        de = np.where((denom != 0) & np.isfinite(denom), denom, np.inf)[np.where(ok, dom, 0)]
        zu = np.where(ok[:, None], (au - th * np.where(is_total, 0.0, 1.0) * bu) / de, 0.0)
        if combos is not None:
            zu = np.hstack([zu, zu @ combos])
        u_j = group_sum(jd, zu, ncal * ndom).reshape(ncal, ndom, k)
        offset = np.zeros((ncal, ndom, k))
        for _ in range(10):
            for m in range(cal.margins.shape[1]):
                cat = cal.margins[:, m]
                ncat = int(cat.max()) + 1
                num = group_sum(cat, u_j.reshape(ncal, -1), ncat).reshape(ncat, ndom, k)
                den = np.bincount(cat, weights=n_j, minlength=ncat)
                with np.errstate(divide="ignore", invalid="ignore"):
                    a_c = np.where(den[:, None, None] > 0, num / den[:, None, None], 0.0)
                u_j = u_j - a_c[cat] * n_j[:, None, None]
                offset = offset + a_c[cat]
    else:
        sums = group_sum(jd, z, ncal * ndom).reshape(ncal, ndom, k)
        with np.errstate(divide="ignore", invalid="ignore"):
            offset = np.where(w_j[:, None, None] > 0, sums / w_j[:, None, None], 0.0)
    # W[u, j]: calibrated weight of unit u in cell j (dense: units x cells, cells are few)
    wmat = np.zeros((nu, ncal))
    np.add.at(wmat, (ct.unit, ct.cal), ct.sw)
    h_of_u = st.stratum_of_psu[np.arange(nu)]
    nh = st.n_psu_in_stratum
    hcount = st.n_strata
    gram = np.zeros((hcount, ncal, ncal))
    np.add.at(gram, h_of_u, wmat[:, :, None] * wmat[:, None, :])
    wsum_h = group_sum(h_of_u, wmat, hcount)  # (H, J)
    # sparse a: score totals per (domain, unit)
    key = np.where(ok, dom * nu + ct.unit, -1)
    uniq, inv = np.unique(key[ok], return_inverse=True)
    a = group_sum(inv.astype(np.int64), z[ok], len(uniq))
    g_d = (uniq // nu).astype(np.int64)
    g_u = (uniq % nu).astype(np.int64)
    b = np.einsum("gj,gjk->gk", wmat[g_u], offset[:, g_d, :].transpose(1, 0, 2))
    g_h = h_of_u[g_u]
    dh = g_d * hcount + g_h
    nkeys = ndom * hcount
    sum_a2 = group_sum(dh, a * a, nkeys).reshape(ndom, hcount, k)
    sum_ab = group_sum(dh, a * b, nkeys).reshape(ndom, hcount, k)
    sum_a = group_sum(dh, a, nkeys).reshape(ndom, hcount, k)
    sum_b2 = np.einsum("hij,idk,jdk->dhk", gram, offset, offset)
    sum_b = np.einsum("hj,jdk->dhk", wsum_h, offset)
    sum_t2 = sum_a2 - 2 * sum_ab + sum_b2
    sum_t = sum_a - sum_b
    f = _sampling_f(nh, st.popsize1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ss = sum_t2 - sum_t * sum_t / np.maximum(nh, 1)[None, :, None]
        scale = np.where(nh > 1, f * nh / np.maximum(nh - 1, 1), f)
    scale = np.where(f < 1e-7, 0.0, scale)
    lone = nh == 1
    if st.lonely_psu == "adjust":
        contrib = np.where(lone[None, :, None], sum_t2, ss)
    else:
        contrib = np.where(lone[None, :, None], 0.0, ss)
    v = np.clip((contrib * scale[None, :, None]).sum(axis=1), 0.0, None)
    if st.lonely_psu == "average" and np.any(lone & (f >= 1e-7)):
        nok = int(np.sum(~(lone & (f >= 1e-7))))
        v = v * (hcount / nok if nok else np.nan)
    return np.asarray(v, dtype=np.float64)
