"""Campaign reports: SIPAS estimates per item and index node against the targets.

The probability sample (paper forms, and web answers given with a paper form's invitation)
is analysed with its design: strata, two stages of clusters with their population sizes, and
weights built in three steps (see :class:`Weighting`):

1. the design weight of the household's form;
2. × the non-response factor of its weighting class, the village: Σ weight of the village's
   selected households over Σ weight of those that answered (the export's ``nr_factor``), so
   respondents carry the weight of the selected households that did not answer. A response
   with no paper form to class it (e.g. the demo's simulated responses) keeps factor 1;
3. calibrated to the campaign's population margins when an admin has imported them
   (sex × age group, urban/rural, district): post-stratified to one, raked to several.
   Variances use the calibration residuals; the non-response factors are treated as fixed.

A respondent who did not give a margin's answer (sex, age group, area) or has no district is
neither dropped nor imputed: she is calibrated in an ``unknown`` category of that margin whose
population total is the weighted share of such respondents (after steps 1–2) times the
population, the known categories sharing the rest in the population's proportions. This keeps
her answers, leaves her weight unadjusted on that margin only, and assumes that whether the
answer is missing does not depend on the category (the weighting-class assumption again). A
margin the sample cannot meet (a category with a population but no respondent, or a sampled
category the margins lack) is left out, and the report says so.

Ratings from desks (QR code, counter tablet) are not a probability sample: they are weighted to
each desk's transaction volume and always reported apart, labelled as such. The two are never
pooled.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, overload

import numpy as np
import pandas as pd
from flask_babel import gettext as _

from surveyapp.analysis import (
    Analysis,
    AnalysisError,
    DomainComparison,
    Spec,
    analyze,
    compare_domains,
)
from surveyapp.analysis.cells_api import analyze_cell_frame
from surveyapp.analysis.compare import DomainDifferences, domain_differences
from surveyapp.analysis.targets import INCONCLUSIVE as INCONCLUSIVE
from surveyapp.analysis.targets import MET as MET
from surveyapp.analysis.targets import N_TO_DECIDE_REASONS as N_TO_DECIDE_REASONS
from surveyapp.analysis.targets import NOT_MET as NOT_MET
from surveyapp.analysis.targets import VERDICT_REASONS as VERDICT_REASONS
from surveyapp.analysis.targets import VERDICTS as VERDICTS
from surveyapp.analysis.targets import rank_intervals as analysis_rank_intervals
from surveyapp.data import queries
from surveyapp.data.queries import Filters
from surveyapp.models.campaigns import Campaign
from surveyapp.models.margins import MarginVariable
from surveyapp.models.questionnaires import AggregationRule, IndexLevel, Question, QuestionType
from surveyapp.services import ServiceError, abuse, campaigns, margins, report_cache
from surveyapp.services.campaigns import code_key
from surveyapp.services.instruments import analysis_spec

BY_COLUMNS = {"district": "district", "desk": "desk", "channel": "channel"}
# Keyed by the analysis package's labels, the only place verdict labels are defined
# (re-exported here for the views and the API schema).
VERDICT_VI = {MET: "Đạt", NOT_MET: "Không đạt", INCONCLUSIVE: "Chưa đủ căn cứ"}
# Why a verdict is inconclusive (analysis.targets.VERDICT_REASONS codes), for the report files.
VERDICT_REASON_VI = {
    "se_zero": "sai số chuẩn bằng 0",
    "small_sample": "mẫu nhỏ (dưới 30 phiếu hoặc CV trên 20%)",
    "ci_contains_target": "khoảng tin cậy chứa chỉ tiêu",
    "no_estimate": "không có ước lượng",
}


Sample = queries.Sample
SAMPLES = queries.SAMPLES
# The samples as the data adapter's queries take them (channels and whether a design is needed).
PROBABILITY = SAMPLES["probability"]
CONVENIENCE = SAMPLES["convenience"]
INVITED = SAMPLES["invited"]


@dataclass(frozen=True)
class Report:
    campaign: dict[str, Any]
    sample: str
    design: dict[str, Any]
    estimates: list[dict[str, Any]]
    by: str | None = None
    analyze_args: list[str] = field(default_factory=list)
    # When it was computed, from which inputs, and whether newer responses exist (a stale
    # snapshot the dashboard shows while the fresh report is computed).
    computed_at: datetime | None = None
    inputs: str = ""
    stale: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "sample": self.sample,
            # Convenience and invited samples carry no design: no verdicts, and their
            # intervals hold only if the respondents were a random sample.
            "descriptive": self.descriptive,
            "by": self.by,
            "design": self.design,
            "estimates": self.estimates,
            "computed_at": self.computed_at.isoformat() if self.computed_at else None,
            "stale": self.stale,
        }

    @property
    def descriptive(self) -> bool:
        return self.sample != "probability"

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


def _spec(
    campaign: Campaign,
    by: str | None,
    ci: str,
    filters: Filters | None = None,
    sample: Sample = SAMPLES["probability"],
) -> Spec:
    """What a report estimates. Only the probability sample is judged against the targets:
    the others carry no design, so a verdict about the province would claim what they
    cannot know (DESIGN §4)."""
    qn = campaign.questionnaire
    satisfied = tuple(int(v) for v in qn.satisfied_values)
    items = [q.code for q in qn.questions if q.type == QuestionType.LIKERT5]
    indices = analysis_spec(qn)
    targets = (
        tuple((t.index_node.code, _fraction(t.target_pct)) for t in campaign.targets)
        if sample.probability
        else ()
    )
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
    campaign: Campaign,
    sample: Sample,
    by: str | None = None,
    ci: str = "logit",
    weighting: Weighting | None = None,
    fpc: tuple[str, ...] | None = None,
) -> list[str]:
    """The ``surveyapp analyze`` arguments that reproduce a report from ``export-responses``.

    The probability sample reads the non-response adjusted weight ``weight_nr`` and gets one
    ``--margin`` per calibration margin (totals printed exactly, so the CLI rakes to the very
    numbers the report used); ``weighting`` and the ``fpc`` columns are looked up when not
    given.
    """
    spec = _spec(campaign, by, ci, sample=sample)
    if sample.probability:
        weighting = weighting or weighting_for(campaign, sample)
        args: list[str] = ["--weight", "weight_nr"]
        args += ["--strata", "stratum", "--cluster", "psu,ssu"]
        if fpc is None:
            fpc = _fpc_columns(*queries.population_sizes(campaign, sample))
        if fpc:
            args += ["--fpc", ",".join(fpc)]
        for column, cats in weighting.margins:
            totals = ",".join(f"{cat}={total!r}" for cat, total in cats)
            args += ["--margin", f"{column}:{totals}"]
    elif sample.key == "convenience":
        args = ["--weight", "weight", "--strata", "desk"]
    else:
        # No design: every answer counts once, as its own unit.
        args = []
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
    frame = _frame(campaign, sample)
    if _filtered(filters):
        assert filters is not None
        inside = filters.mask(frame)
        frame[queries.SUBSET] = queries.domain_labels(["in"] * len(frame), inside)
        for column in BY_COLUMNS.values():
            frame[column] = queries.domain_labels(list(frame[column]), inside)
    return frame


def _frame(campaign: Campaign, sample: Sample) -> pd.DataFrame:
    qn = campaign.questionnaire
    questions = [q for q in qn.questions if q.type in (QuestionType.LIKERT5, QuestionType.SINGLE)]
    frame = queries.response_frame(campaign, sample, questions)
    if sample.key == "invited":
        frame["weight"] = 1.0
        return frame
    if not sample.probability:
        frame["weight"] = queries.volume_weights(frame, queries.desk_volumes(campaign))
        frame["desk"] = frame["desk"].fillna("?")
        # The stratum, apart from the ``desk`` breakdown column a filter relabels.
        frame["desk_id"] = frame["service_point_id"].fillna(-1)
        return frame
    classes = queries.response_classes(campaign)
    frame = frame.merge(classes, on="response_id", how="left")
    frame["unit_id"] = frame["unit_id"].astype("Int64").fillna(frame["commune_id"].astype("Int64"))
    factors = queries.nonresponse_factors(campaign)
    frame["weight_nr"] = frame["weight"] * frame["nr_class"].map(factors).fillna(1.0)
    return _with_margin_columns(frame)


@dataclass(frozen=True)
class Weighting:
    """How the probability sample is weighted (see the module docstring).

    ``margins`` are the calibration margins as ``Spec.margins`` takes them: (column of the
    cell table or export, ((category, population total), ...)), ``unknown`` included where
    some respondents lack the variable.
    """

    nonresponse: bool = False
    margins: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()
    variables: tuple[MarginVariable, ...] = ()
    unknown: tuple[tuple[MarginVariable, float], ...] = ()  # share of the weight
    skipped: tuple[tuple[MarginVariable, str], ...] = ()  # margin left out, and why

    def steps(self) -> list[str]:
        out = ["design_weight"]
        if self.nonresponse:
            out.append("nonresponse")
        if self.variables:
            out.append("poststratification" if len(self.variables) == 1 else "raking")
        return out

    def describe(self) -> str:
        """The adjustments in words (current language), as the report prints them."""
        names = margins.variable_names()
        parts = [_("Design weight")]
        if self.nonresponse:
            parts.append(_("non-response adjustment (weighting classes: villages)"))
        if self.variables:
            listed = ", ".join(names[v] for v in self.variables)
            if len(self.variables) == 1:
                parts.append(_("post-stratification to the margin %(names)s", names=listed))
            else:
                parts.append(_("raking to the margins %(names)s", names=listed))
        text = " × ".join(parts)
        for variable, share in self.unknown:
            text += ". " + _(
                "%(share)s of the weight has no %(name)s and is calibrated in its own category",
                share=percent(share),
                name=names[variable],
            )
        for variable, reason in self.skipped:
            text += ". " + _(
                "Margin %(name)s not used: %(reason)s", name=names[variable], reason=reason
            )
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "weighting": self.describe(),
            "adjustments": self.steps(),
            "margins": [v.value for v in self.variables],
            "margins_unknown_share": {v.value: share for v, share in self.unknown},
            "margins_skipped": {v.value: reason for v, reason in self.skipped},
        }


def _with_margin_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the calibration category columns (``cal_sex_age``, ``cal_area``, ``cal_district``)
    to a frame of responses or cells with the answers ``sex``, ``age_group``, ``area`` (where
    asked for) and ``unit_id``; labels are those of :func:`margins.cell_of`."""

    def codes(name: str) -> pd.Series:
        if name not in frame.columns:
            return pd.Series(pd.NA, index=frame.index, dtype="string")
        values = pd.to_numeric(frame[name], errors="coerce").astype("Float64")
        return values.astype("Int64").astype("string")

    from surveyapp.services.exports import district_codes

    sex_age = codes("sex") + "-" + codes("age_group")
    units = pd.to_numeric(frame["unit_id"], errors="coerce").astype("Int64")
    added = {
        margins.COLUMNS[MarginVariable.SEX_AGE]: sex_age.fillna(margins.UNKNOWN).astype(str),
        margins.COLUMNS[MarginVariable.AREA]: codes("area").fillna(margins.UNKNOWN).astype(str),
        margins.COLUMNS[MarginVariable.DISTRICT]: (
            units.map(district_codes()).astype("string").fillna(margins.UNKNOWN).astype(str)
        ),
    }
    # One concat: inserting columns one by one fragments a wide cell table.
    return pd.concat([frame, pd.DataFrame(added, index=frame.index)], axis=1)


