"""Taylor-linearization variances from cell totals (Binder 1983; Lumley 2010, sec. 2.2).

Everything here works on *cells*: one row per (variance unit, calibration cell, domain), where
the variance unit is the PSU (or the SSU when the second stage contributes). The linearized
score of a ratio-type estimator ``theta = sum(w*a) / sum(w*b)`` for domain ``d`` is
``z_i = 1[d_i = d] * w_i * (a_i - theta * b_i) / sum(w*b)``; its total over a cell only needs
the cell sums of ``w*a`` and ``w*b``. The variance is then R ``svyrecvar``'s recursion:
stage-1 PSU totals centred within strata with the ``(1 - n_h/N_h) * n_h/(n_h - 1)`` factor,
plus, with an fpc at both stages, the stage-2 term scaled by ``n_h/N_h``. Lonely PSUs follow
R's ``survey.lonely.psu`` options.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .design import DesignStructure, FloatArray, IntArray, _sampling_f


def group_sum(codes: IntArray, values: FloatArray, ngroups: int) -> FloatArray:
    """Sum the rows of ``values`` (n x k) by integer ``codes`` in ``0..ngroups-1``.

    Rows with a negative code are dropped. Rows already in code order (the usual case for
    cells of a file sorted by area) take one segmented sum over all columns; others one
    ``bincount`` per column. Either way no loop over rows.
    """
    keep = codes >= 0
    vals = np.asarray(values, dtype=np.float64)
    if vals.ndim == 1:
        vals = vals[:, None]
    if not keep.all():
        codes = codes[keep]
        vals = vals[keep]
    n, k = vals.shape
    if k == 0:
        return np.zeros((ngroups, 0))
    if n and bool(np.all(codes[1:] >= codes[:-1])):
        # rows already grouped (cells follow the file's order, usually by area)
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        out2 = np.zeros((ngroups, k))
        if len(starts) == n:  # one row per group: nothing to add
            out2[codes] = vals
            return out2
        if len(starts) <= n // 4:
            # one segmented sum over all columns: several times faster than a bincount per
            # column (but slower than bincount for many tiny groups)
            out2[codes[starts]] = np.add.reduceat(vals, starts, axis=0)
            return out2
    # bincount needs contiguous weights: one transposed copy instead of one per column
    cols = np.ascontiguousarray(vals.T)
    out = np.empty((k, ngroups))
    for j in range(k):
        out[j] = np.bincount(codes, weights=cols[j], minlength=ngroups)
    return out.T


def _centred_ss(
    key: IntArray, t: FloatArray, nkeys: int, full_count: npt.NDArray[Any]
) -> tuple[FloatArray, FloatArray]:
    """Per key: sum of squared deviations of the present totals from the mean over all
    ``full_count`` units (absent units are zeros), and the uncentred sum of squares."""
    tot = group_sum(key, t, nkeys)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = tot / np.maximum(full_count, 1)[:, None]
    present = np.bincount(key, minlength=nkeys).astype(np.float64)
    dev = t - mean[key]
    ss = group_sum(key, dev * dev, nkeys) + (full_count - present)[:, None] * mean * mean
    raw = group_sum(key, t * t, nkeys)
    return ss, raw


def stratified_variance(
    structure: DesignStructure,
    dom: IntArray,
    unit: IntArray,
    totals: FloatArray,
    ndom: int,
    present_strata: FloatArray | None = None,
) -> FloatArray:
    """Variance per (domain, statistic) from score totals per (domain, variance unit).

    Parameters
    ----------
    structure : DesignStructure
    dom, unit : arrays (G,)
        Domain code and variance-unit code (PSU, or SSU when ``structure.two_stage``) of
        every group; each (dom, unit) pair appears at most once.
    totals : array (G, s)
        Linearized score totals per group and statistic.
    ndom : int
    present_strata : array (ndom*H, s), optional
        For ``lonely_psu='average'``: 1 where the stratum holds rows of the statistic's
        subset (R's ``nstrat`` counts only those), else 0. Default: all strata present.

    Returns
    -------
    array (ndom, s)
    """
    s = totals.shape[1]
    nh = structure.n_psu_in_stratum
    h_count = structure.n_strata
    lonely = structure.lonely_psu
    out = np.zeros((ndom, s))
    if structure.two_stage:
        assert structure.psu_of_ssu is not None
        assert structure.n_ssu_in_psu is not None and structure.popsize2 is not None
        psu = structure.psu_of_ssu[unit]
        npsu = structure.n_psu
        key2 = dom * npsu + psu
        uniq2, inv2 = np.unique(key2, return_inverse=True)
        p2 = uniq2 % npsu
        m = structure.n_ssu_in_psu[p2]
        ss2, raw2 = _centred_ss(inv2.astype(np.int64), totals, len(uniq2), m)
        f2 = _sampling_f(m, structure.popsize2[p2])
        h2 = structure.stratum_of_psu[p2]
        outer = nh[h2] / structure.popsize1[h2]
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(m > 1, f2 * m / np.maximum(m - 1, 1), f2)
        scale = np.where(f2 < 1e-7, 0.0, scale) * outer
        contrib = np.where((m > 1)[:, None], ss2, raw2 if lonely == "adjust" else 0.0)
        out += group_sum((uniq2 // npsu).astype(np.int64), contrib * scale[:, None], ndom)
        psu_tot = group_sum(inv2.astype(np.int64), totals, len(uniq2))
        dom1, psu1, tot1 = (uniq2 // npsu).astype(np.int64), p2, psu_tot
    else:
        dom1, psu1, tot1 = dom, unit, totals
    h = structure.stratum_of_psu[psu1]
    # only the (domain, stratum) pairs that hold a group: the others contribute zero
    uk, kinv = np.unique(dom1 * h_count + h, return_inverse=True)
    kd = (uk // h_count).astype(np.int64)
    kh = (uk % h_count).astype(np.int64)
    full_k = nh[kh]
    ss, raw = _centred_ss(kinv.astype(np.int64), tot1, len(uk), full_k)
    f_h = _sampling_f(nh, structure.popsize1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale_h = np.where(nh > 1, f_h * nh / np.maximum(nh - 1, 1), f_h)
    scale_h = np.where(f_h < 1e-7, 0.0, scale_h)
    lone_k = full_k == 1
    if lonely == "adjust":
        contrib = np.where(lone_k[:, None], raw, ss)
    else:
        contrib = np.where(lone_k[:, None], 0.0, ss)
    v = group_sum(kd, contrib * scale_h[kh][:, None], ndom)
    nkeys = ndom * h_count
    full = np.tile(nh, ndom)
    f1 = np.tile(f_h, ndom)
    lone = full == 1
    if lonely == "average" and lone.any():
        pres = np.ones((nkeys, s)) if present_strata is None else present_strata
        ok = pres * (~(lone & (f1 >= 1e-7)))[:, None]
        nstrat = pres.reshape(ndom, h_count, s).sum(axis=1)
        nok = ok.reshape(ndom, h_count, s).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = v * np.where(nok > 0, nstrat / nok, np.nan)
    out += v
    return out
