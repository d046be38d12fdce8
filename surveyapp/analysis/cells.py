"""Sufficient statistics: cell tables of weighted and unweighted sums.

A *cell* is one (variance unit, calibration cell, domain) combination; the variance unit is
the PSU, or the SSU when a two-stage design has an fpc at both stages. For every analysed
variable ``v`` a cell holds the moments

=========  ======================================================================
``wy``     sum of w * y (y = 1 for a value in the set of a share, else the value;
           0 when the answer is missing)
``wr``     sum of w * r (r = 1 when the answer is present)
``r``      count of answered rows
``y``      sum of y (unweighted; only needed for raking residuals)
``wyy``    sum of w * y * y (design effects of means and totals)
``w2y``,   sums of w^2 * y, w^2 * r, w^1.5 * y, w^1.5 * r (only for the likelihood
``w2r``,   interval)
``w15y``,
``w15r``
=========  ======================================================================

plus per cell the number of rows ``n`` and the weight sum ``sw`` over *all* rows (answered
or not). Building them from unit-level arrays is one vectorised pass (``bincount``); the
dashboard builds the same table with one SQL ``GROUP BY``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .design import Design, DesignStructure, FloatArray, IntArray, factorize

if TYPE_CHECKING:
    import pandas as pd

BASE_MOMENTS = ("wy", "wr", "r")


@dataclass
class CellTable:
    """Cell-level sufficient statistics plus the design structure.

    Attributes
    ----------
    unit, psu, stratum : arrays (C,)
        Variance unit (PSU or SSU), PSU and stratum codes of every cell.
    cal : array (C,)
        Joint calibration-cell code (0 when not calibrating).
    dom : array (C,)
        Domain code (``-1``: the row's domain value is missing).
    n, sw : arrays (C,)
        Rows and sum of weights over all rows of the cell.
    n_pos : array (C,) or None
        Rows with a non-zero weight (None: every row has one). Cell tables from SQL may
        leave it out; then ``n`` is used and the ``r`` counts should count rows with
        ``w <> 0`` only, as R does.
    mom : dict
        ``"{var}:{moment}"`` -> array (C,).
    structure : DesignStructure
    cal_margins : array (J, M)
        Category code on every margin of each joint calibration cell.
    dom_labels : list
        Domain label by code.
    n_units : int
        Number of variance units.
    """

    unit: IntArray
    psu: IntArray
    stratum: IntArray
    cal: IntArray
    dom: IntArray
    n: FloatArray
    sw: FloatArray
    mom: dict[str, FloatArray]
    structure: DesignStructure
    n_units: int
    n_pos: FloatArray | None = None
    cal_margins: IntArray = field(default_factory=lambda: np.zeros((1, 0), dtype=np.int64))
    dom_labels: list[Any] = field(default_factory=list)
    # moment columns side by side, by column names (engine._stack), shared by the national
    # and by-domain runs; valid as long as ``mom`` is not changed in place
    stacks: dict[tuple[str | None, ...], FloatArray] = field(
        default_factory=dict, repr=False, compare=False
    )
    second: RowMoments | None = None

    @property
    def ncell(self) -> int:
        return len(self.unit)


@dataclass(frozen=True)
class RowMoments:
    """Cells that each hold many variance units of one row apiece (a stratified design in
    which every row is its own PSU, e.g. desk ratings stratified by desk), kept as sums
    instead of rows.

    A row's score for any ratio-type statistic is a linear function of its moment vector
    ``x`` (its unweighted ``y`` and ``r`` values), times the row's weight, which is the same
    for every row of a cell. The within-stratum sum of squared scores then needs only each
    cell's sums of products ``x x'``: the variance is exact (Binder 1983) and the cell table
    stays one row per (stratum, domain) whatever the number of rows.

    Attributes
    ----------
    products : array (C, K, K)
        Per cell, the sum over its rows of ``x x'`` (unweighted).
    index : dict
        Moment name of :attr:`CellTable.mom` (``"{var}:wy"``, ``"{var}:wr"``) -> position
        in ``x`` of the unweighted value it sums.
    weight : array (C,)
        The weight of every row of the cell.
    units : array (H,)
        Rows (variance units) per stratum.
    """

    products: FloatArray
    index: dict[str, int]
    weight: FloatArray
    units: IntArray


@dataclass(frozen=True)
class VarData:
    """One analysed variable at unit level: ``y`` (0 where missing) and answered flag ``r``."""

    key: str
    y: FloatArray
    r: np.ndarray[Any, np.dtype[np.bool_]]


def _unique_inverse(key: IntArray) -> tuple[IntArray, IntArray]:
    """``np.unique(key, return_inverse=True)`` for non-negative integer keys, without the
    sort of a million rows: one pass when the rows are already in key order (data sorted by
    PSU), else a hash of the keys and a sort of the distinct ones only."""
    n = len(key)
    if n and bool(np.all(key[1:] >= key[:-1])):
        new = np.empty(n, dtype=bool)
        new[0] = True
        np.not_equal(key[1:], key[:-1], out=new[1:])
        return key[new], np.cumsum(new, dtype=np.int64) - 1
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    from . import _arrow

    enc = _arrow.dictionary_encode(_arrow.from_numpy(np.asarray(key, dtype=np.int64)))
    first = np.asarray(_arrow.values(enc.dictionary), dtype=np.int64)
    order = np.argsort(first)
    rank = np.empty(len(first), dtype=np.int64)
    rank[order] = np.arange(len(first), dtype=np.int64)
    return first[order], rank[_arrow.values(enc.indices)]


@dataclass(frozen=True)
class _SegmentSums:
    """Rows sorted by cell (``order``; None when they already are) and where each cell
    starts: every moment of every variable is one segmented sum (``np.add.reduceat``)."""

    n: int
    ncell: int
    order: np.ndarray | None
    starts: np.ndarray
    w: FloatArray  # the weights in cell order
    nonzero: np.ndarray | None  # rows with a non-zero weight (None: all)
    w2: FloatArray | None
    w15: FloatArray | None

    def sort(self, values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return values if self.order is None else values[self.order]

    def seg(self, values: np.ndarray[Any, Any]) -> FloatArray:
        if self.n == 0:
            return np.zeros(self.ncell)
        if values.dtype == np.bool_:  # a count: integer sums are exact and faster
            return np.add.reduceat(values, self.starts, dtype=np.int64).astype(np.float64)
        return np.add.reduceat(values, self.starts, dtype=np.float64)

    def moments(
        self, v: VarData, wanted: tuple[str, ...], buf: FloatArray, tmp: FloatArray
    ) -> dict[str, FloatArray]:
        """The moments of one variable; ``buf`` and ``tmp`` are scratch rows (no page
        faults for a fresh 8 MB array per product)."""
        out: dict[str, FloatArray] = {}
        seg, w_s = self.seg, self.w
        y_s = self.sort(v.y)
        r_s = self.sort(v.r)
        wy = np.multiply(w_s, y_s, out=buf)
        for m in wanted:
            if m == "wy":
                out[f"{v.key}:wy"] = seg(wy)
            elif m == "wr":
                out[f"{v.key}:wr"] = seg(np.multiply(w_s, r_s, out=tmp))
            elif m == "r":
                out[f"{v.key}:r"] = seg(r_s if self.nonzero is None else r_s & self.nonzero)
            elif m == "y":
                out[f"{v.key}:y"] = seg(y_s)
            elif m == "wyy":
                out[f"{v.key}:wyy"] = seg(np.multiply(wy, y_s, out=tmp))
            elif m in ("w2y", "w2r"):
                assert self.w2 is not None
                out[f"{v.key}:{m}"] = seg(np.multiply(self.w2, y_s if m == "w2y" else r_s, out=tmp))
            elif m in ("w15y", "w15r"):
                assert self.w15 is not None
                y_or_r = y_s if m == "w15y" else r_s
                out[f"{v.key}:{m}"] = seg(np.multiply(self.w15, y_or_r, out=tmp))
        return out


def build_cells(
    design: Design,
    variables: list[VarData],
    moments: dict[str, tuple[str, ...]],
    cal_codes: IntArray | None = None,
    cal_margins: IntArray | None = None,
    dom_codes: IntArray | None = None,
    dom_labels: list[Any] | None = None,
) -> CellTable:
    """Aggregate unit-level rows into a :class:`CellTable` (one vectorised pass).

    Parameters
    ----------
    design : Design
    variables : list of VarData
    moments : dict
        Moments to build per variable key (see module docstring).
    cal_codes : array (n,), optional
        Joint calibration cell of every row; ``cal_margins`` gives its margin categories.
    dom_codes : array (n,), optional
        Domain code of every row (``-1`` for a missing domain value).
    """
    n = design.n
    st = design.structure
    unit_row = design.ssu if st.two_stage and design.ssu is not None else design.psu
    n_units = int(unit_row.max()) + 1 if n else 0
    cal = np.zeros(n, dtype=np.int64) if cal_codes is None else cal_codes
    dom = np.zeros(n, dtype=np.int64) if dom_codes is None else dom_codes
    ncal = int(cal.max()) + 1 if n else 1
    ndom_key = int(dom.max()) + 2 if n else 1
    key = (unit_row * ncal + cal) * ndom_key + (dom + 1)
    uniq, inv = _unique_inverse(key)
    ncell = len(uniq)
    c_dom = (uniq % ndom_key) - 1
    rest = uniq // ndom_key
    c_cal = rest % ncal
    c_unit = rest // ncal
    c_psu = st.psu_of_ssu[c_unit] if st.two_stage and st.psu_of_ssu is not None else c_unit
    w = design.weights

    # rows sorted by cell: every moment is one segmented sum (np.add.reduceat)
    presorted = bool(n == 0 or np.all(inv[1:] >= inv[:-1]))
    order = None if presorted else np.argsort(inv, kind="stable")
    inv_s = inv if order is None else inv[order]
    starts = np.flatnonzero(np.r_[True, inv_s[1:] != inv_s[:-1]]) if n else np.zeros(0, int)
    w_s = w if order is None else w[order]
    # R counts only rows with a non-zero weight (``nobs`` of svymean's deff, degf's PSUs):
    # a zero-weight row is in the design but was not observed for estimation
    nonzero = None if n == 0 or bool(np.all(w_s != 0)) else w_s != 0
    wanted_all = {m for v in variables for m in moments.get(v.key, BASE_MOMENTS)}
    sums = _SegmentSums(
        n=n,
        ncell=ncell,
        order=order,
        starts=starts,
        w=w_s,
        nonzero=nonzero,
        w2=w_s * w_s if wanted_all & {"w2y", "w2r"} else None,
        w15=w_s * np.sqrt(w_s) if wanted_all & {"w15y", "w15r"} else None,
    )
    seg = sums.seg

    def run(part: list[VarData]) -> list[dict[str, FloatArray]]:
        buf, tmp = np.empty(n), np.empty(n)
        return [sums.moments(v, moments.get(v.key, BASE_MOMENTS), buf, tmp) for v in part]

    if len(variables) > 1 and n * len(variables) >= 4_000_000:
        # numpy releases the GIL in these loops: two threads do half the variables each
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2) as pool:
            halves = list(pool.map(run, [variables[0::2], variables[1::2]]))
        parts = [halves[i % 2][i // 2] for i in range(len(variables))]
    else:
        parts = run(variables)
    mom: dict[str, FloatArray] = {}
    for part in parts:
        mom.update(part)
    ones = np.ones(n)
    return CellTable(
        unit=c_unit.astype(np.int64),
        psu=np.asarray(c_psu, dtype=np.int64),
        stratum=st.stratum_of_psu[c_psu].astype(np.int64),
        cal=c_cal.astype(np.int64),
        dom=c_dom.astype(np.int64),
        n=seg(ones),
        sw=seg(w_s),
        n_pos=None if nonzero is None else seg(nonzero),
        mom=mom,
        structure=st,
        n_units=n_units,
        cal_margins=(np.zeros((ncal, 0), dtype=np.int64) if cal_margins is None else cal_margins),
        dom_labels=list(dom_labels or [None]),
    )


def cells_to_frame(ct: CellTable) -> pd.DataFrame:
    """The cell table as a DataFrame (key columns ``stratum``, ``psu``, ``unit``, ``cal``,
    ``domain``; ``n``, ``sw``; one column per moment)."""
    data: dict[str, Any] = {
        "stratum": ct.stratum,
        "psu": ct.psu,
        "unit": ct.unit,
        "cal": ct.cal,
        "domain": ct.dom,
        "n": ct.n,
        "sw": ct.sw,
    }
    data.update(ct.mom)
    import pandas as pd

    return pd.DataFrame(data)


def codes_for(values: Any) -> tuple[IntArray, list[Any]]:
    """Codes (missing values -> -1) and sorted labels of a by-variable (as
    ``pandas.factorize(values, sort=True)``)."""
    codes, uniq = factorize(values)
    try:
        order = sorted(range(len(uniq)), key=uniq.__getitem__)
    except TypeError:  # labels that do not compare (mixed types): pandas' own rules
        import pandas as pd

        codes2, uniq2 = pd.factorize(pd.Series(np.asarray(values)), sort=True)
        return np.asarray(codes2, dtype=np.int64), list(uniq2)
    rank = np.empty(len(uniq) + 1, dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(len(uniq), dtype=np.int64)
    rank[-1] = -1  # code -1 (missing) indexes the last slot
    return rank[codes], [uniq[i] for i in order]


def domain_codes(values: Any) -> tuple[IntArray, list[Any]]:
    """Codes and labels of a ``--by`` variable, rows with a missing value as their own domain.

    Dropping those rows silently would make the domains add up to less than the sample;
    they get the last code and the label ``None`` (JSON ``{"district": null}``), estimated on
    the full design like any other domain.
    """
    codes, labels = codes_for(values)
    missing = codes < 0
    if bool(missing.any()):
        codes = np.where(missing, len(labels), codes)
        labels = [*labels, None]
    return codes, labels


__all__ = [
    "BASE_MOMENTS",
    "CellTable",
    "VarData",
    "build_cells",
    "cells_to_frame",
    "codes_for",
    "domain_codes",
]
