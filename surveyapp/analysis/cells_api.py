"""Estimates from pre-aggregated cell tables (e.g. one SQL ``GROUP BY``).

The caller groups respondent rows by ``stratum, psu[, ssu][, margin variables][, by]`` and
sums, per group:

- ``n``: rows; ``sw``: sum of weights (all rows, answered or not);
- for every share column ``q`` (a ``Spec.props`` column or an index part; y = 1 when the
  answer is in the value set, e.g. 4 or 5): ``q__wy`` = sum(w*y), ``q__wr`` = sum(w*r),
  ``q__r`` = sum(r) with r = 1 when answered; with several margins (raking) also
  ``q__y`` = sum(y);
- for every ``Spec.means``/``Spec.totals`` column: the same with y the value, plus
  ``q__wyy`` = sum(w*y*y).

In SQL::

    SELECT stratum, psu, district,
           COUNT(*) AS n, SUM(w) AS sw,
           SUM(w * (q19 IN (4, 5))::int) AS "q19__wy",
           SUM(w * (q19 IS NOT NULL)::int) AS "q19__wr",
           SUM((q19 IS NOT NULL)::int) AS "q19__r"
    FROM responses GROUP BY stratum, psu, district

:func:`analyze_cell_frame` then gives exactly what :func:`surveyapp.analysis.analyze` gives
on the rows (tested), except ``likelihood`` intervals: R starts their IRLS fit from every row's
weight, so cells take a domain's weights as equal (a few 1e-6 relative off R, against 1e-10
from the rows). Population sizes for the fpc come as mappings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .calibration_frame import margin_codes
from .cells import CellTable, RowMoments, domain_codes
from .design import DesignStructure, combination_codes, is_blank, population_sizes
from .errors import AnalysisError
from .estimate import analyze_cells, domain_comparison, only
from .plan import Plan, make_plan
from .results import Analysis, DomainComparison, Spec


def analyze_cell_frame(
    cells: pd.DataFrame,
    spec: Spec,
    *,
    strata: str | None = "stratum",
    psu: str = "psu",
    ssu: str | None = None,
    stratum_popsize: Mapping[Any, float] | None = None,
    psu_popsize: Mapping[tuple[Any, Any], float] | None = None,
    lonely_psu: str = "fail",
) -> Analysis:
    """Design-based estimates from a cell table (see the module docstring for its columns).

    Parameters
    ----------
    cells : pandas.DataFrame
        One row per (stratum, PSU[, SSU], calibration cell, domain); duplicates are summed.
    spec : Spec
        Margins and ``by`` name columns of ``cells``.
    strata, psu, ssu : str
        Key columns (PSU labels nested in strata, SSU in PSU).
    stratum_popsize : mapping, optional
        Population number of PSUs per stratum label (stage-1 fpc; sizes or fractions).
    psu_popsize : mapping, optional
        Population number of SSUs per (stratum, PSU) (stage-2 fpc; needs ``ssu``).
    lonely_psu : str
    """
    table = _cell_table(cells, spec, strata, psu, ssu, stratum_popsize, psu_popsize, lonely_psu)
    return analyze_cells(table.ct, spec, table.plan, *table.margins)


def compare_cell_frame(
    cells: pd.DataFrame,
    spec: Spec,
    variable: str,
    *,
    strata: str | None = "stratum",
    psu: str = "psu",
    ssu: str | None = None,
    stratum_popsize: Mapping[Any, float] | None = None,
    psu_popsize: Mapping[tuple[Any, Any], float] | None = None,
    lonely_psu: str = "fail",
) -> DomainComparison:
    """The ``spec.by`` domains' estimates of ``variable`` (an index name or an item column)
    and their joint covariance, from a cell table as :func:`analyze_cell_frame` reads it
    (see :func:`~surveyapp.analysis.estimate.domain_comparison`). The estimates and
    variances are those :func:`analyze_cell_frame` gives; only ``variable``'s statistics
    are computed."""
    spec = only(spec, variable)
    table = _cell_table(cells, spec, strata, psu, ssu, stratum_popsize, psu_popsize, lonely_psu)
    return domain_comparison(table.ct, spec, variable, table.plan, *table.margins)


@dataclass(frozen=True)
class _Table:
    """A cell frame read into a cell table, with the plan and the margins' names, targets
    and labels that go with it."""

    ct: CellTable
    plan: Plan
    margins: tuple[list[str], list[Any], list[list[Any]]]


def _cell_table(
    cells: pd.DataFrame,
    spec: Spec,
    strata: str | None,
    psu: str,
    ssu: str | None,
    stratum_popsize: Mapping[Any, float] | None,
    psu_popsize: Mapping[tuple[Any, Any], float] | None,
    lonely_psu: str,
) -> _Table:
    for c in [x for x in (strata, psu, ssu, spec.by) if x]:
        if c not in cells.columns:
            raise AnalysisError(f"cell table: unknown column {c!r}")
    for c in [x for x in (strata, psu, ssu, "n", "sw") if x and x in cells.columns]:
        _refuse_missing(cells[c], c)
    nrow = len(cells)
    keys = _design_keys(cells, strata, psu, ssu, stratum_popsize, psu_popsize, lonely_psu)
    targets: list[Any] = []
    labels: list[list[Any]] = []
    cal = np.zeros(nrow, dtype=np.int64)
    cal_m = np.zeros((1, 0), dtype=np.int64)
    if spec.margins:
        cal, cal_m, targets, labels = margin_codes(cells, spec.margins)
    dom = np.zeros(nrow, dtype=np.int64)
    dom_labels: list[Any] = [None]
    if spec.by:
        dom, dom_labels = domain_codes(cells[spec.by].to_numpy())
    plan = make_plan(None, spec)
    mom = _moments(cells, plan)
    for name in ("n", "sw"):
        if name not in cells.columns:
            raise AnalysisError(f"cell table: missing column {name!r}")
    ct = CellTable(
        unit=np.asarray(keys.unit, dtype=np.int64),
        psu=keys.psu,
        stratum=keys.stratum,
        cal=cal,
        dom=dom,
        n=cells["n"].to_numpy(dtype=np.float64),
        sw=cells["sw"].to_numpy(dtype=np.float64),
        mom=mom,
        structure=keys.structure,
        n_units=keys.n_units,
        cal_margins=cal_m,
        dom_labels=dom_labels,
    )
    return _Table(ct, plan, ([m[0] for m in spec.margins], targets, labels))


def analyze_row_moments(
    cells: pd.DataFrame,
    products: np.ndarray,
    columns: list[str],
    spec: Spec,
    *,
    strata: str | None = "stratum",
    weight: str = "w",
    lonely_psu: str = "fail",
) -> Analysis:
    """Estimates of a stratified design whose every row is its own PSU, from cell sums.

    The design R writes ``svydesign(ids = ~1, strata = ~stratum, weights = ~w)`` (desk
    ratings stratified by desk, each rating a draw with replacement) needs no row at all:
    per cell (one stratum and one domain, all rows of the same weight) the first moments of
    the module docstring and the sums of products of the rows' unweighted answers give the
    same estimates as :func:`analyze_cell_frame` with one PSU per row (tested), at a cost
    that follows the cells, not the rows.

    Parameters
    ----------
    cells : pandas.DataFrame
        One row per cell: the ``strata`` and ``spec.by`` columns, ``n``, ``sw``, the
        ``weight`` of its rows and the weighted moment columns (``q__wy``, ``q__wr``,
        ``q__r``).
    products : array (C, K, K)
        Per cell, the sum over its rows of ``x x'``, ``x`` the row's unweighted values
        named by ``columns``.
    columns : list of str
        ``q__y`` (1 when the answer is in the share's set) and ``q__r`` (1 when answered) of
        every share column ``q``.
    lonely_psu : str
        ``average`` needs the rows and is refused.
    """
    ct = _row_moment_table(cells, products, columns, spec, strata, weight, lonely_psu)
    return analyze_cells(ct, spec)


def compare_row_moments(
    cells: pd.DataFrame,
    products: np.ndarray,
    columns: list[str],
    spec: Spec,
    variable: str,
    *,
    strata: str | None = "stratum",
    weight: str = "w",
    lonely_psu: str = "fail",
) -> DomainComparison:
    """:func:`compare_cell_frame` for the design of :func:`analyze_row_moments`: the joint
    covariance of the domains from the cell sums alone (each row lies in one domain, so
    only the centring within a stratum couples two domains)."""
    spec = only(spec, variable)
    ct = _row_moment_table(cells, products, columns, spec, strata, weight, lonely_psu)
    return domain_comparison(ct, spec, variable)


def _row_moment_table(
    cells: pd.DataFrame,
    products: np.ndarray,
    columns: list[str],
    spec: Spec,
    strata: str | None,
    weight: str,
    lonely_psu: str,
) -> CellTable:
    if spec.margins:
        raise AnalysisError("row moments: calibration needs the rows")
    if lonely_psu == "average":
        raise AnalysisError("row moments: lonely_psu 'average' needs the rows")
    nrow = len(cells)
    if products.shape != (nrow, len(columns), len(columns)):
        raise AnalysisError("row moments: one K x K block of products per cell is needed")
    for c in [x for x in (strata, spec.by, weight, "n", "sw") if x]:
        if c not in cells.columns:
            raise AnalysisError(f"cell table: unknown column {c!r}")
    for c in [x for x in (strata, "n", "sw", weight) if x]:
        _refuse_missing(cells[c], c)
    s_lab = cells[strata].to_numpy() if strata else np.zeros(nrow)
    s_codes, nh_count = combination_codes(s_lab)
    n = cells["n"].to_numpy(dtype=np.float64)
    units = np.bincount(s_codes, weights=n, minlength=nh_count).round().astype(np.int64)
    structure = DesignStructure(
        n_psu_in_stratum=units,
        popsize1=np.full(nh_count, np.inf),
        stratum_of_psu=np.repeat(np.arange(nh_count, dtype=np.int64), units),
        lonely_psu=lonely_psu,
    )
    dom = np.zeros(nrow, dtype=np.int64)
    dom_labels: list[Any] = [None]
    if spec.by:
        dom, dom_labels = domain_codes(cells[spec.by].to_numpy())
    plan = make_plan(None, spec)
    position = {name: i for i, name in enumerate(columns)}
    index: dict[str, int] = {}
    for key in plan.moments:
        prefix = key.split("|", 1)[0]
        for moment, column in (("wy", f"{prefix}__y"), ("wr", f"{prefix}__r")):
            if column in position:
                index[f"{key}:{moment}"] = position[column]
    cell_codes = np.arange(nrow, dtype=np.int64)
    ct = CellTable(
        unit=cell_codes,
        psu=cell_codes,
        stratum=s_codes,
        cal=np.zeros(nrow, dtype=np.int64),
        dom=dom,
        n=n,
        sw=cells["sw"].to_numpy(dtype=np.float64),
        mom=_moments(cells, plan),
        structure=structure,
        n_units=nrow,
        dom_labels=dom_labels,
        second=RowMoments(
            products=np.asarray(products, dtype=np.float64),
            index=index,
            weight=cells[weight].to_numpy(dtype=np.float64),
            units=units,
        ),
    )
    return ct


@dataclass(frozen=True)
class _Keys:
    """The cells' stratum, PSU and variance-unit codes and the design structure they form."""

    stratum: np.ndarray
    psu: np.ndarray
    unit: np.ndarray
    n_units: int
    structure: DesignStructure


def _design_keys(
    cells: pd.DataFrame,
    strata: str | None,
    psu: str,
    ssu: str | None,
    stratum_popsize: Mapping[Any, float] | None,
    psu_popsize: Mapping[tuple[Any, Any], float] | None,
    lonely_psu: str,
) -> _Keys:
    nrow = len(cells)
    s_lab = cells[strata].to_numpy() if strata else np.zeros(nrow)
    s_codes, nh_count = combination_codes(s_lab)
    psu_codes, n_psu = combination_codes(s_codes, cells[psu].to_numpy())
    stratum_of_psu = np.zeros(n_psu, dtype=np.int64)
    stratum_of_psu[psu_codes] = s_codes
    n_h = np.bincount(stratum_of_psu, minlength=nh_count).astype(np.int64)
    popsize1 = np.full(nh_count, np.inf)
    if stratum_popsize is not None:
        raw = pd.Series(s_lab).map(stratum_popsize)
        if raw.isna().any():
            raise AnalysisError("stratum_popsize: a stratum has no population size")
        popsize1 = population_sizes(np.asarray(raw, dtype=np.float64), s_codes, n_h, "stratum")
    two_stage = ssu is not None and psu_popsize is not None
    unit = psu_codes
    n_units = n_psu
    extra: dict[str, Any] = {}
    if ssu is not None and two_stage:
        ssu_codes, n_ssu = combination_codes(psu_codes, cells[ssu].to_numpy())
        psu_of_ssu = np.zeros(n_ssu, dtype=np.int64)
        psu_of_ssu[ssu_codes] = psu_codes
        m_p = np.bincount(psu_of_ssu, minlength=n_psu).astype(np.int64)
        assert psu_popsize is not None
        keys = list(zip(s_lab, cells[psu].to_numpy(), strict=True))
        raw2 = pd.Series([psu_popsize.get(k, np.nan) for k in keys], dtype=np.float64)
        if raw2.isna().any():
            raise AnalysisError("psu_popsize: a PSU has no population size")
        extra = dict(
            n_ssu_in_psu=m_p,
            popsize2=population_sizes(np.asarray(raw2, dtype=np.float64), psu_codes, m_p, "PSU"),
            psu_of_ssu=psu_of_ssu,
        )
        unit, n_units = ssu_codes, n_ssu
    structure = DesignStructure(
        n_psu_in_stratum=n_h,
        popsize1=popsize1,
        stratum_of_psu=stratum_of_psu,
        two_stage=two_stage,
        lonely_psu=lonely_psu,
        **extra,
    )
    return _Keys(s_codes, psu_codes, np.asarray(unit), n_units, structure)


def _moments(cells: pd.DataFrame, plan: Plan) -> dict[str, np.ndarray]:
    """The cell sums each statistic of the plan reads, by ``key:moment``."""
    mom: dict[str, np.ndarray] = {}
    for key, wanted in plan.moments.items():
        prefix = key.split("|", 1)[0]
        for m in wanted:
            col = f"{prefix}__{m}"
            if col not in cells.columns:
                if m == "wyy" and f"{prefix}__wy" in cells.columns:
                    continue
                raise AnalysisError(f"cell table: missing column {col!r}")
            mom[f"{key}:{m}"] = cells[col].to_numpy(dtype=np.float64)
    for k in [k for k in plan.moments]:
        if f"{k}:wyy" not in mom and f"{k}:wy" in mom:
            mom[f"{k}:wyy"] = mom[f"{k}:wy"]
    return mom


def _refuse_missing(column: pd.Series, name: str) -> None:
    """One line naming the first cell row whose design key or count is missing.

    A cell without a stratum or PSU (e.g. answers that carry no design) cannot be placed in
    the design; let through, its code -1 would reach ``np.bincount`` with numpy's message.
    """
    missing = column.isna().to_numpy()
    if column.dtype == object:
        missing = missing | column.map(is_blank).to_numpy(dtype=bool)
    if missing.any():
        row = int(np.flatnonzero(missing)[0]) + 1
        raise AnalysisError(f"cell table: column {name!r} has no value in row {row}")
