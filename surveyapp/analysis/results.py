"""What the estimators return: the specification and the frozen result types.

:class:`Spec` says what to estimate; :func:`~surveyapp.analysis.estimate.analyze` returns an
:class:`Analysis` (a :class:`DesignSummary` and :class:`Estimate` rows, kept column by column
in :class:`EstimateBlock` until someone asks for rows);
:func:`~surveyapp.analysis.estimate.compare_domains` a :class:`DomainComparison`.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .ci import CI_METHODS
from .design import FloatArray, IntArray
from .errors import AnalysisError
from .targets import (
    Difference,
    PairwiseDifferences,
    difference,
    pairwise_differences,
    rank_intervals,
    small_domain,
)

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
class EstimateBlock:
    """The rows of one statistic for every domain of one run, column by column.

    :func:`~surveyapp.analysis.estimate.analyze_cells` produces these; :class:`Estimate`
    objects are made only when someone asks for them, and :meth:`Analysis.to_json` writes
    JSON straight from the columns.
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
        *,
        blocks: Sequence[EstimateBlock] = (),
    ) -> None:
        self.design = design
        self._estimates = None if estimates is None else tuple(estimates)
        self._blocks = tuple(blocks)

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


__all__ = [
    "SATISFIED",
    "Analysis",
    "DesignSummary",
    "DomainComparison",
    "Estimate",
    "EstimateBlock",
    "Spec",
]
