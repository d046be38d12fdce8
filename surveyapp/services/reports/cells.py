"""The inputs of a report: the cell table one SQL pass gives (or the rows), the design
that goes with it, and the ``surveyapp analyze`` arguments that reproduce it from
``export-responses``."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from surveyapp.analysis import (
    Analysis,
    analyze,
)
from surveyapp.analysis.cells_api import (
    analyze_cell_frame,
    analyze_row_moments,
    compare_cell_frame,
    compare_row_moments,
)
from surveyapp.analysis.results import DomainComparison, Spec
from surveyapp.data import queries, tallies
from surveyapp.data.queries import Filters
from surveyapp.models.campaigns import Campaign
from surveyapp.models.questionnaires import Question, QuestionType
from surveyapp.models.responses import Response
from surveyapp.services import ServiceError, levels, margins
from surveyapp.services.reports.common import (
    Sample,
    is_filtered,
    questionnaire_for,
    spec_for,
)
from surveyapp.services.reports.weighting import (
    Weighting,
    margin_questions,
    weighting_from,
    with_margin_columns,
)


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
    spec = spec_for(campaign, by, ci, sample=sample)
    if sample.probability:
        weighting = weighting or weighting_for(campaign, sample)
        args: list[str] = ["--weight", "weight_nr"]
        args += ["--strata", "stratum", "--cluster", "psu,ssu"]
        if fpc is None:
            fpc = fpc_columns(*queries.population_sizes(campaign, sample))
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
        args += ["--by", by]
    args += ["--lonely-psu", "adjust", "--ci", ci]
    return args


def frame_for(campaign: Campaign, sample: Sample, filters: Filters | None = None) -> pd.DataFrame:
    """One row per response; with ``filters``, every breakdown column (and ``_subset``)
    labels the responses outside the filter :data:`queries.OUTSIDE`."""
    frame = _frame(campaign, sample)
    if is_filtered(filters):
        assert filters is not None
        inside = filters.mask(frame)
        frame[queries.SUBSET] = queries.domain_labels(["in"] * len(frame), inside)
        for column in ["desk", "channel", *levels.area_levels(campaign)]:
            frame[column] = queries.domain_labels(list(frame[column]), inside)
    return frame


def _frame(campaign: Campaign, sample: Sample) -> pd.DataFrame:
    qn = questionnaire_for(campaign, sample)
    questions = [q for q in qn.questions if q.type in (QuestionType.LIKERT5, QuestionType.SINGLE)]
    frame = queries.response_frame(
        campaign, sample, questions, qn, levels=levels.area_levels(campaign)
    )
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
    return with_margin_columns(frame)


def probability_cells(
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
        cells = queries.cell_frame(
            campaign,
            sample,
            questions,
            by=by,
            keys=keys,
            filters=filters,
            questionnaire=questionnaire_for(campaign, sample),
        )
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
        values=[q.code for q in margin_questions(campaign, stored)],
        unweighted=len(stored) > 1,
        questionnaire=questionnaire_for(campaign, sample),
    )
    factors = queries.nonresponse_factors(campaign) if with_forms else {}
    factor = cells["nr_class"].map(factors)
    scale = factor.fillna(1.0).to_numpy(dtype=np.float64)
    weighted = [c for c in cells.columns if c.endswith(("__wy", "__wr")) or c == "sw"]
    cells[weighted] = cells[weighted].to_numpy(dtype=np.float64) * scale[:, None]
    cells = with_margin_columns(cells)
    nonresponse = bool(factor.notna().any())
    return cells, weighting_from(cells, "sw", stored, nonresponse)


def weighting_for(campaign: Campaign, sample: Sample) -> Weighting:
    """The weighting of ``sample`` (no adjustment for the convenience sample)."""
    if not sample.probability:
        return Weighting()
    if not margins.for_analysis(campaign) and not queries.has_forms(campaign):
        # Design weights only: nothing to read (and a cell table without key columns
        # would have no rows to hold the weights).
        return Weighting()
    return probability_cells(campaign, sample, [], {})[1]


def fpc_columns(stage1: Any, stage2: Any) -> tuple[str, ...]:
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
    cells, weighting, design = cell_table(campaign, sample, by, filters)
    spec = dataclasses.replace(
        spec_for(campaign, by, ci, filters, sample), margins=weighting.margins
    )
    return analyze_table(cells, spec, design)


def cell_table(
    campaign: Campaign, sample: Sample, by: str | None, filters: Filters | None
) -> tuple[pd.DataFrame, Weighting, dict[str, Any]]:
    """The sample's cell table (one SQL pass), its weighting and the design arguments of
    :func:`analyze_cell_frame` that go with it."""
    qn = questionnaire_for(campaign, sample)
    likert = [q for q in qn.questions if q.type == QuestionType.LIKERT5]
    if sample.probability:
        cells, weighting = probability_cells(
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
    if not is_filtered(filters):
        # Ratings are tallied per desk as they arrive: the cells are the desks.
        return _tallied_table(campaign, sample, by)
    if sample.key == "invited":
        cells = queries.cell_frame(
            campaign,
            sample,
            likert,
            by=by,
            keys={"psu": Response.id},
            filters=filters,
            questionnaire=qn,
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
        questionnaire=qn,
    )
    _require_domains(cells, by)
    # Every rating of a desk has the same weight, so the database sums unweighted counts and
    # the desk's weight multiplies them here.
    weight = _desk_weights(campaign, cells)
    for col in cells.columns:
        if col.endswith(("__wy", "__wr")) or col == "sw":
            cells[col] = cells[col] * weight
    return cells, Weighting(), {"strata": "desk_id", "psu": "psu", "lonely_psu": "adjust"}


def _desk_weights(campaign: Campaign, cells: pd.DataFrame) -> np.ndarray:
    """The weight of every rating in each cell: its desk's transaction volume over the desk's
    ratings in the sample (``n`` summed per ``desk_id``); :data:`queries.NO_VOLUME_WEIGHT`
    for a desk without a volume."""
    volumes = queries.desk_volumes(campaign)
    per_desk = cells.groupby("desk_id", dropna=False)["n"].transform("sum")
    weight = (cells["desk_id"].map(volumes) / per_desk).fillna(queries.NO_VOLUME_WEIGHT)
    return weight.to_numpy(dtype=np.float64)


def _tallied_table(
    campaign: Campaign, sample: Sample, by: str | None
) -> tuple[pd.DataFrame, Weighting, dict[str, Any]]:
    """The convenience or invited sample's cell table from its running tallies: one row
    per (desk, channel, unit) with the first moments the analysis reads, weighted, and the
    sums of products (:func:`analyze_table` hands both to the analysis)."""
    got = tallies.cells(campaign, sample, questionnaire_for(campaign, sample))
    frame = got.frame
    n = frame["n"].to_numpy(dtype=np.float64)
    if sample.key == "invited":
        weight = np.ones(len(frame))
        strata: str | None = None
    else:
        weight = _desk_weights(campaign, frame)
        strata = "desk_id"
    diagonal = np.diagonal(got.products, axis1=1, axis2=2) if len(frame) else np.zeros((0, 0))
    columns: dict[str, Any] = {"n": n, "sw": n * weight, "w": weight}
    for i, code in enumerate(got.codes):
        y, r = diagonal[:, 2 * i], diagonal[:, 2 * i + 1]
        columns[f"{code}__wy"] = weight * y
        columns[f"{code}__wr"] = weight * r
        columns[f"{code}__r"] = r
    cells = pd.concat(
        [frame[["desk_id", "channel"]], pd.DataFrame(columns, index=frame.index)], axis=1
    )
    if by is not None:
        source = {"desk": frame["desk_id"], "channel": frame["channel"]}.get(by, frame["unit_id"])
        cells[by] = queries.by_labels(by, source.where(source != tallies.NONE))
        _require_domains(cells, by)
    design: dict[str, Any] = {
        "strata": strata,
        "lonely_psu": "adjust",
        "moments": (got.products, got.columns),
    }
    return cells, Weighting(), design


def analyze_table(cells: pd.DataFrame, spec: Spec, design: dict[str, Any]) -> Analysis:
    """The analysis of a :func:`cell_table`: from sums of products when it carries them."""
    if "moments" in design:
        products, columns = design["moments"]
        return analyze_row_moments(
            cells,
            products,
            columns,
            spec,
            strata=design["strata"],
            lonely_psu=design["lonely_psu"],
        )
    return analyze_cell_frame(cells, spec, **design)


def compare_table(
    cells: pd.DataFrame, spec: Spec, variable: str, design: dict[str, Any]
) -> DomainComparison:
    """The ``spec.by`` levels' estimates of ``variable`` in a :func:`cell_table` and their
    joint covariance (from the sums of products when it carries them: no rows needed)."""
    if "moments" in design:
        products, columns = design["moments"]
        return compare_row_moments(
            cells,
            products,
            columns,
            spec,
            variable,
            strata=design["strata"],
            lonely_psu=design["lonely_psu"],
        )
    return compare_cell_frame(cells, spec, variable, **design)


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
    spec = spec_for(campaign, by, ci, filters, sample)
    if sample.probability:
        stored = margins.for_analysis(campaign)
        nonresponse = bool(
            frame["nr_class"].map(queries.nonresponse_factors(campaign)).notna().any()
        )
        weighting = weighting_from(frame, "weight_nr", stored, nonresponse)
        spec = dataclasses.replace(spec, margins=weighting.margins)
    return analyze(frame, spec, **row_design(frame, sample))


def row_design(frame: pd.DataFrame, sample: Sample) -> dict[str, Any]:
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
        "fpc": fpc_columns(frame["fpc1"].notna().any(), frame["fpc2"].notna().any()),
        "lonely_psu": "adjust",
    }
