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
from .design import FloatArray, IntArray, _sampling_f
from .errors import AnalysisError
from .linearization import (
    GroupSum,
    group_sum,
    moment_stage1,
    stratified_variance,
    unit_variance,
)

DENSE_LIMIT = 20_000_000
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


def domain_covariance(
    ct: CellTable,
    stats: list[BaseStat],
    combos: FloatArray | None,
    column: int,
    dom: IntArray,
    ndom: int,
) -> FloatArray:
    """Covariance matrix across domains of one statistic (column of stats + combos).

    Stage-1 ultimate-cluster formula (Binder 1983) on the full design, without calibration:
    ``sum_h (1 - f_h) n_h/(n_h - 1) sum_{u in h} (t_u - tbar_h)(t_u - tbar_h)'`` with ``t_u``
    the PSU totals of every domain's linearized score. Lonely strata contribute nothing to
    the off-diagonal; callers put the exact variances on the diagonal.
    """
    sc = _scores(ct, stats, dom, ndom)
    z, ok = sc.z, sc.ok
    if column < len(stats):
        zc = z[:, column]
    elif combos is None:
        raise AnalysisError(f"column {column} is neither a statistic nor a combination")
    else:
        zc = (z @ combos)[:, column - len(stats)]
    import scipy.sparse as sp  # imported lazily: slow to import

    st = ct.structure
    tmat = sp.csr_matrix((zc[ok], (ct.psu[ok], dom[ok])), shape=(st.n_psu, ndom))
    nh = st.n_psu_in_stratum
    f = _sampling_f(nh, st.popsize1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(nh > 1, f * nh / np.maximum(nh - 1, 1), 0.0)
    scale = np.where(f < 1e-7, 0.0, scale)
    su = scale[st.stratum_of_psu]
    strat = sp.csr_matrix(
        (np.ones(st.n_psu), (st.stratum_of_psu, np.arange(st.n_psu))),
        shape=(st.n_strata, st.n_psu),
    )
    sums = np.asarray((strat @ tmat).todense())
    cross = np.asarray((tmat.T @ sp.diags(su) @ tmat).todense())
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = (sums.T * np.where(nh > 0, scale / np.maximum(nh, 1), 0.0)) @ sums
    return np.asarray(cross - corr, dtype=np.float64)


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
