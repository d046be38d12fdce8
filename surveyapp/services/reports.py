"""Campaign reports: SIPAS estimates per item and index node against the targets.

The probability sample (paper forms, and web answers given with a paper form's invitation)
is analysed with its design: strata, two stages of clusters with their population sizes, and
the design weights. Ratings from desks (QR code, counter tablet) are not a probability sample:
they are weighted to each desk's transaction volume and always reported apart, labelled as
such. The two are never pooled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from surveyapp.analysis import Analysis, AnalysisError, Spec, analyze, compare_domains
from surveyapp.analysis.cells_api import analyze_cell_frame
from surveyapp.analysis.targets import rank_intervals as analysis_rank_intervals
from surveyapp.dashboard import queries
from surveyapp.dashboard.queries import Filters
from surveyapp.models.campaigns import Campaign, Channel
from surveyapp.models.questionnaires import IndexLevel, QuestionType
from surveyapp.services import ServiceError, campaigns
from surveyapp.services.campaigns import code_key
from surveyapp.services.instruments import analysis_spec

PROBABILITY = (Channel.PAPER, Channel.WEB_INVITE)
CONVENIENCE = (Channel.QR, Channel.KIOSK)
BY_COLUMNS = {"district": "district", "desk": "desk", "channel": "channel"}
VERDICT_VI = {"met": "Đạt", "not_met": "Không đạt", "inconclusive": "Chưa đủ căn cứ"}


@dataclass(frozen=True)
class Sample:
    """Which responses a report section uses and how they are weighted."""

    key: str  # "probability" or "convenience"
    channels: tuple[Channel, ...]

    @property
    def probability(self) -> bool:
        return self.key == "probability"


SAMPLES = {
    "probability": Sample("probability", PROBABILITY),
    "convenience": Sample("convenience", CONVENIENCE),
}


@dataclass(frozen=True)
class Report:
    campaign: dict[str, Any]
    sample: str
    design: dict[str, Any]
    estimates: list[dict[str, Any]]
    by: str | None = None
    analyze_args: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "sample": self.sample,
            "by": self.by,
            "design": self.design,
            "estimates": self.estimates,
        }

    def rows(self, domain: Any = None) -> list[dict[str, Any]]:
        """Estimates of one domain (``None``: the whole sample), in the plans' order."""
        return [r for r in self.estimates if _domain_value(r) == domain]

    def domains(self) -> list[Any]:
        seen: list[Any] = []
        for row in self.estimates:
            value = _domain_value(row)
            if value is not None and value not in seen:
                seen.append(value)
        return seen


def _domain_value(row: dict[str, Any]) -> Any:
    return None if row["domain"] is None else next(iter(row["domain"].values()))


def _spec(campaign: Campaign, by: str | None, ci: str, filters: Filters | None = None) -> Spec:
    qn = campaign.questionnaire
    satisfied = tuple(int(v) for v in qn.satisfied_values)
    items = [q.code for q in qn.questions if q.type == QuestionType.LIKERT5]
    indices = analysis_spec(qn)
    targets = tuple((t.index_node.code, float(t.target_pct) / 100) for t in campaign.targets)
    spec = Spec(
        props=tuple((code, satisfied) for code in items),
        indices=tuple((name, tuple(parts)) for name, parts in indices),
        satisfied=satisfied,
        by=_by_column(by, filters),
        # A filtered report shows the filter's domain, never the whole sample's rows.
        national=bool(by) and not _filtered(filters),
        ci=ci,
        targets=targets,
    )
    return spec


def _filtered(filters: Filters | None) -> bool:
    return filters is not None and not filters.empty


def _by_column(by: str | None, filters: Filters | None) -> str | None:
    if by:
        return BY_COLUMNS[by]
    return queries.SUBSET if _filtered(filters) else None


def analyze_args(
    campaign: Campaign, sample: Sample, by: str | None = None, ci: str = "logit"
) -> list[str]:
    """The ``surveyapp analyze`` arguments that reproduce a report from ``export-responses``."""
    spec = _spec(campaign, by, ci)
    args: list[str] = ["--weight", "weight"]
    if sample.probability:
        args += ["--strata", "stratum", "--cluster", "psu,ssu", "--fpc", "fpc1,fpc2"]
    else:
        args += ["--strata", "desk"]
    for code, values in spec.props:
        args += ["--prop", f"{code}={','.join(str(v) for v in values)}"]
    for name, parts in spec.indices:
        args += ["--index", f"{name}={','.join(parts)}"]
    for name, target in spec.targets:
        args += ["--target", f"{name}={target:g}"]
    if by:
        args += ["--by", BY_COLUMNS[by]]
    args += ["--lonely-psu", "adjust", "--ci", ci]
    return args