def _weighting(
    frame: pd.DataFrame,
    weight: str,
    stored: Sequence[tuple[MarginVariable, tuple[tuple[str, float], ...]]],
    nonresponse: bool,
) -> Weighting:
    """The calibration margins the sample can meet, with ``unknown`` categories (see the module
    docstring), from the non-response adjusted weights of a response or cell frame."""
    total = float(frame[weight].sum())
    used: list[tuple[str, tuple[tuple[str, float], ...]]] = []
    variables: list[MarginVariable] = []
    unknown: list[tuple[MarginVariable, float]] = []
    skipped: list[tuple[MarginVariable, str]] = []
    for variable, cats in stored:
        column = margins.COLUMNS[variable]
        have = frame.groupby(column)[weight].sum()
        have = have[have > 0]
        known = {c for c, _n in cats}
        strange = [str(c) for c in have.index if c not in known and c != margins.UNKNOWN]
        if strange:
            skipped.append(
                (
                    variable,
                    _(
                        "respondents in %(cats)s, which the margins do not list",
                        cats=", ".join(sorted(strange)),
                    ),
                )
            )
            continue
        empty = [c for c, n in cats if n > 0 and c not in have.index]
        if empty:
            skipped.append(
                (
                    variable,
                    _(
                        "no respondent in %(cats)s; merge categories in the margins file",
                        cats=", ".join(empty),
                    ),
                )
            )
            continue
        population = float(sum(n for _c, n in cats))
        share = float(have.get(margins.UNKNOWN, 0.0)) / total if total > 0 else 0.0
        if share > 0:
            targets = tuple((c, n * (1 - share)) for c, n in cats)
            targets += ((margins.UNKNOWN, population * share),)
            unknown.append((variable, share))
        else:
            targets = tuple((c, float(n)) for c, n in cats)
        used.append((column, targets))
        variables.append(variable)
    return Weighting(nonresponse, tuple(used), tuple(variables), tuple(unknown), tuple(skipped))


