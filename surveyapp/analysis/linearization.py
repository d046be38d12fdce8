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

# below this many values a bincount per column beats importing scipy (~0.1 s, once)
SPARSE_SUM_MIN = 50_000


class GroupSum:
    """:func:`group_sum` by fixed ``codes``: the grouping is worked out once for many sums.

    Rows already in code order (the usual case for cells of a file sorted by area) take one
    segmented sum over all columns. Otherwise several columns are summed as the product with
    the sparse ``ngroups x n`` indicator matrix, in CSC form straight from ``codes`` (no
    sort): one pass adding whole rows in row order, as ``bincount`` adds, so the sums are the
    same to the last bit, without the transposed copy a ``bincount`` per column needs.
    """

    def __init__(self, codes: IntArray, ngroups: int, reuse: bool = False) -> None:
        """``reuse``: many sums will follow, so build the indicator even for small ones
        (a ``bincount`` per column costs ~20 us each)."""
        keep = codes >= 0
        self.keep: npt.NDArray[np.bool_] | None = None if bool(keep.all()) else keep
        self.codes = np.asarray(codes if self.keep is None else codes[keep], dtype=np.int64)
        self.ngroups = ngroups
        self.starts: IntArray | None = None
        self.one_per_group = False
        c = self.codes
        n = len(c)
        if n and bool(np.all(c[1:] >= c[:-1])):
            starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
            if len(starts) == n:
                self.one_per_group = True
            elif len(starts) <= n // 4:
                # reduceat is slower than the indicator product for many tiny groups
                self.starts = starts
        self._ind: Any = None
        self.reuse = reuse

    def __call__(self, values: FloatArray) -> FloatArray:
        vals = np.asarray(values, dtype=np.float64)
        if vals.ndim == 1:
            vals = vals[:, None]
        if self.keep is not None:
            vals = vals[self.keep]
        codes, ngroups = self.codes, self.ngroups
        n, k = vals.shape
        if k == 0:
            return np.zeros((ngroups, 0))
        if self.one_per_group:
            out2 = np.zeros((ngroups, k))
            out2[codes] = vals
            return out2
        if self.starts is not None:
            out2 = np.zeros((ngroups, k))
            out2[codes[self.starts]] = np.add.reduceat(vals, self.starts, axis=0)
            return out2
        if self._ind is None and not self.reuse and (k == 1 or n * k < SPARSE_SUM_MIN):
            out = np.empty((k, ngroups))
            for j in range(k):
                out[j] = np.bincount(codes, weights=vals[:, j], minlength=ngroups)
            return out.T
        if self._ind is None:
            import scipy.sparse as sp  # imported lazily: slow to import, only big sums need it

            self._ind = sp.csc_matrix(
                (np.ones(n), codes, np.arange(n + 1, dtype=np.int64)), shape=(ngroups, n)
            )
        return np.asarray(self._ind @ vals, dtype=np.float64)


def group_sum(codes: IntArray, values: FloatArray, ngroups: int) -> FloatArray:
    """Sum the rows of ``values`` (n x k) by integer ``codes`` in ``0..ngroups-1``.

    Rows with a negative code are dropped. No loop over rows; see :class:`GroupSum`.
    """
    return GroupSum(codes, ngroups)(values)


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
    out += _stage1(structure, dom1, psu1, tot1, ndom, present_strata)
    return out


def unit_variance(structure: DesignStructure, totals: FloatArray) -> FloatArray:
    """:func:`stratified_variance` of one domain holding every variance unit.

    ``totals`` (n_units x s) has a row for every unit, so the groups need no ``np.unique``:
    the stage-2 groups are the PSUs themselves, and their totals serve stage 1 too. Same
    operations in the same order as the general function, so the same numbers to the bit.

    Returns
    -------
    array (s,)
    """
    s = totals.shape[1]
    if not structure.two_stage:
        npsu = totals.shape[0]
        zero = np.zeros(npsu, dtype=np.int64)
        v1: FloatArray = _stage1(structure, zero, np.arange(npsu, dtype=np.int64), totals, 1, None)
        return np.asarray(v1[0], dtype=np.float64)
    assert structure.psu_of_ssu is not None
    assert structure.n_ssu_in_psu is not None and structure.popsize2 is not None
    psu = structure.psu_of_ssu
    npsu = structure.n_psu
    m = structure.n_ssu_in_psu
    if not bool(np.all(m > 0)):  # a PSU without SSUs: not the layout this shortcut assumes
        n = totals.shape[0]
        zero = np.zeros(n, dtype=np.int64)
        v: FloatArray = stratified_variance(
            structure, zero, np.arange(n, dtype=np.int64), totals, 1
        )
        return np.asarray(v[0], dtype=np.float64)
    nh = structure.n_psu_in_stratum
    lonely = structure.lonely_psu
    # _centred_ss with every unit present
    psu_tot = group_sum(psu, totals, npsu)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = psu_tot / np.maximum(m, 1)[:, None]
    # in place: every fresh units x statistics array costs its page faults again
    dev = mean[psu]
    np.subtract(totals, dev, out=dev)
    np.multiply(dev, dev, out=dev)
    # the absent-units term of _centred_ss is zero here, but it turns an infinite mean into
    # NaN there, so it stays
    ss2 = group_sum(psu, dev, npsu) + np.zeros(npsu)[:, None] * mean * mean
    del dev
    if lonely == "adjust" and bool(np.any(m <= 1)):
        raw2 = group_sum(psu, totals * totals, npsu)
    else:
        raw2 = np.zeros((npsu, s))
    f2 = _sampling_f(m, structure.popsize2)
    h2 = structure.stratum_of_psu
    outer = nh[h2] / structure.popsize1[h2]
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(m > 1, f2 * m / np.maximum(m - 1, 1), f2)
    scale = np.where(f2 < 1e-7, 0.0, scale) * outer
    contrib = np.where((m > 1)[:, None], ss2, raw2 if lonely == "adjust" else 0.0)
    zero = np.zeros(npsu, dtype=np.int64)
    out = group_sum(zero, contrib * scale[:, None], 1)
    out += _stage1(structure, zero, np.arange(npsu, dtype=np.int64), psu_tot, 1, None)
    return np.asarray(out[0], dtype=np.float64)


