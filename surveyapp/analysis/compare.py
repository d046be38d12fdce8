"""Pairwise differences between domains from the joint covariance of calibrated estimates.

Two domains of one design are not independent: they share strata and PSUs, and calibration
couples them further (raking on sex × age and area moves every district's weights at once).
The variance of a difference ``θ_a − θ_b`` therefore needs ``Cov(θ_a, θ_b)``, and it must come
from the same calibration residuals as the variances (R ``svyrecvar``).

How: :func:`~surveyapp.analysis.cells_api.compare_cell_frame` gives every domain's estimate
and variance as the ``by`` run does, and their joint covariance in one pass over the
variance units' score totals of all domains (calibration residuals included; see
:func:`~surveyapp.analysis.engine.domain_covariance`). Then
``Var(θ_a − θ_b) = Var θ_a + Var θ_b − 2 Cov(θ_a, θ_b)`` for every pair. Intervals use t on
the design degrees of freedom (#PSU − #strata), as every other interval of the package.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .design import FloatArray
from .differences import PairDifference
from .dist import t_ppf
from .errors import AnalysisError
from .results import DomainComparison, Spec


@dataclass(frozen=True)
class DomainDifferences:
    """Every domain's estimate of one variable, their joint covariance and all pairs.

    Attributes
    ----------
    variable : str
        Index name or item column.
    labels : tuple
        Domain levels, in the order of ``estimates``, ``se`` and the rows of ``cov``.
    cov : numpy.ndarray
        Joint covariance matrix of the domain estimates (calibrated, linearized).
    df : float
        Design degrees of freedom used for the t intervals.
    pairs : tuple of PairDifference
        ``(labels[i], labels[j])`` for every ``i < j``.
    """

    variable: str
    labels: tuple[Any, ...]
    estimates: tuple[float, ...]
    se: tuple[float, ...]
    cov: FloatArray
    df: float
    level: float
    pairs: tuple[PairDifference, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "variable": self.variable,
            "level": self.level,
            "df": self.df,
            "domains": [
                {"domain": lab, "estimate": _num(e), "se": _num(s)}
                for lab, e, s in zip(self.labels, self.estimates, self.se, strict=True)
            ],
            "pairs": [p.to_dict() for p in self.pairs],
        }


def _t_sf(x: FloatArray, df: float) -> FloatArray:
    """The t distribution's upper tail of every ``x`` at once (scipy.stats is imported here,
    where it is used: thousands of pairs, not every process that loads the package)."""
    from scipy import stats

    return np.asarray(stats.t.sf(x, df), dtype=np.float64)


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def domain_differences(
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
    exclude: Sequence[Any] = (),
) -> DomainDifferences:
    """Joint covariance of the ``spec.by`` domains' estimates of ``variable`` and every
    pairwise difference with its t interval on the design df (see the module docstring).

    Parameters
    ----------
    cells : pandas.DataFrame
        A cell table as :func:`~surveyapp.analysis.cells_api.analyze_cell_frame` reads it,
        with the ``spec.by`` column and the moment columns ``q__wy``, ``q__wr``, ``q__r``
        (and ``q__y`` when raking) of every item ``variable`` uses.
    spec : Spec
        Its ``by``, ``indices``, ``satisfied``, ``margins``, ``level`` and ``df`` are used.
    variable : str
        An index name of ``spec`` or an item column.
    strata, psu, ssu, stratum_popsize, psu_popsize, lonely_psu
        The design, as for :func:`~surveyapp.analysis.cells_api.analyze_cell_frame`.
    exclude : sequence
        Domain levels kept in the design but not compared (e.g. those outside a filter).

    Returns
    -------
    DomainDifferences
    """
    from .cells_api import compare_cell_frame

    if not spec.by:
        raise AnalysisError("domain_differences: the spec needs a by column")
    if spec.by not in cells.columns:
        raise AnalysisError(f"cell table: unknown column {spec.by!r}")
    if variable not in {n for n, _ in spec.indices}:
        # an item: its per-domain share is a prop of the satisfied values
        spec = replace(
            spec, props=((variable, tuple(spec.satisfied)),), means=(), totals=(), ratios=()
        )
    joint = compare_cell_frame(
        cells,
        spec,
        variable,
        strata=strata,
        psu=psu,
        ssu=ssu,
        stratum_popsize=stratum_popsize,
        psu_popsize=psu_popsize,
        lonely_psu=lonely_psu,
    )
    return differences_of(joint, exclude)


def differences_of(joint: DomainComparison, exclude: Sequence[Any] = ()) -> DomainDifferences:
    """Every pair of ``joint``'s domains (but ``exclude`` and the missing level), ordered by
    their labels as text, with its difference, t interval on ``joint.df`` and p-value."""
    skip = set(exclude)
    labels = sorted(
        (x for x in joint.labels if x is not None and x not in skip and x == x), key=str
    )
    if len(labels) < 2:
        raise AnalysisError("domain_differences: fewer than two domains to compare")
    where = [joint.labels.index(x) for x in labels]
    est = np.array([joint.estimates[k] for k in where], dtype=np.float64)
    cov = np.asarray(joint.cov[np.ix_(where, where)], dtype=np.float64)
    var = np.diag(cov).copy()
    df, level = joint.df, joint.level
    q = t_ppf(0.5 + level / 2, df) if df > 0 else math.nan
    i, j = np.triu_indices(len(labels), k=1)
    d = est[i] - est[j]
    v_diff = np.maximum(var[i] + var[j] - 2 * cov[i, j], 0.0)
    se = np.sqrt(v_diff)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * _t_sf(np.abs(d) / se, df) if df > 0 else np.full(len(d), np.nan)
    p = np.where(se > 0, p, np.nan)
    usable = np.isfinite(d) & np.isfinite(v_diff)
    out: list[PairDifference] = []
    for k, (a, b) in enumerate(zip(i.tolist(), j.tolist(), strict=True)):
        if not usable[k]:
            out.append(PairDifference(labels[a], labels[b], None, None, None, None, None))
            continue
        dk, sk = float(d[k]), float(se[k])
        out.append(
            PairDifference(
                labels[a],
                labels[b],
                dk,
                sk,
                _num(dk - q * sk),
                _num(dk + q * sk),
                _num(float(p[k])),
            )
        )
    return DomainDifferences(
        variable=joint.variable,
        labels=tuple(labels),
        estimates=tuple(float(x) for x in est),
        se=tuple(float(math.sqrt(x)) if math.isfinite(x) else math.nan for x in var),
        cov=cov,
        df=df,
        level=level,
        pairs=tuple(out),
    )


__all__ = [
    "DomainDifferences",
    "PairDifference",
    "differences_of",
    "domain_differences",
]