def frame_for(campaign: Campaign, sample: Sample, filters: Filters | None = None) -> pd.DataFrame:
    """One row per response; with ``filters``, every breakdown column (and ``_subset``)
    labels the responses outside the filter :data:`queries.OUTSIDE`."""
    qn = campaign.questionnaire
    questions = [q for q in qn.questions if q.type in (QuestionType.LIKERT5, QuestionType.SINGLE)]
    frame = queries.response_frame(campaign, sample.channels, questions)
    if not sample.probability:
        frame["weight"] = queries.volume_weights(frame, queries.desk_volumes(campaign))
        frame["desk"] = frame["desk"].fillna("?")
        # The stratum, apart from the ``desk`` breakdown column a filter relabels.
        frame["desk_id"] = frame["service_point_id"].fillna(-1)
    if filters is not None and not filters.empty:
        inside = filters.mask(frame)
        frame[queries.SUBSET] = queries.domain_labels(["in"] * len(frame), inside)
        for column in BY_COLUMNS.values():
            frame[column] = queries.domain_labels(list(frame[column]), inside)
    return frame


def run_cells(
    campaign: Campaign,
    sample: Sample,
    by: str | None = None,
    ci: str = "logit",
    filters: Filters | None = None,
) -> Analysis:
    """The same estimates as :func:`run`, from cell sums computed in the database."""
    from surveyapp.models.responses import Response

    spec = _spec(campaign, by, ci, filters)
    qn = campaign.questionnaire
    likert = [q for q in qn.questions if q.type == QuestionType.LIKERT5]
    satisfied = tuple(int(v) for v in qn.satisfied_values)
    if sample.probability:
        cells = queries.cell_frame(
            campaign,
            sample.channels,
            likert,
            satisfied,
            by=by,
            keys={"stratum": Response.stratum, "psu": Response.psu, "ssu": Response.ssu},
            filters=filters,
        )
        stage1, stage2 = queries.population_sizes(campaign, sample.channels)
        return analyze_cell_frame(
            cells,
            spec,
            strata="stratum",
            psu="psu",
            ssu="ssu",
            stratum_popsize=stage1,
            psu_popsize=stage2,
            lonely_psu="adjust",
        )
    cells = queries.cell_frame(
        campaign,
        sample.channels,
        likert,
        satisfied,
        by=by,
        keys={"desk_id": Response.service_point_id, "psu": Response.id},
        filters=filters,
    )
    # Every rating of a desk has the same weight, so the database sums unweighted counts and
    # the desk's weight multiplies them here.
    volumes = queries.desk_volumes(campaign)
    per_desk = cells.groupby("desk_id")["n"].transform("sum")
    weight = (cells["desk_id"].map(volumes) / per_desk).fillna(1.0)
    for col in cells.columns:
        if col.endswith(("__wy", "__wr")) or col == "sw":
            cells[col] = cells[col] * weight
    return analyze_cell_frame(cells, spec, strata="desk_id", psu="psu", lonely_psu="adjust")


def run(
    campaign: Campaign,
    frame: pd.DataFrame,
    sample: Sample,
    by: str | None = None,
    ci: str = "logit",
    filters: Filters | None = None,
) -> Analysis:
    spec = _spec(campaign, by, ci, filters)
    if sample.probability:
        return analyze(
            frame,
            spec,
            weight="weight",
            strata="stratum",
            cluster=("psu", "ssu"),
            fpc=("fpc1", "fpc2"),
            lonely_psu="adjust",
        )
    return analyze(frame, spec, weight="weight", strata="desk_id", lonely_psu="adjust")