def _margin_questions(
    campaign: Campaign, stored: Sequence[tuple[MarginVariable, Any]]
) -> list[Question]:
    wanted = {code for variable, _c in stored for code in margins.ANSWERS.get(variable, ())}
    return [q for q in campaign.questionnaire.questions if q.code in wanted]


def _probability_cells(
    campaign: Campaign,
    sample: Sample,
    questions: list[Question],
    keys: dict[str, Any],
    by: str | None = None,
    filters: Filters | None = None,
) -> tuple[pd.DataFrame, Weighting]:
    """The probability sample's cell table with non-response adjusted weight sums and the
    calibration categories as key columns, and the weighting that goes with it."""
    stored = margins.for_analysis(campaign)
    with_forms = queries.has_forms(campaign)
    if not stored and not with_forms:
        cells = queries.cell_frame(campaign, sample, questions, by=by, keys=keys, filters=filters)
        return cells, Weighting()
    extra, joins = queries.calibration_keys(campaign)
    cells = queries.cell_frame(
        campaign,
        sample,
        questions,
        by=by,
        keys={**keys, **extra},
        filters=filters,
        joins=joins,
        values=[q.code for q in _margin_questions(campaign, stored)],
        unweighted=len(stored) > 1,
    )
    factors = queries.nonresponse_factors(campaign) if with_forms else {}
    factor = cells["nr_class"].map(factors)
    scale = factor.fillna(1.0).to_numpy(dtype=np.float64)
    weighted = [c for c in cells.columns if c.endswith(("__wy", "__wr")) or c == "sw"]
    cells[weighted] = cells[weighted].to_numpy(dtype=np.float64) * scale[:, None]
    cells = _with_margin_columns(cells)
    nonresponse = bool(factor.notna().any())
    return cells, _weighting(cells, "sw", stored, nonresponse)


