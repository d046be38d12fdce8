"""Pairwise differences between domains from the joint covariance of calibrated estimates.

Two domains of one design are not independent: they share strata and PSUs, and calibration
couples them further (raking on sex × age and area moves every district's weights at once).
The variance of a difference ``θ_a − θ_b`` therefore needs ``Cov(θ_a, θ_b)``, and it must come
from the same calibration residuals as the variances (R ``svyrecvar``).

How: a domain estimate is itself a statistic of the whole sample. The share of item ``q`` in
domain ``a`` is ``Σ w·y·1[a] / Σ w·r·1[a]``, so the cell table gets one column set per
(item, domain), every index tree is repeated per domain, and one whole-sample run of
:func:`~surveyapp.analysis.cells_api.analyze_cell_frame` linearizes all of them jointly,
calibration residuals included. The estimates and variances per domain are then exactly those
of the ``by`` run. For every pair the run also estimates the mean ``m = (θ_a + θ_b)/2``
(an index of the two), whose variance gives the covariance by polarization:
``Var(θ_a − θ_b) = 2 Var θ_a + 2 Var θ_b − 4 Var m``. Intervals use t on the design degrees
of freedom (#PSU − #strata), as every other interval of the package.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .design import FloatArray
from .differences import PairDifference
from .dist import t_cdf, t_ppf
from .errors import AnalysisError

if TYPE_CHECKING:
    from .results import Spec


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


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _tree(spec: Spec, variable: str) -> tuple[list[str], list[tuple[str, tuple[str, ...]]]]:
    """The item columns and index nodes (in ``spec`` order) that ``variable`` is made of."""
    indices = dict(spec.indices)
    items: list[str] = []
    nodes: set[str] = set()

    def walk(name: str) -> None:
        if name in indices:
            nodes.add(name)
            for part in indices[name]:
                walk(part)
        elif name not in items:
            items.append(name)

    walk(variable)
    return items, [(n, p) for n, p in spec.indices if n in nodes]


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
    from .cells_api import analyze_cell_frame
    from .results import Spec

    if not spec.by:
        raise AnalysisError("domain_differences: the spec needs a by column")
    if spec.by not in cells.columns:
        raise AnalysisError(f"cell table: unknown column {spec.by!r}")
    items, nodes = _tree(spec, variable)
    labels = sorted({v for v in cells[spec.by].dropna().tolist() if v not in set(exclude)}, key=str)
    if len(labels) < 2:
        raise AnalysisError("domain_differences: fewer than two domains to compare")
    by_value = cells[spec.by].to_numpy()
    added: dict[str, np.ndarray[Any, Any]] = {}
    for i, label in enumerate(labels):
        inside = (by_value == label).astype(np.float64)
        for item in items:
            moments = [c for c in cells.columns if c.startswith(f"{item}__")]
            if not moments:
                raise AnalysisError(f"cell table: no moment columns for {item!r}")
            for column in moments:
                suffix = column.split("__", 1)[1]
                added[f"{item}@{i}__{suffix}"] = cells[column].to_numpy(np.float64) * inside
    wide = pd.concat(
        [cells.drop(columns=[spec.by]), pd.DataFrame(added, index=cells.index)], axis=1
    )
    per_domain: list[tuple[str, tuple[str, ...]]] = []
    for i in range(len(labels)):
        per_domain += [(f"{n}@{i}", tuple(f"{p}@{i}" for p in parts)) for n, parts in nodes]
    single = not nodes  # an item, not an index: its per-domain share is a prop
    props = tuple((f"{variable}@{i}", tuple(spec.satisfied)) for i in range(len(labels)))
    pairs = [(i, j) for i in range(len(labels)) for j in range(i + 1, len(labels))]
    means: list[tuple[str, tuple[str, ...]]] = [
        (f"pair@{i}@{j}", (f"{variable}@{i}", f"{variable}@{j}")) for i, j in pairs
    ]
    joint = Spec(
        props=props if single else (),
        indices=tuple(per_domain + means),
        satisfied=spec.satisfied,
        margins=spec.margins,
        ci=spec.ci,
        level=spec.level,
        df=spec.df,
    )
    result = analyze_cell_frame(
        wide,
        joint,
        strata=strata,
        psu=psu,
        ssu=ssu,
        stratum_popsize=stratum_popsize,
        psu_popsize=psu_popsize,
        lonely_psu=lonely_psu,
    )
    found = {e.variable.split("=", 1)[0]: e for e in result.estimates}
    est = np.array([found[f"{variable}@{i}"].estimate for i in range(len(labels))])
    var = np.array([found[f"{variable}@{i}"].se ** 2 for i in range(len(labels))])
    df = float(result.design.df) if spec.df == "design" else math.inf
    q = t_ppf(0.5 + spec.level / 2, df) if df > 0 else math.nan
    cov = np.diag(var)
    out: list[PairDifference] = []
    for i, j in pairs:
        v_mean = found[f"pair@{i}@{j}"].se ** 2
        v_diff = max(2 * var[i] + 2 * var[j] - 4 * v_mean, 0.0)
        cov[i, j] = cov[j, i] = (var[i] + var[j] - v_diff) / 2
        d = est[i] - est[j]
        if not (math.isfinite(d) and math.isfinite(v_diff)):
            out.append(PairDifference(labels[i], labels[j], None, None, None, None, None))
            continue
        se = math.sqrt(v_diff)
        p = 2 * t_cdf(-abs(d) / se, df) if se > 0 and df > 0 else math.nan
        out.append(
            PairDifference(
                labels[i],
                labels[j],
                float(d),
                se,
                _num(d - q * se),
                _num(d + q * se),
                _num(p),
            )
        )
    return DomainDifferences(
        variable=variable,
        labels=tuple(labels),
        estimates=tuple(float(x) for x in est),
        se=tuple(float(math.sqrt(x)) if math.isfinite(x) else math.nan for x in var),
        cov=cov,
        df=df,
        level=spec.level,
        pairs=tuple(out),
    )


__all__ = [
    "DomainDifferences",
    "PairDifference",
    "domain_differences",
]
