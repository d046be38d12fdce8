"""Rank intervals of the ``by`` levels, and every pair's difference with its interval."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from flask_babel import gettext as _

from surveyapp.analysis import AnalysisError
from surveyapp.analysis.compare import DomainDifferences, differences_of
from surveyapp.analysis.results import DomainComparison
from surveyapp.analysis.targets import rank_intervals as analysis_rank_intervals
from surveyapp.data import queries
from surveyapp.data.queries import Filters
from surveyapp.models.campaigns import Campaign
from surveyapp.models.questionnaires import IndexLevel
from surveyapp.models.responses import Response
from surveyapp.services import ServiceError, campaigns, levels
from surveyapp.services.reports.cells import cell_table, compare_table
from surveyapp.services.reports.common import (
    SAMPLES,
    Report,
    domain_value,
    row_order,
    spec_for,
)


@dataclass(frozen=True)
class Ranking:
    """Rank and rank interval per level; ``exact`` is False when the levels share strata or
    calibration margins and their covariance could not be computed (see
    :func:`rank_intervals`)."""

    ranks: dict[Any, dict[str, int]]
    exact: bool = True


def rank_intervals(
    campaign: Campaign,
    report: Report,
    *,
    variable: str = "overall",
    filters: Filters | None = None,
    level: float = 0.95,
) -> Ranking:
    """Rank of every ``report.by`` level on ``variable`` (1 = most satisfied) with its
    ``level`` rank interval (ranks over draws from the estimates' joint normal distribution,
    see :func:`surveyapp.analysis.targets.rank_intervals`).

    When every stratum lies in one level and nothing is calibrated, the levels' estimates
    are independent and the covariance is diagonal. Otherwise it is the joint covariance of
    the report's own estimates, from the same cell table in one pass (calibration residuals
    included; the desk ratings' from their tallies alone), whatever the number of levels
    and responses. Levels without an estimate are not ranked.
    """
    if report.by is None:
        return Ranking({})
    return _rank_intervals(campaign, report, variable, filters, level)


def _rank_intervals(
    campaign: Campaign,
    report: Report,
    variable: str,
    filters: Filters | None,
    level: float,
) -> Ranking:
    rows = [
        r
        for r in report.estimates
        if r["domain"] is not None
        and r["variable"] == variable
        and r["estimate"] is not None
        and r["se"] is not None
        and math.isfinite(r["estimate"])
        and math.isfinite(r["se"])
    ]
    if len(rows) < 2:
        return Ranking({})
    assert report.by is not None
    labels = [domain_value(r) for r in rows]
    estimates = np.array([r["estimate"] for r in rows])
    sample = SAMPLES[report.sample]
    cov = np.diag(np.array([r["se"] for r in rows]) ** 2)
    calibrated = sample.probability and bool(report.design.get("margins"))
    if calibrated or not queries.domains_nest_in_strata(
        campaign,
        sample,
        Response.stratum if sample.probability else Response.service_point_id,
        report.by,
        filters,
    ):
        try:
            joint = _joint_of(campaign, report, variable, filters, level)
        except ServiceError:
            # The report itself stands; its ranking then says it is approximate.
            return _ranking(labels, estimates, cov, level, exact=False, df=_design_df(report))
        where = [joint.labels.index(label) for label in labels]
        cov = joint.cov[np.ix_(where, where)]
    return _ranking(labels, estimates, cov, level, exact=True, df=_design_df(report))


def _joint_of(
    campaign: Campaign, report: Report, variable: str, filters: Filters | None, level: float
) -> DomainComparison:
    """:func:`joint_covariance` from the report's own cell table when it kept it."""
    assert report.by is not None
    if report.inputs is None:
        return joint_covariance(
            campaign, report.sample, report.by, variable=variable, filters=filters, level=level
        )
    spec = dataclasses.replace(report.inputs.spec, level=level)
    try:
        return compare_table(report.inputs.cells, spec, variable, report.inputs.design)
    except AnalysisError as exc:
        raise ServiceError(str(exc)) from exc