def weighting_for(campaign: Campaign, sample: Sample) -> Weighting:
    """The weighting of ``sample`` (no adjustment for the convenience sample)."""
    if not sample.probability:
        return Weighting()
    return _probability_cells(campaign, sample, [], {})[1]


def _fpc_columns(stage1: Any, stage2: Any) -> tuple[str, ...]:
    """The export's fpc columns that hold population sizes: none when the first sampled stage
    was drawn with PPS, only ``fpc1`` when the second was."""
    if not stage1:
        return ()
    return ("fpc1", "fpc2") if stage2 else ("fpc1",)


def run_cells(
    campaign: Campaign,
    sample: Sample,
    by: str | None = None,
    ci: str = "logit",
    filters: Filters | None = None,
) -> Analysis:
    """The same estimates as :func:`run`, from cell sums computed in the database."""
    cells, weighting, design = _cells(campaign, sample, by, filters)
    spec = dataclasses.replace(_spec(campaign, by, ci, filters, sample), margins=weighting.margins)
    return analyze_cell_frame(cells, spec, **design)


def _cells(
    campaign: Campaign, sample: Sample, by: str | None, filters: Filters | None
) -> tuple[pd.DataFrame, Weighting, dict[str, Any]]:
    """The sample's cell table (one SQL pass), its weighting and the design arguments of
    :func:`analyze_cell_frame` that go with it."""
    from surveyapp.models.responses import Response

    qn = campaign.questionnaire
    likert = [q for q in qn.questions if q.type == QuestionType.LIKERT5]
    if sample.probability:
        cells, weighting = _probability_cells(
            campaign,
            sample,
            likert,
            {"stratum": Response.stratum, "psu": Response.psu, "ssu": Response.ssu},
            by,
            filters,
        )
        _require_domains(cells, by)
        stage1, stage2 = queries.population_sizes(campaign, sample)
        design: dict[str, Any] = {
            "strata": "stratum",
            "psu": "psu",
            "ssu": "ssu",
            # Stages drawn with PPS carry no population size (see services.sampling).
            "stratum_popsize": stage1 or None,
            "psu_popsize": (stage2 or None) if stage1 else None,
            "lonely_psu": "adjust",
        }
        return cells, weighting, design
    if sample.key == "invited":
        cells = queries.cell_frame(
            campaign, sample, likert, by=by, keys={"psu": Response.id}, filters=filters
        )
        _require_domains(cells, by)
        return cells, Weighting(), {"strata": None, "psu": "psu", "lonely_psu": "adjust"}
    cells = queries.cell_frame(
        campaign,
        sample,
        likert,
        by=by,
        keys={"desk_id": Response.service_point_id, "psu": Response.id},
        filters=filters,
    )
    _require_domains(cells, by)
    # Every rating of a desk has the same weight, so the database sums unweighted counts and
    # the desk's weight multiplies them here.
    volumes = queries.desk_volumes(campaign)
    per_desk = cells.groupby("desk_id")["n"].transform("sum")
    weight = (cells["desk_id"].map(volumes) / per_desk).fillna(queries.NO_VOLUME_WEIGHT)
    for col in cells.columns:
        if col.endswith(("__wy", "__wr")) or col == "sw":
            cells[col] = cells[col] * weight
    return cells, Weighting(), {"strata": "desk_id", "psu": "psu", "lonely_psu": "adjust"}


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
    filters: Filters | None = None,
) -> Analysis:
    spec = _spec(campaign, by, ci, filters, sample)
    if sample.probability:
        stored = margins.for_analysis(campaign)
        nonresponse = bool(
            frame["nr_class"].map(queries.nonresponse_factors(campaign)).notna().any()
        )
        weighting = _weighting(frame, "weight_nr", stored, nonresponse)
        spec = dataclasses.replace(spec, margins=weighting.margins)
    return analyze(frame, spec, **_row_design(frame, sample))


