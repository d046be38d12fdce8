"""The estimators: a specification in, frozen result dataclasses out.

:func:`analyze` reads unit-level rows (through :mod:`.frame_adapter`), sums them into a
cell table and calls :func:`analyze_cells`, which also serves cell tables built elsewhere
(:mod:`.cells_api`); :func:`compare_domains` adds the covariance between domains. The
specification and the results live in :mod:`.results`, the mapping of a specification to
base statistics in :mod:`.plan`.

Example
-------
>>> spec = Spec(props=(("q19", (4, 5)),), indices=(("2.2", ("q19", "q20")),), by="district")
>>> result = analyze(frame, spec, weight="w", strata="stratum", cluster=("psu",))
>>> result.to_dict()["estimates"][0]["estimate"]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .calibration_frame import margin_codes
from .cells import CellTable, VarData, build_cells, domain_codes
from .ci import as_array_ci, likelihood_start, prop_interval, quantile
from .columns import ColumnTable
from .design import Design
from .engine import (
    Calibration,
    LinearResult,
    apply_calibration,
    calibrate,
    domain_covariance,
    domain_estimates,
    estimate_linear,
)
from .errors import AnalysisError
from .frame_adapter import columns_supported, design_from_frame
from .plan import Plan, find_stat, make_plan, prop_key
from .results import (
    SATISFIED,
    Analysis,
    DesignSummary,
    DomainComparison,
    Estimate,
    EstimateBlock,
    Spec,
)
from .targets import (
    EMPTY_PART,
    MET,
    NO_ANSWERS,
    NOT_MET,
    n_to_decide,
    prob_meets,
    verdict,
)

if TYPE_CHECKING:
    import pandas as pd


def analyze(
    frame: pd.DataFrame | ColumnTable,
    spec: Spec,
    *,
    weight: str | None = None,
    strata: str | None = None,
    cluster: Sequence[str] = (),
    fpc: Sequence[str] = (),
    lonely_psu: str = "fail",
    design: Design | None = None,
) -> Analysis:
    """Design-based estimates for unit-level rows.

    Parameters
    ----------
    frame : pandas.DataFrame or ColumnTable
        One row per respondent: answers and design columns. A
        :class:`~surveyapp.analysis.columns.ColumnTable` (what ``surveyapp analyze`` reads)
        is used as it is when :meth:`~surveyapp.analysis.columns.ColumnTable.supports` the
        specification, else converted to a DataFrame; the results are the same.
    spec : Spec
        What to estimate.
    weight, strata, cluster, fpc, lonely_psu
        Design columns as in ``surveyapp analyze`` (``cluster``/``fpc`` per stage).
    design : Design, optional
        A ready design (e.g. with trimmed or non-response adjusted weights); overrides the
        design columns.

    Returns
    -------
    Analysis

    Notes
    -----
    Taylor linearization (Binder 1983) on the full design; domains and missing answers are
    domains, never subsets (Lumley 2010, sec. 2.3). Matches R survey 4.1 (see DESIGN.md §5).
    """
    spec.check()
    if isinstance(frame, ColumnTable) and not columns_supported(
        frame, spec, weight, strata, cluster, fpc
    ):
        frame = frame.to_frame()
    if design is None:
        design = design_from_frame(frame, weight, strata, cluster, fpc, lonely_psu)
    elif design.n != len(frame):
        raise AnalysisError("design and data have different numbers of rows")
    plan = make_plan(frame, spec)
    cal_codes = cal_margins = None
    targets: list[np.ndarray] = []
    labels: list[list[Any]] = []
    if spec.margins:
        # a ColumnTable was converted above (_columns_ok): calibration reads a DataFrame
        mframe = frame.to_frame() if isinstance(frame, ColumnTable) else frame
        cal_codes, cal_margins, targets, labels = margin_codes(mframe, spec.margins)
    dom_codes, dom_labels = (None, [None])
    if spec.by:
        if spec.by not in frame.columns:
            raise AnalysisError(f"unknown column {spec.by!r}")
        by_values = (
            frame.arrow(spec.by) if isinstance(frame, ColumnTable) else frame[spec.by].to_numpy()
        )
        dom_codes, dom_labels = domain_codes(by_values)
    variables = [VarData(k, y, r) for k, (y, r) in plan.vardata.items()]
    ct = build_cells(design, variables, plan.moments, cal_codes, cal_margins, dom_codes, dom_labels)
    rows = UnitRows(design.weights, cal_codes, dom_codes) if spec.ci == "likelihood" else None
    return analyze_cells(ct, spec, plan, [m[0] for m in spec.margins], targets, labels, rows)


@dataclass
class UnitRows:
    """Unit-level weights, calibration cells and domains (for the likelihood interval).

    :func:`analyze` passes them to :func:`analyze_cells` when ``spec.ci`` is ``likelihood``.
    """

    weights: np.ndarray
    cal: np.ndarray | None
    dom: np.ndarray | None


def _likelihood_start(
    rows: UnitRows,
    plan: Plan,
    cal: Calibration | None,
    j: int,
    by_run: bool,
    d: int,
    n_fit: float,
) -> tuple[float, float] | None:
    """:func:`~.ci.likelihood_start` on the answered rows of domain ``d`` for statistic ``j``."""
    key = plan.stats[j].a.rsplit(":", 1)[0]
    if key not in plan.vardata:
        return None
    y, r = plan.vardata[key]
    w = rows.weights
    if cal is not None and rows.cal is not None:
        w = w * cal.g[rows.cal]
    keep = (np.asarray(r) > 0) & (w != 0)
    if by_run and rows.dom is not None:
        keep &= rows.dom == d
    if not keep.any():
        return None
    return likelihood_start(w[keep], np.asarray(y)[keep], n_fit)


def _calibrated(
    ct: CellTable,
    spec: Spec,
    margin_names: Sequence[str],
    margin_targets: Sequence[np.ndarray],
    margin_labels: Sequence[list[Any]],
) -> tuple[CellTable, Calibration | None]:
    """``ct`` with its weights calibrated to ``spec.margins`` (and the calibration), or as
    it is (and None) without margins."""
    if not spec.margins:
        return ct, None
    cal = calibrate(ct, list(margin_targets), list(margin_names), [list(x) for x in margin_labels])
    return apply_calibration(ct, cal), cal


def analyze_cells(
    ct: CellTable,
    spec: Spec,
    plan: Plan | None = None,
    margin_names: Sequence[str] = (),
    margin_targets: Sequence[np.ndarray] = (),
    margin_labels: Sequence[list[Any]] = (),
    rows: UnitRows | None = None,
) -> Analysis:
    """Estimates from a pre-aggregated :class:`~surveyapp.analysis.cells.CellTable`.

    This is the entry point for sufficient statistics built elsewhere (e.g. one SQL
    ``GROUP BY``, see :func:`surveyapp.analysis.cells_api.cells_from_frame`). Results equal
    those of :func:`analyze` on the unit-level rows (``likelihood`` intervals need ``rows``
    to start R's IRLS fit exactly; without them the weights in a domain are taken as equal).
    """
    spec.check()
    p = plan if plan is not None else make_plan(None, spec)
    ct.structure.check_lonely()
    n_psu, n_strata = _weighted_units(ct)
    ct, cal = _calibrated(ct, spec, margin_names, margin_targets, margin_labels)
    ctx = _Context(
        ct=ct,
        spec=spec,
        plan=p,
        cal=cal,
        rows=rows,
        df=float(n_psu - n_strata) if spec.df == "design" else math.inf,
        # svyglm's model frame: a calibrated design keeps every row (zero weights outside the
        # subset), otherwise R drops the rows outside the subset
        n_all=float(ct.n.sum()) if cal is not None else math.nan,
    )
    runs: list[_Run] = []
    if not spec.by or spec.national:
        runs.append(_Run(np.zeros(ct.ncell, dtype=np.int64), 1, [None], by_run=False))
    if spec.by:
        runs.append(_Run(ct.dom, len(ct.dom_labels), ct.dom_labels, by_run=True))
    per_stat: list[list[EstimateBlock]] = [[] for _ in p.rows]
    for run, res in zip(runs, _linear_runs(ctx, runs), strict=True):
        for ri, block in enumerate(_run_blocks(ctx, run, res)):
            per_stat[ri].append(block)
    rows_n = ct.n if ct.n_pos is None else ct.n_pos
    summary = DesignSummary(
        n=round(float(rows_n.sum())), strata=n_strata, psu=n_psu, df=n_psu - n_strata
    )
    return Analysis(summary, blocks=[b for blocks in per_stat for b in blocks])


@dataclass(frozen=True)
class _Context:
    """What every run of :func:`analyze_cells` shares."""

    ct: CellTable
    spec: Spec
    plan: Plan
    cal: Calibration | None
    rows: UnitRows | None
    df: float
    n_all: float


@dataclass(frozen=True)
class _Run:
    """One pass over the cells: the whole sample (one domain) or the ``by`` domains."""

    dom: np.ndarray
    ndom: int
    labels: list[Any]
    by_run: bool


def _linear_runs(ctx: _Context, runs: list[_Run]) -> list[LinearResult]:
    p = ctx.plan

    def linear(run: _Run) -> LinearResult:
        return estimate_linear(ctx.ct, p.stats, p.combos, run.dom, run.ndom, ctx.cal, ())

    if len(runs) > 1 and ctx.ct.ncell * len(p.stats) >= 200_000:
        # national and by-domain runs are independent and numpy releases the GIL in them
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(linear, runs))
    return [linear(run) for run in runs]


def _result_columns(p: Plan) -> list[int]:
    """The column of the linear result each output row reads (index columns follow the base
    statistics)."""
    nbase = len(p.stats)
    keymap = {s.a.rsplit(":", 1)[0]: j for j, s in enumerate(p.stats)}
    out: list[int] = []
    ii = 0
    for kind, var, values in p.rows:
        if kind == "prop":
            out.append(keymap[prop_key(var, values or ())])
        elif kind == "index":
            out.append(nbase + ii)
            ii += 1
        elif kind == "ratio":
            out.append(keymap[f"{var}#n"])
        else:
            out.append(find_stat(p.stats, kind, var))
    return out


def _run_blocks(ctx: _Context, run: _Run, res: LinearResult) -> list[EstimateBlock]:
    """One block per output row of the plan, for the domains of ``run``."""
    spec = ctx.spec
    doms = [(spec.by or "", _py(lab)) if run.by_run else None for lab in run.labels]
    se_all = np.sqrt(np.clip(res.var, 0, None))
    targets = dict(spec.targets)
    blocks: list[EstimateBlock] = []
    for (kind, var, values), j in zip(ctx.plan.rows, _result_columns(ctx.plan), strict=True):
        est = res.est[:, j]
        lo, hi = _intervals(ctx, run, res, kind, j, se_all[:, j])
        tgt = targets.get(var)
        if tgt is not None and kind in ("prop", "index") and tgt > 1:
            tgt = tgt / 100.0
        finite = np.isfinite(est)
        nan = np.full(run.ndom, np.nan)
        se_m = np.where(finite, se_all[:, j], nan)
        lo_m = np.where(finite, lo, nan)
        hi_m = np.where(finite, hi, nan)
        n_a = np.rint(res.n[:, j]).astype(np.int64)
        logit = kind == "prop" and spec.ci in ("logit", "xlogit")
        judged = _Judged() if tgt is None else _judge(ctx, est, se_m, lo_m, hi_m, n_a, tgt, logit)
        reasons = _null_reasons(res, ctx.plan, kind, j, len(ctx.plan.stats), finite)
        blocks.append(
            EstimateBlock(
                kind,
                var,
                values,
                doms,
                est,
                se_m,
                lo_m,
                hi_m,
                res.deff[:, j],
                n_a,
                tgt,
                judged.verdicts,
                judged.p_meets,
                judged.n_decide,
                ctx.df,
                reasons,
                judged.verdict_reasons,
                judged.n_decide_reasons,
            )
        )
    return blocks


def _intervals(
    ctx: _Context, run: _Run, res: LinearResult, kind: str, j: int, se: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence limits of column ``j`` per domain of ``run``."""
    spec, df = ctx.spec, ctx.df
    est = res.est[:, j]
    if kind != "prop":
        q = quantile(spec.level, df)
        return est - q * se, est + q * se
    if spec.ci in ("logit", "xlogit", "wald", "asin"):
        return as_array_ci(est, se, spec.ci, spec.level, df)
    lo = np.full(run.ndom, np.nan)
    hi = np.full(run.ndom, np.nan)
    for d in range(run.ndom):
        n_fit = float(res.n[d, j]) if math.isnan(ctx.n_all) else ctx.n_all
        start = None
        if spec.ci == "likelihood" and ctx.rows is not None:
            start = _likelihood_start(ctx.rows, ctx.plan, ctx.cal, j, run.by_run, d, n_fit)
        lo[d], hi[d] = prop_interval(
            float(est[d]),
            float(se[d]),
            spec.ci,
            spec.level,
            df,
            float(res.n[d, j]),
            n_fit,
            start,
        )
    return lo, hi


@dataclass(frozen=True)
class _Judged:
    """Per-domain verdicts against a target (all None without a target)."""

    verdicts: list[str | None] | None = None
    verdict_reasons: list[str | None] | None = None
    p_meets: list[float] | None = None
    n_decide: list[float | None] | None = None
    n_decide_reasons: list[str | None] | None = None


def _judge(
    ctx: _Context,
    est: np.ndarray,
    se: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    n_a: np.ndarray,
    tgt: float,
    logit: bool,
) -> _Judged:
    df, level = ctx.df, ctx.spec.level
    est_l, se_l, n_l = est.tolist(), se.tolist(), n_a.tolist()
    judged = [
        verdict(lo_d, hi_d, tgt, s_, n_d, e)
        for lo_d, hi_d, s_, n_d, e in zip(lo.tolist(), hi.tolist(), se_l, n_l, est_l, strict=True)
    ]
    vds = [v_ for v_, _ in judged]
    decide = [
        n_to_decide(e, s_, n_d, tgt, level, df, logit, decided=v_ in (MET, NOT_MET))
        for e, s_, n_d, v_ in zip(est_l, se_l, n_l, vds, strict=True)
    ]
    return _Judged(
        verdicts=vds,
        verdict_reasons=[r_ for _, r_ in judged],
        p_meets=[prob_meets(e, s_, tgt, df, logit) for e, s_ in zip(est_l, se_l, strict=True)],
        n_decide=[x for x, _ in decide],
        n_decide_reasons=[r_ for _, r_ in decide],
    )


def _weighted_units(ct: CellTable) -> tuple[int, int]:
    """PSUs and strata with a non-zero weight: what the design df counts.

    A PSU whose weights are all zero still takes part in the variance (its scores are zero,
    as in R), but it counts neither in ``n`` nor in the degrees of freedom: R's
    ``degf.survey.design2`` counts the PSUs and strata of the rows with a non-zero weight
    (Lumley 2010, sec. 2.2; pinned by ``tests/analysis/reference/make_zero_weight.R``).
    """
    st = ct.structure
    if ct.second is not None:
        # every row its own PSU, and all rows of a cell weigh the same
        live_cell = np.abs(ct.sw) > 0
        if bool(live_cell.all()):
            return st.n_psu, st.n_strata
        return int(ct.n[live_cell].sum()), len(np.unique(ct.stratum[live_cell]))
    w_psu = np.bincount(ct.psu, weights=np.abs(ct.sw), minlength=st.n_psu)
    live = w_psu > 0
    if bool(live.all()):
        return st.n_psu, st.n_strata
    return int(live.sum()), len(np.unique(st.stratum_of_psu[live]))


def _null_reasons(
    res: LinearResult, p: Plan, kind: str, j: int, nbase: int, finite: np.ndarray
) -> list[str | None] | None:
    """Why each domain's estimate of column ``j`` is null (None where it is not).

    An index is null in a domain only when one of its own parts has no answers there; the
    reason names those parts (``empty_part:q31``), so the reader sees which item to blame.
    """
    if bool(finite.all()):
        return None
    out: list[str | None] = []
    parts: list[tuple[int, str]] = []
    if kind == "index" and p.combos is not None:
        col = p.combos[:, j - nbase]
        parts = [
            (int(b), p.stats[b].a.rsplit(":", 1)[0].split("|", 1)[0]) for b in np.flatnonzero(col)
        ]
    for d, ok in enumerate(finite.tolist()):
        if ok:
            out.append(None)
            continue
        empty = [name for b, name in parts if not math.isfinite(float(res.est[d, b]))]
        out.append(f"{EMPTY_PART}:{','.join(empty)}" if empty else NO_ANSWERS)
    return out


def _py(x: Any) -> Any:
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def compare_domains(
    frame: pd.DataFrame,
    spec: Spec,
    variable: str,
    *,
    weight: str | None = None,
    strata: str | None = None,
    cluster: Sequence[str] = (),
    fpc: Sequence[str] = (),
    lonely_psu: str = "fail",
) -> DomainComparison:
    """Per-domain estimates of ``variable`` (a prop column or index name of ``spec``) and
    their joint covariance, for differences between domains and rank intervals.

    The diagonal holds the variances of :func:`analyze`, the off-diagonal the covariances
    of the same linearization (calibration residuals included), see
    :func:`domain_comparison`. Two periods are independent samples: use
    :func:`surveyapp.analysis.targets.difference` with ``cov=0`` on the two :func:`analyze`
    rows.
    """
    if not spec.by:
        raise AnalysisError("compare_domains: the spec needs --by")
    if spec.by not in frame.columns:
        raise AnalysisError(f"unknown column {spec.by!r}")
    spec = only(spec, variable)
    design = design_from_frame(frame, weight, strata, cluster, fpc, lonely_psu)
    plan = make_plan(frame, spec)
    cal_codes = cal_margins = None
    targets: list[np.ndarray] = []
    labels: list[list[Any]] = []
    if spec.margins:
        cal_codes, cal_margins, targets, labels = margin_codes(frame, spec.margins)
    dom_codes, dom_labels = domain_codes(frame[spec.by].to_numpy())
    ct = build_cells(
        design,
        [VarData(k, y, r) for k, (y, r) in plan.vardata.items()],
        plan.moments,
        cal_codes,
        cal_margins,
        dom_codes,
        dom_labels,
    )
    names = [m[0] for m in spec.margins]
    return domain_comparison(ct, spec, variable, plan, names, targets, labels)


def only(spec: Spec, variable: str) -> Spec:
    """``spec`` reduced to what ``variable`` (an index name or an item column) is made of:
    its estimates, variances and covariances are those of the whole ``spec``, at the cost
    of its own statistics only."""
    indices = dict(spec.indices)
    nodes: set[str] = set()
    items: set[str] = set()

    def walk(name: str) -> None:
        if name in indices:
            nodes.add(name)
            for part in indices[name]:
                walk(part)
        else:
            items.add(name)

    walk(variable)
    return dataclasses.replace(
        spec,
        props=tuple(p for p in spec.props if p[0] == variable),
        means=tuple(m for m in spec.means if m == variable),
        totals=tuple(t for t in spec.totals if t == variable),
        ratios=tuple(r for r in spec.ratios if f"{r[0]}/{r[1]}" == variable),
        indices=tuple((n, p) for n, p in spec.indices if n in nodes),
        index_weights=tuple((n, w) for n, w in spec.index_weights if n in nodes),
        national=False,
        targets=(),
    )


def domain_comparison(
    ct: CellTable,
    spec: Spec,
    variable: str,
    plan: Plan | None = None,
    margin_names: Sequence[str] = (),
    margin_targets: Sequence[np.ndarray] = (),
    margin_labels: Sequence[list[Any]] = (),
) -> DomainComparison:
    """The ``spec.by`` domains' estimates of ``variable`` and their joint covariance, from a
    cell table as :func:`analyze_cells` reads it (calibrated by ``spec.margins``).

    Estimates and variances are those :func:`analyze_cells` reports (calibrated: the
    variances to rounding, from the same pass); the covariances come in one pass from the
    variance units' score totals of every domain
    (:func:`~surveyapp.analysis.engine.domain_covariance`), calibration residuals included,
    equal to what the variance of each pair's mean gives by polarization. Domains without an
    estimate have NaN variances.
    """
    spec.check()
    if not spec.by:
        raise AnalysisError("domain comparison: the spec needs a by column")
    p = plan if plan is not None else make_plan(None, spec)
    columns = [
        (j, kind)
        for (kind, var, _values), j in zip(p.rows, _result_columns(p), strict=True)
        if var == variable
    ]
    if not columns:
        raise AnalysisError(f"domain comparison: no estimate named {variable!r}")
    column = columns[0][0]
    ct.structure.check_lonely()
    n_psu, n_strata = _weighted_units(ct)
    ct, cal = _calibrated(ct, spec, margin_names, margin_targets, margin_labels)
    ndom = len(ct.dom_labels)
    if cal is None:
        res = estimate_linear(ct, p.stats, p.combos, ct.dom, ndom, cal)
        est = res.est[:, column]
        var = np.where(np.isfinite(est), np.clip(res.var[:, column], 0, None), np.nan)
        cov = domain_covariance(ct, p.stats, p.combos, column, ct.dom, ndom, var, cal)
    else:
        # calibrated: the variances are the covariance's own diagonal (the by run's loop
        # over the domains, one residual regression each, is what this pass replaces)
        est = domain_estimates(ct, p.stats, p.combos, column, ct.dom, ndom)
        cov = domain_covariance(ct, p.stats, p.combos, column, ct.dom, ndom, None, cal)
        diag = np.diag(cov)
        np.fill_diagonal(cov, np.where(np.isfinite(est), np.clip(diag, 0, None), np.nan))
    return DomainComparison(
        variable=variable,
        by=spec.by,
        labels=tuple(_py(x) for x in ct.dom_labels),
        estimates=tuple(float(x) for x in est),
        cov=cov,
        level=spec.level,
        df=float(n_psu - n_strata) if spec.df == "design" else math.inf,
    )


__all__ = [
    "SATISFIED",
    "Analysis",
    "DesignSummary",
    "DomainComparison",
    "Estimate",
    "EstimateBlock",
    "Spec",
    "UnitRows",
    "analyze",
    "analyze_cells",
    "compare_domains",
    "domain_comparison",
    "only",
]