def _stage1(
    structure: DesignStructure,
    dom1: IntArray,
    psu1: IntArray,
    tot1: FloatArray,
    ndom: int,
    present_strata: FloatArray | None,
) -> FloatArray:
    """The stage-1 term of :func:`stratified_variance` from PSU totals ``tot1`` per
    (domain ``dom1``, PSU ``psu1``) group."""
    h_count = structure.n_strata
    h = structure.stratum_of_psu[psu1]
    # only the (domain, stratum) pairs that hold a group: the others contribute zero
    uk, kinv = np.unique(dom1 * h_count + h, return_inverse=True)
    kh = (uk % h_count).astype(np.int64)
    ss, raw = _centred_ss(kinv.astype(np.int64), tot1, len(uk), structure.n_psu_in_stratum[kh])
    return _stage1_from_ss(structure, uk, ss, raw, ndom, present_strata)


def moment_stage1(
    structure: DesignStructure,
    dom: IntArray,
    stratum: IntArray,
    t1: FloatArray,
    t2: FloatArray,
    ndom: int,
) -> FloatArray:
    """The stage-1 variance of a design whose every row is its own PSU, from cell sums.

    ``t1`` and ``t2`` (cells x statistics) are each cell's sum of its rows' scores and of
    their squares; cells with ``dom`` -1 are left out. Per (domain, stratum) the centred sum
    of squares over the stratum's ``n_h`` rows (those outside the domain score zero) is
    ``sum(t2) - sum(t1)**2 / n_h``, the same quantity :func:`_centred_ss` forms from PSU
    totals.

    Returns
    -------
    array (ndom, s)
    """
    h_count = structure.n_strata
    ok = dom >= 0
    uk, kinv = np.unique(dom[ok] * h_count + stratum[ok], return_inverse=True)
    kinv = kinv.astype(np.int64)
    full = structure.n_psu_in_stratum[(uk % h_count).astype(np.int64)]
    sum1 = group_sum(kinv, t1[ok], len(uk))
    raw = group_sum(kinv, t2[ok], len(uk))
    with np.errstate(divide="ignore", invalid="ignore"):
        ss = raw - sum1 * sum1 / np.maximum(full, 1)[:, None]
    # rounding may leave a hair below zero where every score of the stratum is equal
    np.maximum(ss, 0.0, out=ss)
    return _stage1_from_ss(structure, uk, ss, raw, ndom, None)


def _stage1_from_ss(
    structure: DesignStructure,
    uk: IntArray,
    ss: FloatArray,
    raw: FloatArray,
    ndom: int,
    present_strata: FloatArray | None,
) -> FloatArray:
    """Scale each (domain, stratum) key's centred (``ss``) or, for a lonely PSU under
    ``adjust``, uncentred (``raw``) sum of squares, and sum them per domain."""
    s = ss.shape[1]
    nh = structure.n_psu_in_stratum
    h_count = structure.n_strata
    lonely = structure.lonely_psu
    kd = (uk // h_count).astype(np.int64)
    kh = (uk % h_count).astype(np.int64)
    f_h = _sampling_f(nh, structure.popsize1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale_h = np.where(nh > 1, f_h * nh / np.maximum(nh - 1, 1), f_h)
    scale_h = np.where(f_h < 1e-7, 0.0, scale_h)
    lone_k = nh[kh] == 1
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
    return v