def _row_design(frame: pd.DataFrame, sample: Sample) -> dict[str, Any]:
    """The design arguments of :func:`analyze` for a :func:`frame_for` frame: the paper
    sample's strata, two stages and population sizes with the non-response adjusted weight;
    the desk ratings stratified by desk with their volume weights."""
    if sample.key == "invited":
        return {"weight": "weight", "lonely_psu": "adjust"}
    if not sample.probability:
        return {"weight": "weight", "strata": "desk_id", "lonely_psu": "adjust"}
    return {
        "weight": "weight_nr",
        "strata": "stratum",
        "cluster": ("psu", "ssu"),
        "fpc": _fpc_columns(frame["fpc1"].notna().any(), frame["fpc2"].notna().any()),
        "lonely_psu": "adjust",
    }


def build(
    campaign: Campaign,
    *,
    sample: str = "probability",
    by: str | None = None,
    ci: str = "logit",
    lang: str = "vi",
    filters: Filters | None = None,
    stale_ok: bool = False,
) -> Report:
    """Estimate every item and index node of ``campaign`` (and per ``by`` level).

    With ``filters`` the whole-sample rows are those of the filter's domain and the ``by``
    levels are crossed with it; the design (and its calibration) stays the full sample's.

    Kept until the campaign's responses, targets, margins, form fates or desk volumes change
    (:mod:`surveyapp.services.report_cache`): the dashboard, its downloads and the API ask for
    the same reports again and again. With ``stale_ok`` the latest report may come at once,
    marked ``stale``, while the fresh one is computed in the background.
    """
    if by is not None and by not in BY_COLUMNS:
        raise ServiceError(f"--by: use one of {', '.join(BY_COLUMNS)}")
    if filters is not None and filters.empty:
        filters = None  # the same report as without: one cache entry (page and downloads)
    return report_cache.cached(
        campaign,
        ("report", sample, by, ci, lang, filters),
        lambda c: _build(c, sample=sample, by=by, ci=ci, lang=lang, filters=filters),
        stamp=_stamp,
        stale_ok=stale_ok,
    )


# Sheet and section titles of the report files (Vietnamese, as the provincial plans).
FILE_TITLES = {
    "probability": "Mẫu xác suất",
    "convenience": "QR – phi xác suất",
    "invited": "Mẫu mời (mã độc lập)",
}


