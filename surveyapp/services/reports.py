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

import pandas as pd

from surveyapp.analysis import Analysis, AnalysisError, Spec, analyze
from surveyapp.analysis.cells_api import analyze_cell_frame
from surveyapp.dashboard import queries
from surveyapp.models.campaigns import Campaign, Channel
from surveyapp.models.questionnaires import IndexLevel, QuestionType
from surveyapp.services import ServiceError, campaigns, report_cache
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


def _spec(campaign: Campaign, by: str | None, ci: str) -> Spec:
    qn = campaign.questionnaire
    satisfied = tuple(int(v) for v in qn.satisfied_values)
    items = [q.code for q in qn.questions if q.type == QuestionType.LIKERT5]
    indices = analysis_spec(qn)
    targets = tuple((t.index_node.code, float(t.target_pct) / 100) for t in campaign.targets)
    spec = Spec(
        props=tuple((code, satisfied) for code in items),
        indices=tuple((name, tuple(parts)) for name, parts in indices),
        satisfied=satisfied,
        by=BY_COLUMNS[by] if by else None,
        national=bool(by),
        ci=ci,
        targets=targets,
    )
    return spec


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


def frame_for(campaign: Campaign, sample: Sample) -> pd.DataFrame:
    qn = campaign.questionnaire
    questions = [q for q in qn.questions if q.type in (QuestionType.LIKERT5, QuestionType.SINGLE)]
    frame = queries.response_frame(campaign, sample.channels, questions)
    if not sample.probability:
        frame["weight"] = queries.volume_weights(frame, queries.desk_volumes(campaign))
        frame["desk"] = frame["desk"].fillna("?")
    return frame


def run_cells(
    campaign: Campaign, sample: Sample, by: str | None = None, ci: str = "logit"
) -> Analysis:
    """The same estimates as :func:`run`, from cell sums computed in the database."""
    from surveyapp.models.responses import Response

    spec = _spec(campaign, by, ci)
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
        )
        _require_domains(cells, by)
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
    )
    _require_domains(cells, by)
    # Every rating of a desk has the same weight, so the database sums unweighted counts and
    # the desk's weight multiplies them here.
    volumes = queries.desk_volumes(campaign)
    per_desk = cells.groupby("desk_id")["n"].transform("sum")
    weight = (cells["desk_id"].map(volumes) / per_desk).fillna(1.0)
    for col in cells.columns:
        if col.endswith(("__wy", "__wr")) or col == "sw":
            cells[col] = cells[col] * weight
    return analyze_cell_frame(cells, spec, strata="desk_id", psu="psu", lonely_psu="adjust")


def _require_domains(cells: pd.DataFrame, by: str | None) -> None:
    """A breakdown by a level no response of the sample has (paper forms have no desk) has no
    domain to estimate: say so instead of handing the analysis an empty domain list."""
    if by is not None and not cells[by].notna().any():
        raise ServiceError(f"by={by}: no response of this sample has a {by}")


def run(
    campaign: Campaign,
    frame: pd.DataFrame,
    sample: Sample,
    by: str | None = None,
    ci: str = "logit",
) -> Analysis:
    spec = _spec(campaign, by, ci)
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
    return analyze(frame, spec, weight="weight", strata="desk", lonely_psu="adjust")


def build(
    campaign: Campaign,
    *,
    sample: str = "probability",
    by: str | None = None,
    ci: str = "logit",
    lang: str = "vi",
) -> Report:
    """Estimate every item and index node of ``campaign`` (and per ``by`` level).

    Kept per process until the campaign's responses, targets or desk volumes change
    (:mod:`surveyapp.services.report_cache`): the dashboard, its downloads and the API ask
    for the same reports again and again."""
    if by is not None and by not in BY_COLUMNS:
        raise ServiceError(f"--by: use one of {', '.join(BY_COLUMNS)}")
    return report_cache.cached(
        campaign,
        ("report", sample, by, ci, lang),
        lambda: _build(campaign, sample=sample, by=by, ci=ci, lang=lang),
    )


def _build(campaign: Campaign, *, sample: str, by: str | None, ci: str, lang: str) -> Report:
    chosen = SAMPLES[sample]
    summary = {
        "id": campaign.id,
        "name": campaign.name,
        "questionnaire": campaign.questionnaire.label,
        "starts": campaign.starts.isoformat(),
        "ends": campaign.ends.isoformat(),
    }
    if not campaigns.final_counts_by_channel(campaign, chosen.channels):
        return Report(
            summary,
            sample,
            {"n": 0, "strata": 0, "psu": 0, "df": 0},
            [],
            by,
            analyze_args(campaign, chosen, by, ci),
        )
    try:
        result = run_cells(campaign, chosen, by, ci)
    except AnalysisError as exc:
        raise ServiceError(str(exc)) from exc
    nodes = {n.code: n for n in campaign.questionnaire.index_nodes}
    questions = {q.code: q for q in campaign.questionnaire.questions}
    targets = {t.index_node.code: t for t in campaign.targets}
    rows = []
    for est in result.estimates:
        row = est.to_dict(extended=True)
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
    design = result.design.to_dict()
    return Report(summary, sample, design, rows, by, analyze_args(campaign, chosen, by, ci))


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