def build(
    campaign: Campaign,
    *,
    sample: str = "probability",
    by: str | None = None,
    ci: str = "logit",
    lang: str = "vi",
    filters: Filters | None = None,
) -> Report:
    """Estimate every item and index node of ``campaign`` (and per ``by`` level).

    With ``filters`` the whole-sample rows are those of the filter's domain and the ``by``
    levels are crossed with it; the design stays the full sample's.
    """
    if by is not None and by not in BY_COLUMNS:
        raise ServiceError(f"--by: use one of {', '.join(BY_COLUMNS)}")
    chosen = SAMPLES[sample]
    summary = {
        "id": campaign.id,
        "name": campaign.name,
        "questionnaire": campaign.questionnaire.label,
        "starts": campaign.starts.isoformat(),
        "ends": campaign.ends.isoformat(),
    }
    args = analyze_args(campaign, chosen, by, ci)
    if not campaigns.final_counts_by_channel(campaign, chosen.channels):
        return Report(summary, sample, {"n": 0, "strata": 0, "psu": 0, "df": 0}, [], by, args)
    try:
        if _filtered(filters):
            results = [run_cells(campaign, chosen, None, ci, filters)]
            if by:
                results.append(run_cells(campaign, chosen, by, ci, filters))
        else:
            results = [run_cells(campaign, chosen, by, ci)]
    except AnalysisError as exc:
        raise ServiceError(str(exc)) from exc
    nodes = {n.code: n for n in campaign.questionnaire.index_nodes}
    questions = {q.code: q for q in campaign.questionnaire.questions}
    targets = {t.index_node.code: t for t in campaign.targets}
    rows = []
    for est in (e for result in results for e in result.estimates):
        row = est.to_dict(extended=True)
        domain = _domain_value(row)
        if domain == queries.OUTSIDE:
            continue
        if row["domain"] is not None and queries.SUBSET in row["domain"]:
            row["domain"] = None
        code = est.variable.split("=", 1)[0] if est.statistic == "prop" else est.variable
        node = nodes.get(code)
        target = targets.get(code)
        if node is not None:
            row.update(
                code=code, level=node.level.value, name=node.name.get(lang) or node.name["vi"]
            )
        else:
            question = questions[code]
            row.update(code=code, level="item", name=question.text.get(lang) or question.text["vi"])
        row["previous"] = (
            float(target.previous_pct) / 100 if target and target.previous_pct is not None else None
        )
        row["target_rank"] = target.target_rank if target else None
        rows.append(row)
    rows.sort(key=lambda r: (_domain_sort(r), _row_order(r, nodes)))
    design = results[0].design.to_dict()
    if _filtered(filters):
        assert filters is not None
        design["filters"] = filters.to_dict()
    return Report(summary, sample, design, rows, by, args)


def rank_intervals(
    campaign: Campaign,
    report: Report,
    *,
    variable: str = "overall",
    filters: Filters | None = None,
    level: float = 0.95,
) -> dict[Any, dict[str, int]]:
    """Rank of every ``report.by`` level on ``variable`` (1 = most satisfied) with its
    ``level`` rank interval (Klein et al. 2020 style: ranks over draws from the estimates'
    joint normal distribution, see :func:`surveyapp.analysis.targets.rank_intervals`).

    When every stratum lies in one level, the levels' estimates are independent and the
    covariance is diagonal; otherwise it comes from :func:`compare_domains` on the rows
    (design weights only). Levels without an estimate are not ranked.
    """
    if report.by is None:
        return {}
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
        return {}
    labels = [_domain_value(r) for r in rows]
    estimates = np.array([r["estimate"] for r in rows])
    sample = SAMPLES[report.sample]
    from surveyapp.models.responses import Response

    stratum = Response.stratum if sample.probability else Response.service_point_id
    if queries.domains_nest_in_strata(campaign, sample.channels, stratum, report.by, filters):
        cov = np.diag(np.array([r["se"] for r in rows]) ** 2)
    else:
        frame = frame_for(campaign, sample, filters)
        spec = _spec(campaign, report.by, "logit", filters)
        design: dict[str, Any] = (
            {"strata": "stratum", "cluster": ("psu", "ssu"), "fpc": ("fpc1", "fpc2")}
            if sample.probability
            else {"strata": "desk_id"}
        )
        comparison = compare_domains(
            frame, spec, variable, weight="weight", lonely_psu="adjust", **design
        )
        where = [comparison.labels.index(label) for label in labels]
        cov = comparison.cov[np.ix_(where, where)]
    intervals = analysis_rank_intervals(list(estimates), cov, level, descending=True)
    order = (-estimates).argsort(kind="stable")
    point = np.empty(len(rows), dtype=int)
    point[order] = np.arange(1, len(rows) + 1)
    return {
        label: {"rank": int(p), "low": lo, "high": hi}
        for label, p, (lo, hi) in zip(labels, point, intervals, strict=True)
    }