def has_answers(campaign: Campaign, sample: str) -> bool:
    return campaigns.final_counts_by_channel(campaign, SAMPLES[sample]) > 0


def file_sections(
    campaign: Campaign,
    *,
    keys: Sequence[str] = ("probability", "convenience"),
    by: dict[str, str | None] | None = None,
    ci: str = "logit",
    stale_ok: bool = False,
    with_invited: bool = True,
) -> list[tuple[str, Report]]:
    """The (title, report) sections of a report file, one per sample, never pooled.

    The invited sample (standalone invitation codes) joins the file whenever the campaign
    has such answers, without a breakdown: its answers have no district or desk.
    """
    by = by or {}
    wanted = list(keys)
    if with_invited and "invited" not in wanted and has_answers(campaign, "invited"):
        wanted.append("invited")
    return [
        (
            FILE_TITLES[key],
            build(
                campaign,
                sample=key,
                by=by.get(key) if key != "invited" else None,
                ci=ci,
                stale_ok=stale_ok,
            ),
        )
        for key in wanted
    ]


def _stamp(report: Report, made: report_cache.Stamp) -> Report:
    return dataclasses.replace(
        report, computed_at=made.computed_at, inputs=made.fingerprint, stale=made.stale
    )


def _build(
    campaign: Campaign,
    *,
    sample: str,
    by: str | None,
    ci: str,
    lang: str,
    filters: Filters | None,
) -> Report:
    chosen = SAMPLES[sample]
    summary = {
        "id": campaign.id,
        "name": campaign.name,
        "questionnaire": campaign.questionnaire.label,
        "starts": campaign.starts.isoformat(),
        "ends": campaign.ends.isoformat(),
        # Burst-flagged responses left out of these estimates until an analyst releases them.
        "held_out": abuse.held_out(campaign, chosen.channels),
    }
    if not campaigns.final_counts_by_channel(campaign, chosen):
        return Report(
            summary,
            sample,
            {"n": 0, "strata": 0, "psu": 0, "df": 0, **_weighting_dict(chosen, Weighting())},
            [],
            by,
            analyze_args(campaign, chosen, by, ci, Weighting()),
        )
    try:
        cells, weighting, cell_design = _cells(campaign, chosen, by, filters)
        if _filtered(filters):
            # One cell table serves both: the filter's whole domain, then its ``by`` levels.
            specs = [_spec(campaign, None, ci, filters, chosen)]
            if by:
                outside = cells[BY_COLUMNS[by]].to_numpy() == queries.OUTSIDE
                subset = np.where(outside, queries.OUTSIDE, "in")
                # One concat: an insert into the wide cell table would fragment it.
                cells = pd.concat(
                    [cells, pd.DataFrame({queries.SUBSET: subset}, index=cells.index)], axis=1
                )
                specs.append(_spec(campaign, by, ci, filters, chosen))
        else:
            specs = [_spec(campaign, by, ci, sample=chosen)]
        results = [
            analyze_cell_frame(
                cells, dataclasses.replace(spec, margins=weighting.margins), **cell_design
            )
            for spec in specs
        ]
        result = results[0]
    except AnalysisError as exc:
        raise ServiceError(str(exc)) from exc
    nodes = {n.code: n for n in campaign.questionnaire.index_nodes}
    questions = {q.code: q for q in campaign.questionnaire.questions}
    targets = {t.index_node.code: t for t in campaign.targets}
    rows = []
    for est in (e for r in results for e in r.estimates):
        row = est.to_dict(extended=True)
        if _domain_value(row) == queries.OUTSIDE:
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
        row["previous"] = _fraction(target.previous_pct if target else None)
        row["target_rank"] = target.target_rank if target else None
        if node is not None and node.rule == AggregationRule.DESIGNATED:
            row.update(_same_estimate(node.part_codes[0], row["target"], targets, lang))
        rows.append(row)
    rows.sort(key=lambda r: (_domain_sort(r), _row_order(r, nodes)))
    design = {**result.design.to_dict(), **_weighting_dict(chosen, weighting)}
    if chosen.key == "convenience":
        design["desks_without_volume"] = queries.desks_without_volume(campaign, chosen)
    if _filtered(filters):
        assert filters is not None
        design["filters"] = filters.to_dict()
    # The population sizes the design used say which fpc columns the export's command needs.
    fpc = _fpc_columns(cell_design.get("stratum_popsize"), cell_design.get("psu_popsize"))
    return Report(
        summary, sample, design, rows, by, analyze_args(campaign, chosen, by, ci, weighting, fpc)
    )


