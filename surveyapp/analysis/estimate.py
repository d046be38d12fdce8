"""Public estimation API: a specification in, frozen result dataclasses out.

Example
-------
>>> spec = Spec(props=(("q19", (4, 5)),), indices=(("2.2", ("q19", "q20")),), by="district")
>>> result = analyze(frame, spec, weight="w", strata="stratum", cluster=("psu",))
>>> result.to_dict()["estimates"][0]["estimate"]  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .calibration_frame import margin_codes
from .cells import BASE_MOMENTS, CellTable, VarData, build_cells, domain_codes
from .ci import CI_METHODS, as_array_ci, likelihood_start, prop_interval, quantile, t_interval
from .columns import ColumnTable
from .design import LONELY_PSU, Design, FloatArray, IntArray, is_blank
from .engine import (
    BaseStat,
    Calibration,
    LinearResult,
    apply_calibration,
    calibrate,
    domain_covariance,
    estimate_linear,
)
from .errors import AnalysisError
from .targets import (
    EMPTY_PART,
    MET,
    NO_ANSWERS,
    NOT_MET,
    Difference,
    PairwiseDifferences,
    difference,
    n_to_decide,
    pairwise_differences,
    prob_meets,
    rank_intervals,
    small_domain,
    verdict,
)

if TYPE_CHECKING:
    import pandas as pd

SATISFIED = (4, 5)


@dataclass(frozen=True)
class Spec:
    """What to estimate.

    Attributes
    ----------
    props : tuple of (column, values)
        Share of answered rows whose value is in ``values`` (``--prop COL=V1,V2``).
    means, totals : tuple of str
        Columns (``--mean``, ``--total``).
    ratios : tuple of (numerator, denominator)
        Ratio of totals (R ``svyratio``).
    indices : tuple of (name, parts)
        Unweighted mean of the parts' satisfied shares; a part is a column or an earlier
        index name (``--index NAME=PART,...``). ``index_weights`` optionally gives weights.
    satisfied : tuple
        Values counted as satisfied in index parts (default 4, 5).
    by : str, optional
        Domain column; every estimate per level, on the full design.
    national : bool
        With ``by``, also emit the whole-sample rows (domain ``None``) first.
    margins : tuple of (variable, {category: population total})
        One margin post-stratifies, several rake.
    ci : str
        CI method for shares: logit, wald, beta, asin, xlogit, likelihood, wilson.
    level : float
    df : {"design", "inf"}
    targets : tuple of (name, target)
        Target per variable or index name (share scale; values > 1 are read as percent).
    """

    props: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    means: tuple[str, ...] = ()
    totals: tuple[str, ...] = ()
    ratios: tuple[tuple[str, str], ...] = ()
    indices: tuple[tuple[str, tuple[str, ...]], ...] = ()
    index_weights: tuple[tuple[str, tuple[float, ...]], ...] = ()
    satisfied: tuple[Any, ...] = SATISFIED
    by: str | None = None
    national: bool = False
    margins: tuple[tuple[str, tuple[tuple[Any, float], ...]], ...] = ()
    ci: str = "logit"
    level: float = 0.95
    df: str = "design"
    targets: tuple[tuple[str, float], ...] = ()

    def check(self) -> None:
        """Raise :class:`AnalysisError` on an invalid specification."""
        if self.ci not in CI_METHODS:
            raise AnalysisError(f"--ci: unknown method {self.ci!r}; use one of {CI_METHODS}")
        if not 0 < self.level < 1:
            raise AnalysisError("--level: must be between 0 and 1")
        if self.df not in ("design", "inf"):
            raise AnalysisError("--df: use design or inf")
        seen: set[str] = set()
        for name, parts in self.indices:
            if not parts:
                raise AnalysisError(f"--index {name}: no parts")
            seen.add(name)
        names = {p[0] for p in self.props} | set(self.means) | set(self.totals) | seen
        names |= {f"{a}/{b}" for a, b in self.ratios}
        for name, _ in self.targets:
            if name not in names:
                raise AnalysisError(f"--target {name}: no estimate with that name")


@dataclass(frozen=True)
class Estimate:
    """One row of the ``analyze`` output (see DESIGN.md section 5).

    ``to_dict()`` gives the contract's keys plus ``reason`` and ``verdict_reason``; the extra
    attributes (``cv``, ``small``, ``p_meets_target``, ``n_to_decide``,
    ``n_to_decide_reason``, ``df``) are in ``to_dict(extended=True)``.

    ``n`` counts the answered rows with a non-zero weight in the domain (for an index: the
    largest such count among its items).

    ``reason`` says why ``estimate`` is null: ``no_answers`` (no answered row in the domain)
    or ``empty_part:q31,...`` (an index whose listed parts have no answers there; other
    indices of the domain are unaffected). ``verdict_reason`` says why a verdict is
    ``inconclusive`` or missing and ``n_to_decide_reason`` why ``n_to_decide`` is null (codes
    in :data:`surveyapp.analysis.targets.VERDICT_REASONS` and ``N_TO_DECIDE_REASONS``).

    ``p_meets_target`` is the confidence that the true value reaches the target
    (:func:`~surveyapp.analysis.targets.prob_meets`); ``n_to_decide`` the answers in the
    domain at which the interval would exclude the target with 80 % power at today's design
    effect (:func:`~surveyapp.analysis.targets.n_to_decide`).

    ``deff`` is R's ``deff=TRUE`` (variance over the SRS-without-replacement variance) for
    shares, means and totals; for an index it is the average of its items' design effects
    weighted by their coefficients; ``None`` for ratios.
    """

    statistic: str
    variable: str
    values: tuple[Any, ...] | None
    domain: tuple[str, Any] | None
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    deff: float
    n: int
    target: float | None = None
    verdict: str | None = None
    p_meets_target: float | None = None
    n_to_decide: float | None = None
    df: float = math.inf
    reason: str | None = None
    verdict_reason: str | None = None
    n_to_decide_reason: str | None = None

    @property
    def cv(self) -> float:
        """Coefficient of variation se/estimate."""
        if not (math.isfinite(self.estimate) and math.isfinite(self.se)) or self.estimate == 0:
            return math.nan
        return self.se / abs(self.estimate)

    @property
    def small(self) -> bool:
        """Small-domain flag: n < 30 or CV > 20%."""
        return small_domain(self.n, self.estimate, self.se)

    def to_dict(self, extended: bool = False) -> dict[str, Any]:
        """The JSON row; non-finite numbers become ``None``."""
        isf = math.isfinite
        e, s_, lo, hi, de = self.estimate, self.se, self.ci_low, self.ci_high, self.deff
        d: dict[str, Any] = {
            "statistic": self.statistic,
            "variable": self.variable,
            "values": list(self.values) if self.values is not None else None,
            "domain": {self.domain[0]: self.domain[1]} if self.domain is not None else None,
            "estimate": e if isf(e) else None,
            "se": s_ if isf(s_) else None,
            "ci_low": lo if isf(lo) else None,
            "ci_high": hi if isf(hi) else None,
            "deff": de if isf(de) else None,
            "n": self.n,
            "target": self.target,
            "verdict": self.verdict,
            "reason": self.reason,
            "verdict_reason": self.verdict_reason,
        }
        if extended:
            d.update(
                cv=_num(self.cv),
                small=self.small,
                p_meets_target=_num(self.p_meets_target),
                n_to_decide=_num(self.n_to_decide),
                n_to_decide_reason=self.n_to_decide_reason,
                df=_num(self.df),
            )
        return d


def _num(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class DesignSummary:
    """``{"n", "strata", "psu", "df"}`` of the contract."""

    n: int
    strata: int
    psu: int
    df: int

    def to_dict(self) -> dict[str, int]:
        return {"n": self.n, "strata": self.strata, "psu": self.psu, "df": self.df}


@dataclass(frozen=True)
class _Block:
    """The rows of one statistic for every domain of one run, column by column.

    :func:`analyze_cells` produces these; :class:`Estimate` objects are made only when
    someone asks for them, and :meth:`Analysis.to_json` writes JSON straight from the columns.
    """

    kind: str
    variable: str
    values: tuple[Any, ...] | None
    domains: list[tuple[str, Any] | None]
    est: FloatArray
    se: FloatArray
    lo: FloatArray
    hi: FloatArray
    deff: FloatArray
    n: IntArray
    target: float | None
    verdict: list[str | None] | None
    p_meets: list[float] | None
    n_decide: list[float | None] | None
    df: float
    reason: list[str | None] | None = None
    verdict_reason: list[str | None] | None = None
    n_decide_reason: list[str | None] | None = None

    def estimates(self) -> list[Estimate]:
        k, v, vals, tgt, df = self.kind, self.variable, self.values, self.target, self.df
        none: list[Any] = [None] * len(self.est)
        return [
            Estimate(k, v, vals, dom, e, s_, lo, hi, de, n, tgt, vd, pm, nd, df, rs, vr, nr)
            for dom, e, s_, lo, hi, de, n, vd, pm, nd, rs, vr, nr in zip(
                self.domains,
                self.est.tolist(),
                self.se.tolist(),
                self.lo.tolist(),
                self.hi.tolist(),
                self.deff.tolist(),
                self.n.tolist(),
                self.verdict or none,
                self.p_meets or none,
                self.n_decide or none,
                self.reason or none,
                self.verdict_reason or none,
                self.n_decide_reason or none,
                strict=True,
            )
        ]


_JSON_NONFINITE = {"nan": "null", "inf": "null", "-inf": "null"}


def _json_floats(xs: FloatArray) -> list[str]:
    """``json.dumps`` of each float, with non-finite values as ``null`` (as ``to_dict``)."""
    from ._arrow import float_strings

    get = _JSON_NONFINITE.get
    return [get(r, r) for r in float_strings(xs)]


class Analysis:
    """Result of :func:`analyze`: design summary and estimate rows.

    ``estimates`` is built on first use from the column blocks :func:`analyze_cells` makes;
    :meth:`to_json` does not need it.
    """

    def __init__(
        self,
        design: DesignSummary,
        estimates: Sequence[Estimate] | None = None,
        _scores: Any = None,
        *,
        blocks: Sequence[_Block] = (),
    ) -> None:
        self.design = design
        self._estimates = None if estimates is None else tuple(estimates)
        self._blocks = tuple(blocks)
        self._scores = _scores

    @property
    def estimates(self) -> tuple[Estimate, ...]:
        if self._estimates is None:
            self._estimates = tuple(e for b in self._blocks for e in b.estimates())
        return self._estimates

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Analysis):
            return NotImplemented
        return self.design == other.design and self.estimates == other.estimates

    def __hash__(self) -> int:  # hashable like the frozen dataclass it used to be
        return hash((self.design, self.estimates))

    def __repr__(self) -> str:
        return f"Analysis(design={self.design!r}, estimates=<{len(self.estimates)} rows>)"

    def to_dict(self, extended: bool = False) -> dict[str, Any]:
        return {
            "design": self.design.to_dict(),
            "estimates": [e.to_dict(extended) for e in self.estimates],
        }

    def to_json(self, extended: bool = False) -> str:
        """``json.dumps(self.to_dict(extended), ensure_ascii=False)``, faster: the rows are
        formatted column by column without building an object or a dict per row."""
        if extended or self._estimates is not None or not self._blocks:
            return json.dumps(self.to_dict(extended), ensure_ascii=False)
        dumps = functools.partial(json.dumps, ensure_ascii=False)
        dom_cache: dict[Any, str] = {}
        rows: list[str] = []
        blocks = self._blocks
        # every float column of every block formatted in one go
        cols = [
            _json_floats(np.concatenate([getattr(b, name) for b in blocks]))
            for name in ("est", "se", "lo", "hi", "deff")
        ]
        counts = list(map(int.__repr__, np.concatenate([b.n for b in blocks]).tolist()))
        at = 0
        for b in blocks:
            head = (
                f'{{"statistic": {dumps(b.kind)}, "variable": {dumps(b.variable)}, '
                f'"values": {dumps(None if b.values is None else list(b.values))}, "domain": '
            )
            doms = []
            for d in b.domains:
                js = dom_cache.get(d)
                if js is None:
                    js = dumps(None if d is None else {d[0]: d[1]})
                    dom_cache[d] = js
                doms.append(js)
            tail = f', "target": {dumps(b.target)}, "verdict": '
            nulls = ["null"] * len(doms)
            verdicts = [dumps(v) for v in b.verdict] if b.verdict is not None else nulls
            reasons = [dumps(v) for v in b.reason] if b.reason is not None else nulls
            vreasons = (
                [dumps(v) for v in b.verdict_reason] if b.verdict_reason is not None else nulls
            )
            end = at + len(doms)
            rows.extend(
                f'{head}{d}, "estimate": {e}, "se": {s_}, "ci_low": {lo}, "ci_high": {hi}, '
                f'"deff": {de}, "n": {n}{tail}{vd}, "reason": {rs}, "verdict_reason": {vr}}}'
                for d, e, s_, lo, hi, de, n, vd, rs, vr in zip(
                    doms,
                    cols[0][at:end],
                    cols[1][at:end],
                    cols[2][at:end],
                    cols[3][at:end],
                    cols[4][at:end],
                    counts[at:end],
                    verdicts,
                    reasons,
                    vreasons,
                    strict=True,
                )
            )
            at = end
        return f'{{"design": {dumps(self.design.to_dict())}, "estimates": [{", ".join(rows)}]}}'

    def find(self, variable: str, domain: Any = None, statistic: str | None = None) -> Estimate:
        """The row for ``variable`` (and domain value, statistic)."""
        for e in self.estimates:
            if e.variable != variable or (statistic and e.statistic != statistic):
                continue
            if (domain is None and e.domain is None) or (
                e.domain is not None and e.domain[1] == domain
            ):
                return e
        raise KeyError((variable, domain))


# --------------------------------------------------------------------------------------------


def _prop_key(col: str, values: Sequence[Any]) -> str:
    return f"{col}|{','.join(str(v) for v in values)}"


def _numeric(frame: pd.DataFrame | ColumnTable, col: str, what: str) -> np.ndarray:
    if isinstance(frame, ColumnTable):
        return frame.numeric(col)  # numeric type checked by ColumnTable.supports
    import pandas as pd

    ser = frame[col]
    if pd.api.types.is_bool_dtype(ser):
        return ser.to_numpy(dtype=np.float64)
    if pd.api.types.is_numeric_dtype(ser):
        return ser.to_numpy(dtype=np.float64, na_value=np.nan)
    conv = pd.to_numeric(ser, errors="coerce")
    bad = conv.isna() & ser.notna() & (ser.astype(str).str.strip() != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise AnalysisError(
            f"{what} column {col!r}: non-numeric value {ser.iloc[row]!r} in data row {row + 1}"
        )
    return conv.to_numpy(dtype=np.float64, na_value=np.nan)


def _match(
    frame: pd.DataFrame | ColumnTable, col: str, values: Sequence[Any]
) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(frame, ColumnTable):
        # numeric column and numeric value set (ColumnTable.supports)
        if frame.is_integer(col) and all(isinstance(v, int) for v in values):
            xi, valid = frame.integers(col)
            yi = xi == values[0]
            for v in values[1:]:
                yi |= xi == v
            return yi & valid, valid
        xf = frame.numeric(col)
        yf = xf == float(values[0])
        for v in values[1:]:
            yf |= xf == float(v)
        return yf, ~np.isnan(xf)
    import pandas as pd

    ser = frame[col]
    fast = _arrow_int_match(ser, values)
    if fast is not None:
        return fast
    if pd.api.types.is_numeric_dtype(ser) and not pd.api.types.is_bool_dtype(ser):
        try:
            vals = [float(v) for v in values]
        except (TypeError, ValueError):
            vals = None
        if vals is not None:
            x = ser.to_numpy(dtype=np.float64, na_value=np.nan)
            y = x == vals[0]
            for v in vals[1:]:
                y |= x == v
            return y, ~np.isnan(x)
    numeric_set = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if numeric_set and not pd.api.types.is_bool_dtype(ser):
        # a numeric value set (e.g. Likert 4,5) on a text column: every answer must be a number
        x = _numeric(frame, col, "--prop/--index")
        y = np.isin(x, np.asarray(values, dtype=np.float64))
        return y, ~np.isnan(x)
    r = ser.notna().to_numpy()
    sv = {str(v) for v in values}
    return ser.astype(str).isin(sv).to_numpy() & r, r


def _arrow_int_match(ser: pd.Series, values: Sequence[Any]) -> tuple[Any, Any] | None:
    """Fast path for Arrow-backed integer answers (what the CLI reads): no float copy."""
    import pandas as pd

    dtype = ser.dtype
    if not isinstance(dtype, pd.ArrowDtype):
        return None
    import pyarrow as pa

    if not pa.types.is_integer(dtype.pyarrow_dtype):
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return None
    arr = pa.chunked_array(ser.array._pa_array).combine_chunks()
    n = len(arr)
    validity, data = arr.buffers()[:2]
    x = np.frombuffer(data, dtype=np.dtype(arr.type.to_pandas_dtype()))[arr.offset : arr.offset + n]
    if validity is None or arr.null_count == 0:
        r = np.ones(n, dtype=bool)
    else:
        bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
        r = bits[arr.offset : arr.offset + n].astype(bool)
    y = x == values[0]
    for v in values[1:]:
        y |= x == v
    return y & r, r


def _design_from_frame(
    frame: pd.DataFrame | ColumnTable,
    weight: str | None,
    strata: str | None,
    cluster: Sequence[str],
    fpc: Sequence[str],
    lonely_psu: str,
) -> Design:
    for c in [x for x in (weight, strata, *cluster, *fpc) if x]:
        if c not in frame.columns:
            raise AnalysisError(f"unknown column {c!r}")
    if lonely_psu not in LONELY_PSU:
        raise AnalysisError(f"--lonely-psu: unknown option {lonely_psu!r}")
    design_cols = [x for x in (strata, *cluster, weight, *fpc) if x]
    if isinstance(frame, ColumnTable):
        for c in design_cols:
            row = frame.first_missing(c)
            if row is not None:
                raise AnalysisError(f"design column {c!r}: missing value in data row {row + 1}")
        # labels stay Arrow arrays: the design hashes them without a copy to Python objects
        return Design.from_arrays(
            weights=frame.numeric(weight) if weight else None,
            strata=frame.arrow(strata) if strata else None,
            clusters=[frame.arrow(c) for c in cluster],
            fpc=[frame.numeric(c) for c in fpc],
            lonely_psu=lonely_psu,
            n=len(frame),
        )
    for c in design_cols:
        missing = frame[c].isna().to_numpy()
        if frame[c].dtype == object:
            missing = missing | frame[c].map(is_blank).to_numpy(dtype=bool)
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise AnalysisError(f"design column {c!r}: missing value in data row {row + 1}")
    return Design.from_arrays(
        weights=_numeric(frame, weight, "weight") if weight else None,
        strata=frame[strata].to_numpy() if strata else None,
        clusters=[frame[c].to_numpy() for c in cluster],
        fpc=[_numeric(frame, c, "fpc") for c in fpc],
        lonely_psu=lonely_psu,
        n=len(frame),
    )


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
    if isinstance(frame, ColumnTable) and not _columns_ok(
        frame, spec, weight, strata, cluster, fpc
    ):
        frame = frame.to_frame()
    if design is None:
        design = _design_from_frame(frame, weight, strata, cluster, fpc, lonely_psu)
    elif design.n != len(frame):
        raise AnalysisError("design and data have different numbers of rows")
    plan = _plan(frame, spec)
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
    rows = _Rows(design.weights, cal_codes, dom_codes) if spec.ci == "likelihood" else None
    return analyze_cells(ct, spec, plan, [m[0] for m in spec.margins], targets, labels, rows)


@dataclass
class _Rows:
    """Unit-level weights, calibration cells and domains (for the likelihood interval)."""

    weights: np.ndarray
    cal: np.ndarray | None
    dom: np.ndarray | None


def _likelihood_start(
    rows: _Rows,
    plan: _Plan,
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


def _columns_ok(
    table: ColumnTable,
    spec: Spec,
    weight: str | None,
    strata: str | None,
    cluster: Sequence[str],
    fpc: Sequence[str],
) -> bool:
    """Whether ``analyze`` can read ``table`` without a DataFrame (no calibration; numeric
    columns where numbers are read)."""
    if spec.margins:
        return False
    index_names = {n for n, _ in spec.indices}
    shares = [(c, tuple(v)) for c, v in spec.props]
    shares += [
        (p, tuple(spec.satisfied))
        for _, parts in spec.indices
        for p in parts
        if p not in index_names
    ]
    numeric = [x for x in (weight, *fpc) if x] + list(spec.means) + list(spec.totals)
    numeric += [c for r in spec.ratios for c in r]
    labels = [x for x in (strata, *cluster, spec.by) if x]
    return table.supports(labels, numeric, shares)


@dataclass
class _Plan:
    stats: list[BaseStat]
    rows: list[tuple[str, str, tuple[Any, ...] | None]]
    combos: np.ndarray | None
    vardata: dict[str, tuple[np.ndarray, np.ndarray]]
    moments: dict[str, tuple[str, ...]]


def _plan(frame: pd.DataFrame | ColumnTable | None, spec: Spec) -> _Plan:
    """Map the spec to base statistics, index combinations and the cell moments needed."""
    raking = len(spec.margins) > 1
    extra = ("y",) if raking else ()
    lik: tuple[str, ...] = ()
    stats: list[BaseStat] = []
    rows: list[tuple[str, str, tuple[Any, ...] | None]] = []
    vardata: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    moments: dict[str, tuple[str, ...]] = {}
    pos: dict[str, int] = {}
    cols = set(frame.columns) if frame is not None else None

    def need(c: str) -> None:
        if cols is not None and c not in cols:
            raise AnalysisError(f"unknown column {c!r}")

    def share(col: str, values: tuple[Any, ...]) -> int:
        key = _prop_key(col, values)
        if key in pos:
            return pos[key]
        need(col)
        if frame is not None:
            vardata[key] = _match(frame, col, values)
        moments[key] = (*BASE_MOMENTS, *extra, *lik)
        stats.append(
            BaseStat(
                "mean", f"{key}:wy", f"{key}:wr", f"{key}:y", f"{key}:r", f"{key}:r", f"{key}:wy"
            )
        )
        pos[key] = len(stats) - 1
        return pos[key]

    def numeric_var(col: str, what: str) -> None:
        if col in vardata or (frame is None and col in moments):
            return
        need(col)
        if frame is not None:
            x = _numeric(frame, col, what)
            r = ~np.isnan(x)
            vardata[col] = (np.where(r, x, 0.0), r)
        moments[col] = (*BASE_MOMENTS, "wyy", *extra)

    for col, values in spec.props:
        share(col, tuple(values))
        rows.append(("prop", col, tuple(values)))
    for col in spec.means:
        numeric_var(col, "--mean")
        stats.append(
            BaseStat(
                "mean", f"{col}:wy", f"{col}:wr", f"{col}:y", f"{col}:r", f"{col}:r", f"{col}:wyy"
            )
        )
        rows.append(("mean", col, None))
    for col in spec.totals:
        numeric_var(col, "--total")
        stats.append(
            BaseStat(
                "total", f"{col}:wy", None, f"{col}:y", None, f"{col}:r", f"{col}:wyy", f"{col}:wr"
            )
        )
        rows.append(("total", col, None))
    for num, den in spec.ratios:
        kn, kd = f"{num}/{den}#n", f"{num}/{den}#d"
        need(num)
        need(den)
        if frame is not None:
            xn = _numeric(frame, num, "--ratio")
            xd = _numeric(frame, den, "--ratio")
            r = ~np.isnan(xn) & ~np.isnan(xd)
            vardata[kn] = (np.where(r, xn, 0.0), r)
            vardata[kd] = (np.where(r, xd, 0.0), r)
        moments[kn] = (*BASE_MOMENTS, *extra)
        moments[kd] = (*BASE_MOMENTS, *extra)
        stats.append(BaseStat("ratio", f"{kn}:wy", f"{kd}:wy", f"{kn}:y", f"{kd}:y", f"{kn}:r"))
        rows.append(("ratio", f"{num}/{den}", None))
    combos = _index_combos(spec, share, rows, stats) if spec.indices else None
    return _Plan(stats, rows, combos, vardata, moments)


def _index_combos(
    spec: Spec,
    share: Callable[[str, tuple[Any, ...]], int],
    rows: list[tuple[str, str, tuple[Any, ...] | None]],
    stats: list[BaseStat],
) -> np.ndarray:
    """Each index as a linear combination of the base statistics (one column per index).

    ``share`` adds a satisfied share not yet among ``stats``; ``rows`` gets one row per index.
    """
    weights = dict(spec.index_weights)
    vec: dict[str, dict[int, float]] = {}
    for name, parts in spec.indices:
        wts = weights.get(name, tuple(1.0 for _ in parts))
        if len(wts) != len(parts):
            raise AnalysisError(f"--index {name}: weights do not match the parts")
        tot = float(sum(wts))
        v: dict[int, float] = {}
        for part, wt in zip(parts, wts, strict=True):
            sub = vec[part] if part in vec else {share(part, tuple(spec.satisfied)): 1.0}
            for j, c in sub.items():
                v[j] = v.get(j, 0.0) + c * wt / tot
        vec[name] = v
        rows.append(("index", name, None))
    combos = np.zeros((len(stats), len(spec.indices)))
    for i, (name, _) in enumerate(spec.indices):
        for j, c in vec[name].items():
            combos[j, i] = c
    return combos


def analyze_cells(
    ct: CellTable,
    spec: Spec,
    plan: Any = None,
    margin_names: Sequence[str] = (),
    margin_targets: Sequence[np.ndarray] = (),
    margin_labels: Sequence[list[Any]] = (),
    rows: _Rows | None = None,
) -> Analysis:
    """Estimates from a pre-aggregated :class:`~surveyapp.analysis.cells.CellTable`.

    This is the entry point for sufficient statistics built elsewhere (e.g. one SQL
    ``GROUP BY``, see :func:`surveyapp.analysis.cells_api.cells_from_frame`). Results equal
    those of :func:`analyze` on the unit-level rows (``likelihood`` intervals need ``rows``
    to start R's IRLS fit exactly; without them the weights in a domain are taken as equal).
    """
    spec.check()
    p: _Plan = plan if plan is not None else _plan(None, spec)
    st = ct.structure
    st.check_lonely()
    n_psu, n_strata = _weighted_units(ct)
    df = float(n_psu - n_strata) if spec.df == "design" else math.inf
    cal: Calibration | None = None
    if spec.margins:
        cal = calibrate(
            ct, list(margin_targets), list(margin_names), [list(x) for x in margin_labels]
        )
        ct = apply_calibration(ct, cal)
    extra: tuple[str, ...] = ()
    # svyglm's model frame: a calibrated design keeps every row (zero weights outside the
    # subset), otherwise R drops the rows outside the subset
    n_all = float(ct.n.sum()) if cal is not None else math.nan
    runs: list[tuple[np.ndarray, int, list[Any]]] = []
    if not spec.by or spec.national:
        runs.append((np.zeros(ct.ncell, dtype=np.int64), 1, [None]))
    if spec.by:
        runs.append((ct.dom, len(ct.dom_labels), ct.dom_labels))
    per_stat: list[list[_Block]] = [[] for _ in p.rows]
    nbase = len(p.stats)
    targets = dict(spec.targets)

    def linear(run: tuple[np.ndarray, int, list[Any]]) -> LinearResult:
        return estimate_linear(ct, p.stats, p.combos, run[0], run[1], cal, extra)

    if len(runs) > 1 and ct.ncell * len(p.stats) >= 200_000:
        # national and by-domain runs are independent and numpy releases the GIL in them
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(linear, runs))
    else:
        results = [linear(run) for run in runs]
    for (_dom, ndom, labels), res in zip(runs, results, strict=True):
        national = _dom is not ct.dom or not spec.by
        doms = [None if national else (spec.by or "", _py(lab)) for lab in labels]
        se_all = np.sqrt(np.clip(res.var, 0, None))
        # index columns follow base columns in res; map rows to columns
        col_of_row = []
        ii = 0
        keymap = {s.a.rsplit(":", 1)[0]: j for j, s in enumerate(p.stats)}
        for kind, var, values in p.rows:
            if kind == "prop":
                col_of_row.append(keymap[_prop_key(var, values or ())])
            elif kind == "index":
                col_of_row.append(nbase + ii)
                ii += 1
            elif kind == "ratio":
                col_of_row.append(keymap[f"{var}#n"])
            else:
                col_of_row.append(_find_stat(p.stats, kind, var))
        for ri, (kind, var, values) in enumerate(p.rows):
            j = col_of_row[ri]
            est = res.est[:, j]
            se = se_all[:, j]
            if kind == "prop" and spec.ci in ("logit", "xlogit", "wald", "asin"):
                lo, hi = as_array_ci(est, se, spec.ci, spec.level, df)
            elif kind == "prop":
                lo = np.full(ndom, np.nan)
                hi = np.full(ndom, np.nan)
                for d in range(ndom):
                    n_fit = float(res.n[d, j]) if math.isnan(n_all) else n_all
                    start = None
                    if spec.ci == "likelihood" and rows is not None:
                        start = _likelihood_start(rows, p, cal, j, _dom is ct.dom, d, n_fit)
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
            else:
                q = quantile(spec.level, df)
                lo, hi = est - q * se, est + q * se
            tgt = targets.get(var)
            if tgt is not None and kind in ("prop", "index") and tgt > 1:
                tgt = tgt / 100.0
            finite = np.isfinite(est)
            nan = np.full(ndom, np.nan)
            se_m = np.where(finite, se, nan)
            lo_m = np.where(finite, lo, nan)
            hi_m = np.where(finite, hi, nan)
            n_a = np.rint(res.n[:, j]).astype(np.int64)
            logit = kind == "prop" and spec.ci in ("logit", "xlogit")
            vds = pms = nds = vrs = nrs = None
            if tgt is not None:
                est_l, se_l, n_l = est.tolist(), se_m.tolist(), n_a.tolist()
                lo_l, hi_l = lo_m.tolist(), hi_m.tolist()
                judged = [
                    verdict(lo_d, hi_d, tgt, s_, n_d, e)
                    for lo_d, hi_d, s_, n_d, e in zip(lo_l, hi_l, se_l, n_l, est_l, strict=True)
                ]
                vds = [v_ for v_, _ in judged]
                vrs = [r_ for _, r_ in judged]
                pms = [prob_meets(e, s_, tgt, df, logit) for e, s_ in zip(est_l, se_l, strict=True)]
                decide = [
                    n_to_decide(
                        e, s_, n_d, tgt, spec.level, df, logit, decided=v_ in (MET, NOT_MET)
                    )
                    for e, s_, n_d, v_ in zip(est_l, se_l, n_l, vds, strict=True)
                ]
                nds = [x for x, _ in decide]
                nrs = [r_ for _, r_ in decide]
            reasons = _null_reasons(res, p, kind, j, nbase, finite)
            per_stat[ri].append(
                _Block(
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
                    vds,
                    pms,
                    nds,
                    df,
                    reasons,
                    vrs,
                    nrs,
                )
            )
    rows_n = ct.n if ct.n_pos is None else ct.n_pos
    summary = DesignSummary(
        n=round(float(rows_n.sum())), strata=n_strata, psu=n_psu, df=n_psu - n_strata
    )
    return Analysis(summary, blocks=[b for blocks in per_stat for b in blocks])


def _weighted_units(ct: CellTable) -> tuple[int, int]:
    """PSUs and strata with a non-zero weight: what the design df counts.

    A PSU whose weights are all zero still takes part in the variance (its scores are zero,
    as in R), but it counts neither in ``n`` nor in the degrees of freedom: R's
    ``degf.survey.design2`` counts the PSUs and strata of the rows with a non-zero weight
    (Lumley 2010, sec. 2.2; pinned by ``tests/analysis/reference/make_zero_weight.R``).
    """
    st = ct.structure
    w_psu = np.bincount(ct.psu, weights=np.abs(ct.sw), minlength=st.n_psu)
    live = w_psu > 0
    if bool(live.all()):
        return st.n_psu, st.n_strata
    return int(live.sum()), len(np.unique(st.stratum_of_psu[live]))


def _null_reasons(
    res: LinearResult, p: _Plan, kind: str, j: int, nbase: int, finite: np.ndarray
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


def _find_stat(stats: list[BaseStat], kind: str, var: str) -> int:
    for j, s in enumerate(stats):
        if s.kind == kind and s.a == f"{var}:wy":
            return j
    raise KeyError(var)


def _py(x: Any) -> Any:
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def t_ci(est: float, se: float, level: float, df: float) -> tuple[float, float]:
    """Re-exported t interval (means, totals, indices)."""
    return t_interval(est, se, level, df)


@dataclass(frozen=True)
class DomainComparison:
    """Estimates of one statistic for every domain level with their covariance matrix.

    Use :meth:`difference` for a domain contrast, :meth:`pairwise` for every pair and
    :meth:`rank_intervals` for rankings (multivariate t on ``df``).
    """

    variable: str
    by: str
    labels: tuple[Any, ...]
    estimates: tuple[float, ...]
    cov: np.ndarray
    level: float
    df: float

    def difference(self, a: Any, b: Any) -> Difference:
        """``estimate[a] - estimate[b]`` with its linearized SE and t interval."""
        i, j = self.labels.index(a), self.labels.index(b)
        return difference(
            self.estimates[i],
            math.sqrt(max(self.cov[i, i], 0.0)),
            self.estimates[j],
            math.sqrt(max(self.cov[j, j], 0.0)),
            float(self.cov[i, j]),
            self.level,
            self.df,
        )

    def pairwise(self) -> PairwiseDifferences:
        """Every pairwise difference with its t interval on the design df, from the joint
        covariance (see :func:`surveyapp.analysis.targets.pairwise_differences`)."""
        return pairwise_differences(self.estimates, self.cov, self.df, self.level, self.labels)

    def rank_intervals(self, descending: bool = True) -> dict[Any, tuple[int, int]]:
        """Rank interval per domain (1 = best when ``descending``), see
        :func:`surveyapp.analysis.targets.rank_intervals`."""
        ok = [k for k, e in enumerate(self.estimates) if math.isfinite(e)]
        cov = self.cov[np.ix_(ok, ok)]
        ranks = rank_intervals(
            [self.estimates[k] for k in ok], cov, self.level, descending=descending, df=self.df
        )
        return {self.labels[k]: r for k, r in zip(ok, ranks, strict=True)}


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
    their covariance, for differences between domains and rank intervals.

    The diagonal holds the exact variances of :func:`analyze`; off-diagonal covariances use
    the stage-1 formula (exact for one-stage designs). Calibrated designs are not supported.
    Two periods are independent samples: use :func:`surveyapp.analysis.targets.difference`
    with ``cov=0`` on the two :func:`analyze` rows.
    """
    if not spec.by:
        raise AnalysisError("compare_domains: the spec needs --by")
    if spec.margins:
        raise AnalysisError("compare_domains: calibrated designs are not supported")
    res = analyze(
        frame, spec, weight=weight, strata=strata, cluster=cluster, fpc=fpc, lonely_psu=lonely_psu
    )
    rows = [e for e in res.estimates if e.variable == variable and e.domain is not None]
    if not rows:
        raise AnalysisError(f"compare_domains: no estimate named {variable!r}")
    design = _design_from_frame(frame, weight, strata, cluster, fpc, lonely_psu)
    plan = _plan(frame, spec)
    dom_codes, dom_labels = domain_codes(frame[spec.by].to_numpy())
    ct = build_cells(
        design,
        [VarData(k, y, r) for k, (y, r) in plan.vardata.items()],
        plan.moments,
        None,
        None,
        dom_codes,
        dom_labels,
    )
    kind = rows[0].statistic
    if kind == "index":
        column = len(plan.stats) + [n for n, _ in spec.indices].index(variable)
    elif kind == "prop":
        keys = [s.a.rsplit(":", 1)[0] for s in plan.stats]
        column = keys.index(_prop_key(variable, rows[0].values or ()))
    else:
        column = _find_stat(plan.stats, kind, variable)
    cov = domain_covariance(ct, plan.stats, plan.combos, column, ct.dom, len(dom_labels))
    se = np.array([e.se for e in rows])
    np.fill_diagonal(cov, np.where(np.isfinite(se), se * se, np.nan))
    return DomainComparison(
        variable=variable,
        by=spec.by,
        labels=tuple(_py(x) for x in dom_labels),
        estimates=tuple(e.estimate for e in rows),
        cov=cov,
        level=spec.level,
        df=rows[0].df,
    )


__all__ = [
    "Analysis",
    "DesignSummary",
    "DomainComparison",
    "Estimate",
    "Spec",
    "analyze",
    "analyze_cells",
    "compare_domains",
]