def _domain_sort(row: dict[str, Any]) -> tuple[int, str]:
    value = _domain_value(row)
    return (0, "") if value is None else (1, str(value))


def _row_order(row: dict[str, Any], nodes: dict[str, Any]) -> tuple[int, list[int], int]:
    """Index nodes first in the plans' order (1, 1.1 … 2.6, overall), then the items."""
    if row["level"] == "item":
        return (1, [], int(row["code"].lstrip("q") or 0) if row["code"][1:].isdigit() else 0)
    if nodes[row["code"]].level == IndexLevel.OVERALL:
        return (0, [10**6], 0)
    return (0, code_key(row["code"]), 0)


def percent(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.2f}".replace(".", ",") + "%"


@dataclass(frozen=True)
class Trend:
    """Index results of the campaigns run with one questionnaire, oldest first."""

    campaigns: list[dict[str, Any]]
    rows: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"campaigns": self.campaigns, "rows": self.rows}


def trend(campaign: Campaign, *, lang: str = "vi", level: float = 0.95) -> Trend:
    """Every index node's whole-sample estimate (probability sample) in each campaign with
    ``campaign``'s questionnaire that started no later than it, oldest first.

    ``change`` is the last campaign minus the one before, with a t interval on the smaller of
    the two designs' df; two campaigns are independent samples, so the covariance is 0.
    ``previous`` is the published result the plan lists for the year before, a fixed number;
    ``versus_previous`` is the last campaign's estimate and CI minus it.
    """
    from sqlalchemy import select

    from surveyapp.analysis.targets import difference
    from surveyapp.extensions import db

    peers = db.session.scalars(
        select(Campaign)
        .where(
            Campaign.questionnaire_id == campaign.questionnaire_id,
            Campaign.starts <= campaign.starts,
        )
        .order_by(Campaign.starts, Campaign.id)
    ).all()
    built = [build(c, sample="probability", lang=lang) for c in peers]
    columns = [
        {"id": c.id, "name": c.name, "starts": c.starts.isoformat(), "n": r.design["n"]}
        for c, r in zip(peers, built, strict=True)
    ]
    nodes = {n.code: n for n in campaign.questionnaire.index_nodes}
    targets = {t.index_node.code: t for t in campaign.targets}
    codes = sorted(nodes, key=lambda code: _row_order({"code": code, "level": ""}, nodes))
    rows = []
    for code in codes:
        points: list[dict[str, Any] | None] = []
        for report in built:
            found = next((r for r in report.rows() if r["code"] == code), None)
            points.append(
                None
                if found is None
                else {k: found[k] for k in ("estimate", "se", "ci_low", "ci_high", "n", "df")}
            )
        change = None
        last = points[-1]
        before = points[-2] if len(points) > 1 else None
        if last is not None and before is not None and _finite(last, before):
            diff = difference(
                last["estimate"],
                last["se"],
                before["estimate"],
                before["se"],
                0.0,
                level,
                min(last["df"], before["df"]),
            )
            change = diff.to_dict() | {
                "direction": "up" if diff.ci_low > 0 else "down" if diff.ci_high < 0 else "same"
            }
        node = nodes[code]
        target = targets.get(code)
        previous = (
            float(target.previous_pct) / 100
            if target is not None and target.previous_pct is not None
            else None
        )
        versus_previous = None
        if previous is not None and last is not None and _finite(last):
            # The published figure has no standard error here: it is held fixed.
            low, high = last["ci_low"] - previous, last["ci_high"] - previous
            versus_previous = {
                "estimate": last["estimate"] - previous,
                "ci_low": low,
                "ci_high": high,
                "direction": "up" if low > 0 else "down" if high < 0 else "same",
            }
        rows.append(
            {
                "code": code,
                "level": node.level.value,
                "name": node.name.get(lang) or node.name["vi"],
                "previous": previous,
                "versus_previous": versus_previous,
                "target": float(target.target_pct) / 100 if target is not None else None,
                "points": points,
                "change": change,
            }
        )
    return Trend(columns, rows)


def _finite(*points: dict[str, Any]) -> bool:
    return all(
        p[k] is not None and math.isfinite(p[k]) for p in points for k in ("estimate", "se", "df")
    )