def _same_estimate(
    part: str, own_target: float | None, targets: dict[str, Any], lang: str
) -> dict[str, Any]:
    """A designated node (field 2 = criterion 2.6) shows its part's estimate; when the two
    carry different targets the same number is judged twice, so the row says so."""
    other = targets.get(part)
    part_target = float(other.target_pct) / 100 if other is not None else None
    out: dict[str, Any] = {"same_estimate_as": part, "note": None}
    if own_target is None or part_target is None or own_target == part_target:
        return out
    if lang == "en":
        own, theirs = f"{100 * own_target:.2f}%", f"{100 * part_target:.2f}%"
        note = (
            f"Same estimate as {part} (target {theirs}); judged here against this row's own "
            f"target, {own}."
        )
    else:
        own, theirs = percent(own_target), percent(part_target)
        note = (
            f"Cùng ước lượng với {part} (chỉ tiêu {theirs}); ở đây so với chỉ tiêu riêng "
            f"của dòng này, {own}."
        )
    out["note"] = note
    return out


def _weighting_dict(sample: Sample, weighting: Weighting) -> dict[str, Any]:
    if sample.probability:
        return weighting.to_dict()
    if sample.key == "invited":
        return {
            "weighting": _(
                "Answers to standalone invitation codes: no sampling design, every answer "
                "counts once; descriptive only"
            ),
            "adjustments": [],
            "margins": [],
            "margins_unknown_share": {},
            "margins_skipped": {},
        }
    return {
        "weighting": _("Weighted to each desk's transaction volume; not a probability sample"),
        "adjustments": ["desk_volume"],
        "margins": [],
        "margins_unknown_share": {},
        "margins_skipped": {},
    }


# Above this many responses the rows' pass for the exact domain covariance costs seconds on
# every change of the campaign; the ranking then treats the levels as independent (flagged).
EXACT_RANK_ROWS = 20_000


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
    return report_cache.cached(
        campaign,
        ("ranks", report.sample, report.by, variable, filters, level),
        lambda c: _rank_intervals(c, report, variable, filters, level),
        # Keyed by the report's own inputs: a stale report shown while the fresh one is
        # computed keeps its ranking (not recomputed for every new response). Cheap to
        # compute, so kept in the process only.
        inputs=report.inputs,
        persist=False,
    )


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
    labels = [_domain_value(r) for r in rows]
    estimates = np.array([r["estimate"] for r in rows])
    sample = SAMPLES[report.sample]
    from surveyapp.models.responses import Response

    stratum = Response.stratum if sample.probability else Response.service_point_id
    cov = np.diag(np.array([r["se"] for r in rows]) ** 2)
    exact = queries.domains_nest_in_strata(campaign, sample, stratum, report.by, filters)
    small = campaigns.final_counts_by_channel(campaign, sample) <= EXACT_RANK_ROWS
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
            spec = _spec(campaign, report.by, "logit", filters, sample)
            comparison = compare_domains(frame, spec, variable, **_row_design(frame, sample))
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
    codes = sorted(nodes, key=lambda code: _row_order({"code": code, "level": ""}, nodes))
    codes = [c for c in codes if nodes[c].level == IndexLevel.OVERALL] + [
        c for c in codes if nodes[c].level != IndexLevel.OVERALL
    ]
    return [(c, nodes[c].name.get(lang) or nodes[c].name["vi"]) for c in codes]


def differences(
    campaign: Campaign,
    *,
    by: str = "district",
    variable: str = "overall",
    filters: Filters | None = None,
    level: float = 0.95,
) -> DomainDifferences:
    """Every pair of ``by`` levels of the probability sample: the difference of their
    ``variable`` estimates with a t interval on the design df and a p-value, from the joint
    covariance of the calibrated estimates (:func:`surveyapp.analysis.compare.domain_differences`).

    Only the probability sample: the other two have no design to give such intervals.
    """
    if by not in BY_COLUMNS:
        raise ServiceError(f"by: use one of {', '.join(BY_COLUMNS)}")
    if filters is not None and filters.empty:
        filters = None
    return report_cache.cached(
        campaign,
        ("differences", by, variable, filters, level),
        lambda c: _differences(c, by, variable, filters, level),
        # Cheap next to the report; kept in the process only.
        persist=False,
    )


