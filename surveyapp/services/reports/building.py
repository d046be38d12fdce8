"""Build a campaign report (and the sections of a report file) from its cell table."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from surveyapp.analysis import (
    AnalysisError,
)
from surveyapp.data import bits, queries, tallies
from surveyapp.data.queries import Filters
from surveyapp.extensions import db
from surveyapp.models.base import utcnow
from surveyapp.models.campaigns import Campaign
from surveyapp.models.questionnaires import AggregationRule
from surveyapp.services import ServiceError, abuse, campaigns, levels
from surveyapp.services.reports.cells import analyze_args, analyze_table, cell_table, fpc_columns
from surveyapp.services.reports.common import (
    SAMPLE_TITLES,
    SAMPLES,
    Inputs,
    Report,
    domain_sort,
    domain_value,
    fraction,
    is_filtered,
    percent,
    questionnaire_for,
    row_order,
    sample_targets,
    spec_for,
    vietnamese,
)
from surveyapp.services.reports.weighting import Weighting, weighting_dict


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
    levels are crossed with it; the design (and its calibration) stays the full sample's.

    Always from the data as they are: the desk ratings' cells are tallied as responses change
    (:mod:`surveyapp.data.tallies`) and the paper sample is read per household, so a report
    costs what its cells cost and nothing is kept between requests.
    """
    levels.check(campaign, by)
    if filters is not None and filters.empty:
        filters = None
    report = _build(campaign, sample=sample, by=by, ci=ci, lang=lang, filters=filters)
    return dataclasses.replace(report, computed_at=utcnow())


def fold(campaign: Campaign | None = None) -> tuple[int, int]:
    """Do now what the next report would do on its way: fold the desk tallies' journal, and
    the answers of new responses of ``campaign`` (default: every campaign) into the bit masks
    of its paper questionnaire. For a primary whose dashboards are served
    from a read replica, and after a bulk import. Returns (ratings folded, responses folded)."""
    tallied = tallies.fold()
    folded = 0
    chosen = (
        [campaign]
        if campaign is not None
        else list(db.session.scalars(select(Campaign).order_by(Campaign.id)))
    )
    for item in chosen:
        # The paper sample is read through the bits; the ratings through their tallies (a
        # filtered report of the ratings fills their bits when it is asked for).
        try:
            qn = questionnaire_for(item, SAMPLES["probability"])
        except ServiceError:
            continue  # channels that disagree: every report of the sample says so
        folded += bits.fill(item, bits.layout_for(qn))
    return tallied, folded


def has_answers(campaign: Campaign, sample: str) -> bool:
    return campaigns.has_final(campaign, SAMPLES[sample])


def file_sections(
    campaign: Campaign,
    *,
    keys: Sequence[str] = ("probability", "convenience"),
    by: dict[str, str | None] | None = None,
    ci: str = "logit",
    with_invited: bool = True,
) -> list[tuple[str, Report]]:
    """The (title, report) sections of a report file, one per sample, never pooled.

    The invited sample (standalone invitation codes) joins the file whenever the campaign
    has such answers, without a breakdown: its answers have no unit or desk.
    """
    by = by or {}
    wanted = list(keys)
    if with_invited and "invited" not in wanted and has_answers(campaign, "invited"):
        wanted.append("invited")
    titles = vietnamese(SAMPLE_TITLES)  # sheet and section titles, as the file's headers
    return [
        (
            titles[key],
            build(
                campaign,
                sample=key,
                by=by.get(key) if key != "invited" else None,
                ci=ci,
            ),
        )
        for key in wanted
    ]


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
    qn = questionnaire_for(campaign, chosen)
    summary = {
        "id": campaign.id,
        "name": campaign.name,
        "questionnaire": qn.label,
        "starts": campaign.starts.isoformat(),
        "ends": campaign.ends.isoformat(),
        # Burst-flagged responses left out of these estimates until an analyst releases them.
        "held_out": abuse.held_out(campaign, chosen.channels),
    }
    if not campaigns.has_final(campaign, chosen):
        return Report(
            summary,
            sample,
            {"n": 0, "strata": 0, "psu": 0, "df": 0, **weighting_dict(chosen, Weighting())},
            [],
            by,
            analyze_args(campaign, chosen, by, ci, Weighting()),
        )
    try:
        cells, weighting, cell_design = cell_table(campaign, chosen, by, filters)
        if is_filtered(filters):
            # One cell table serves both: the filter's whole domain, then its ``by`` levels.
            specs = [spec_for(campaign, None, ci, filters, chosen)]
            if by:
                outside = cells[by].to_numpy() == queries.OUTSIDE
                subset = np.where(outside, queries.OUTSIDE, "in")
                # One concat: an insert into the wide cell table would fragment it.
                cells = pd.concat(
                    [cells, pd.DataFrame({queries.SUBSET: subset}, index=cells.index)], axis=1
                )
                specs.append(spec_for(campaign, by, ci, filters, chosen))
        else:
            specs = [spec_for(campaign, by, ci, sample=chosen)]
        specs = [dataclasses.replace(spec, margins=weighting.margins) for spec in specs]
        results = [analyze_table(cells, spec, cell_design) for spec in specs]
        result = results[0]
    except AnalysisError as exc:
        raise ServiceError(str(exc)) from exc
    nodes = {n.code: n for n in qn.index_nodes}
    questions = {q.code: q for q in qn.questions}
    targets = {t.index_node.code: t for t in sample_targets(campaign, qn)}
    rows = []
    for est in (e for r in results for e in r.estimates):
        row = est.to_dict(extended=True)
        if domain_value(row) == queries.OUTSIDE:
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
        row["previous"] = fraction(target.previous_pct if target else None)
        row["target_rank"] = target.target_rank if target else None
        if node is not None and node.rule == AggregationRule.DESIGNATED:
            row.update(_same_estimate(node.part_codes[0], row["target"], targets, lang))
        rows.append(row)
    rows.sort(key=lambda r: (domain_sort(r), row_order(r, nodes)))
    design = {**result.design.to_dict(), **weighting_dict(chosen, weighting)}
    if chosen.key == "convenience":
        design["desks_without_volume"] = queries.desks_without_volume(campaign, chosen)
    if is_filtered(filters):
        assert filters is not None
        design["filters"] = filters.to_dict()
    # The population sizes the design used say which fpc columns the export's command needs.
    fpc = fpc_columns(cell_design.get("stratum_popsize"), cell_design.get("psu_popsize"))
    return Report(
        summary,
        sample,
        design,
        rows,
        by,
        analyze_args(campaign, chosen, by, ci, weighting, fpc),
        inputs=Inputs(cells, specs[-1], cell_design) if by else None,
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
