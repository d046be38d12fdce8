"""Rank intervals of the ``by`` levels, and every pair's difference with its interval."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from flask_babel import gettext as _

from surveyapp.analysis import (
    AnalysisError,
    DomainComparison,
    compare_domains,
)
from surveyapp.analysis.compare import DomainDifferences, domain_differences
from surveyapp.analysis.targets import rank_intervals as analysis_rank_intervals
from surveyapp.data import queries
from surveyapp.data.queries import Filters
from surveyapp.models.campaigns import Campaign
from surveyapp.models.questionnaires import IndexLevel
from surveyapp.models.responses import Response
from surveyapp.services import ServiceError, campaigns, levels
from surveyapp.services.reports.cells import cell_table, frame_for, row_design
from surveyapp.services.reports.common import (
    SAMPLES,
    Report,
    domain_value,
    row_order,
    spec_for,
)

# Above this many responses the rows' pass for the exact domain covariance costs seconds on
# every change of the campaign; the ranking then treats the levels as independent (flagged).
EXACT_RANK_ROWS = 20_000
# The joint covariance of n levels comes from every pair's difference (n(n-1)/2 of them):
# seconds for the 95 communes of a province on every view, so above this many levels the
# ranking takes the levels as independent and says it is approximate; the differences page
# (on request) still gives every pair exactly.
EXACT_RANK_DOMAINS = 30


@dataclass(frozen=True)
class Ranking:
    """Rank and rank interval per level; ``exact`` is False when the levels share strata and
    their covariance was left out (see :func:`rank_intervals`)."""

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

    When every stratum lies in one level, the levels' estimates are independent and the
    covariance is diagonal. Otherwise, up to :data:`EXACT_RANK_ROWS` responses, it comes from
    :func:`compare_domains` on the rows (weights adjusted for non-response, not calibrated);
    above that the diagonal is used and the ranking says it is approximate. Levels without an
    estimate are not ranked.
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
    stratum = Response.stratum if sample.probability else Response.service_point_id
    cov = np.diag(np.array([r["se"] for r in rows]) ** 2)
    exact = queries.domains_nest_in_strata(campaign, sample, stratum, report.by, filters)
    small = (
        len(rows) <= EXACT_RANK_DOMAINS
        and campaigns.final_counts_by_channel(campaign, sample) <= EXACT_RANK_ROWS
    )
    calibrated = sample.probability and bool(report.design.get("margins"))
    if (calibrated or not exact) and small:
        joint: DomainDifferences | DomainComparison
        if sample.probability:
            # Raking on sex × age and area couples the units even when each lies in its own
            # strata: the joint covariance of the calibrated estimates.
            try:
                # The same result the differences page shows (kept once for both).
                joint = differences(
                    campaign, by=report.by, variable=variable, filters=filters, level=level
                )
            except ServiceError:
                # The report itself stands; its ranking then says it is approximate.
                return _ranking(labels, estimates, cov, level, exact=False, df=_design_df(report))
            where = [joint.labels.index(label) for label in labels]
        else:
            frame = frame_for(campaign, sample, filters)
            spec = spec_for(campaign, report.by, "logit", filters, sample)
            comparison = compare_domains(frame, spec, variable, **row_design(frame, sample))
            joint, where = comparison, [comparison.labels.index(label) for label in labels]
        cov = joint.cov[np.ix_(where, where)]
        exact = True
    elif calibrated:
        exact = False
    return _ranking(labels, estimates, cov, level, exact=exact, df=_design_df(report))


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
    covariance of the calibrated estimates (:func:`surveyapp.analysis.compare.domain_differences`).

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
    try:
        cells, weighting, design = cell_table(campaign, sample, by, filters)
        spec = dataclasses.replace(spec, margins=weighting.margins, level=level)
        return domain_differences(cells, spec, variable, exclude=(queries.OUTSIDE,), **design)
    except AnalysisError as exc:
        raise ServiceError(str(exc)) from exc