def _differences(
    campaign: Campaign, by: str, variable: str, filters: Filters | None, level: float
) -> DomainDifferences:
    sample = SAMPLES["probability"]
    spec = _spec(campaign, by, "logit", filters, sample)
    if variable not in {n for n, _p in spec.indices} | {c for c, _v in spec.props}:
        raise ServiceError(f"variable: no index or item named {variable!r}")
    if not campaigns.final_counts_by_channel(campaign, sample):
        raise ServiceError(_("No responses yet."))
    try:
        cells, weighting, design = _cells(campaign, sample, by, filters)
        spec = dataclasses.replace(spec, margins=weighting.margins, level=level)
        return domain_differences(cells, spec, variable, exclude=(queries.OUTSIDE,), **design)
    except AnalysisError as exc:
        raise ServiceError(str(exc)) from exc


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
    """A share as people read it, in the current language (surveyapp.formatting)."""
    from surveyapp.formatting import share as shown

    return shown(value)


@dataclass(frozen=True)
class Trend:
    """Index results of the campaigns run with one questionnaire, oldest first."""

    campaigns: list[dict[str, Any]]
    rows: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"campaigns": self.campaigns, "rows": self.rows}


def earlier_campaigns(campaign: Campaign) -> list[Campaign]:
    """Every campaign run with ``campaign``'s questionnaire that started no later than it,
    oldest first (``campaign`` included): what a trend or a forecast compares."""
    from sqlalchemy import select

    from surveyapp.extensions import db

    return list(
        db.session.scalars(
            select(Campaign)
            .where(
                Campaign.questionnaire_id == campaign.questionnaire_id,
                Campaign.starts <= campaign.starts,
            )
            .order_by(Campaign.starts, Campaign.id)
        )
    )


def trend(campaign: Campaign, *, lang: str = "vi", level: float = 0.95) -> Trend:
    """Every index node's whole-sample estimate (probability sample) in each campaign with
    ``campaign``'s questionnaire that started no later than it, oldest first.

    ``change`` is the last campaign minus the one before, with a t interval on the smaller of
    the two designs' df; two campaigns are independent samples, so the covariance is 0.
    ``previous`` is the published result the plan lists for the year before, a fixed number;
    ``versus_previous`` is the last campaign's estimate and CI minus it.
    """

    from surveyapp.analysis.targets import difference

    peers = earlier_campaigns(campaign)
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
            change = diff.to_dict() | {"direction": _direction(diff.ci_low, diff.ci_high)}
        node = nodes[code]
        target = targets.get(code)
        previous = _fraction(target.previous_pct if target is not None else None)
        versus_previous = None
        if previous is not None and last is not None and _finite(last):
            # The published figure has no standard error here: it is held fixed.
            low, high = last["ci_low"] - previous, last["ci_high"] - previous
            versus_previous = {
                "estimate": last["estimate"] - previous,
                "ci_low": low,
                "ci_high": high,
                "direction": _direction(low, high),
            }
        rows.append(
            {
                "code": code,
                "level": node.level.value,
                "name": node.name.get(lang) or node.name["vi"],
                "previous": previous,
                "versus_previous": versus_previous,
                "target": _fraction(target.target_pct if target is not None else None),
                "points": points,
                "change": change,
            }
        )
    return Trend(columns, rows)


@overload
def _fraction(pct: Decimal) -> float: ...
@overload
def _fraction(pct: Decimal | None) -> float | None: ...
def _fraction(pct: Decimal | None) -> float | None:
    """A stored percentage (Decimal 79.21) as the fraction 0.7921, divided in decimal so
    the float is the nearest to 0.7921 and not 79.21 / 100 = 0.7920999999999999."""
    return None if pct is None else float(pct / 100)


def _direction(ci_low: float, ci_high: float) -> str:
    """A change is "up" or "down" only when its interval excludes zero."""
    return "up" if ci_low > 0 else "down" if ci_high < 0 else "same"


def _finite(*points: dict[str, Any]) -> bool:
    """Points a change can be computed from: a design without degrees of freedom (one
    responding PSU per stratum) has an estimate but no interval, and gives no change."""
    return all(
        p[k] is not None and math.isfinite(p[k])
        for p in points
        for k in ("estimate", "se", "df", "ci_low", "ci_high")
    ) and all(p["df"] > 0 for p in points)