def joint_covariance(
    campaign: Campaign,
    sample: str,
    by: str,
    *,
    variable: str = "overall",
    filters: Filters | None = None,
    level: float = 0.95,
) -> DomainComparison:
    """The ``by`` levels' estimates of ``variable`` in ``sample`` and their joint covariance,
    from the sample's cell table with the report's own design and calibration (the desk
    ratings' from their tallies alone)."""
    chosen = SAMPLES[sample]
    if filters is not None and filters.empty:
        filters = None
    try:
        cells, weighting, design = cell_table(campaign, chosen, by, filters)
        spec = dataclasses.replace(
            spec_for(campaign, by, "logit", filters, chosen),
            margins=weighting.margins,
            level=level,
        )
        return compare_table(cells, spec, variable, design)
    except AnalysisError as exc:
        raise ServiceError(str(exc)) from exc


def _design_df(report: Report) -> float:
    """The report's design degrees of freedom (infinite when it has none to give)."""
    df = report.design.get("df")
    return float(df) if isinstance(df, int | float) and df > 0 else math.inf


def _ranking(
    labels: list[Any],
    estimates: np.ndarray,
    cov: np.ndarray,
    level: float,
    *,
    exact: bool,
    df: float = math.inf,
) -> Ranking:
    # Draws from a multivariate t on the design df, as the intervals beside them use.
    intervals = analysis_rank_intervals(list(estimates), cov, level, descending=True, df=df)
    order = (-estimates).argsort(kind="stable")
    point = np.empty(len(labels), dtype=int)
    point[order] = np.arange(1, len(labels) + 1)
    ranks = {
        label: {"rank": int(p), "low": lo, "high": hi}
        for label, p, (lo, hi) in zip(labels, point, intervals, strict=True)
    }
    return Ranking(ranks, exact)


def index_choices(campaign: Campaign, lang: str = "vi") -> list[tuple[str, str]]:
    """(code, name) of the questionnaire's index nodes, overall first, then the plans'
    order: what a comparison between units can be made on."""
    nodes = {n.code: n for n in campaign.questionnaire.index_nodes}
    codes = sorted(nodes, key=lambda code: row_order({"code": code, "level": ""}, nodes))
    codes = [c for c in codes if nodes[c].level == IndexLevel.OVERALL] + [
        c for c in codes if nodes[c].level != IndexLevel.OVERALL
    ]
    return [(c, nodes[c].name.get(lang) or nodes[c].name["vi"]) for c in codes]


def differences(
    campaign: Campaign,
    *,
    by: str | None = None,
    variable: str = "overall",
    filters: Filters | None = None,
    level: float = 0.95,
) -> DomainDifferences:
    """Every pair of ``by`` levels of the probability sample: the difference of their
    ``variable`` estimates with a t interval on the design df and a p-value, from the joint
    covariance of the calibrated estimates (:func:`joint_covariance`,
    :func:`surveyapp.analysis.compare.differences_of`).

    Only the probability sample: the other two have no design to give such intervals.
    """
    by = by or levels.default(campaign)
    if by is None:
        raise ServiceError(_("The campaign's units have no level to compare."))
    if by == "desk":
        raise ServiceError(
            _("Differences: the probability sample has no desks; choose a level or the channel.")
        )
    levels.check(campaign, by)
    if filters is not None and filters.empty:
        filters = None
    return _differences(campaign, by, variable, filters, level)


def _differences(
    campaign: Campaign, by: str, variable: str, filters: Filters | None, level: float
) -> DomainDifferences:
    sample = SAMPLES["probability"]
    spec = spec_for(campaign, by, "logit", filters, sample)
    if variable not in {n for n, _p in spec.indices} | {c for c, _v in spec.props}:
        raise ServiceError(f"variable: no index or item named {variable!r}")
    if not campaigns.has_final(campaign, sample):
        raise ServiceError(_("No responses yet."))
    joint = joint_covariance(
        campaign, sample.key, by, variable=variable, filters=filters, level=level
    )
    try:
        return differences_of(joint, exclude=(queries.OUTSIDE,))
    except AnalysisError as exc:
        raise ServiceError(str(exc)) from exc
