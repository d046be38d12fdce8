"""The flat file ``surveyapp analyze`` reads: one row per final response, design columns
included, plus each paper form's fate and its non-response weighting class.

Columns: response_id, channel, serial, one column per administrative level the campaign's data
has (its unit levels, e.g. ``commune``, or ``district`` and ``commune`` on the historical
structure, then ``region`` when the province grouped its communes: the code at that level),
unit, desk, the keyed items (q1…q33, empty when blank), the demographics, stratum, psu, ssu,
weight, fpc1, fpc2, fate, nr_class, nr_factor, weight_nr, cal_sex_age, cal_area and
``cal_<level>`` for each of those levels that can be a calibration margin.
``nr_class`` is the village a selected household lives in; ``nr_factor`` is Σ weight of the
class's selected (non-reserve) households over Σ weight of those that responded (on paper or
online), so ``weight_nr = weight × nr_factor`` is the weighting-class non-response adjusted
weight the report calibrates (``weight`` where the response has no form to class it; empty
for desk ratings). ``cal_*`` are the respondent's categories of the population margins the
report calibrates to (``sex-age group`` option values, area value, code at the level;
``unknown`` when not answered), the columns ``surveyapp report --show-analyze-command``
passes to ``--margin``. With
``all_selected`` the file also has one row per selected household that did not respond
(empty response_id and answers, its fate), for analyses that adjust by themselves.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from surveyapp.data import queries, respondents
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign, Channel
from surveyapp.models.questionnaires import Question
from surveyapp.models.responses import Answer, Response, ResponseStatus
from surveyapp.models.sampling import Form, FormFate, Household
from surveyapp.models.units import Unit
from surveyapp.services import levels, margins
from surveyapp.services.entry import keyed_questions

DESIGN = ["stratum", "psu", "ssu", "weight", "fpc1", "fpc2"]
TAIL = ["fate", "nr_class", "nr_factor", "weight_nr"]


def exported_questions(campaign: Campaign) -> list[Question]:
    """The keyed questions of every questionnaire the campaign's channels ask: the campaign's
    own first (SIPAS), then e.g. the desk questionnaire of QR and kiosk; one column per code."""
    asked = [campaign.questionnaire] + [c.asks for c in campaign.channels]
    seen: dict[str, Question] = {}
    for qn in dict.fromkeys(asked):
        for q in keyed_questions(qn):
            seen.setdefault(q.code, q)
    return list(seen.values())


def _question_codes(campaign: Campaign) -> dict[int, str]:
    """Question id -> export column, over every questionnaire the channels ask."""
    codes = {q.code for q in exported_questions(campaign)}
    asked = [campaign.questionnaire] + [c.asks for c in campaign.channels]
    return {
        q.id: q.code for qn in dict.fromkeys(asked) for q in keyed_questions(qn) if q.code in codes
    }


def _cal_levels(places: list[str]) -> list[str]:
    """The levels among ``places`` that a calibration margin can be at."""
    return [lv for lv in places if lv in {v.value for v in margins.geographic()}]


def header(campaign: Campaign, places: list[str] | None = None) -> list[str]:
    codes = [q.code for q in exported_questions(campaign)]
    places = levels.area_levels(campaign) if places is None else places
    cal = ["cal_sex_age", "cal_area", *(f"cal_{lv}" for lv in _cal_levels(places))]
    return [
        "response_id",
        "channel",
        "serial",
        *places,
        "unit",
        "desk",
        *codes,
        *DESIGN,
        *TAIL,
        *cal,
    ]


def _forms(campaign: Campaign) -> list[Form]:
    return list(
        db.session.scalars(
            select(Form)
            .where(Form.campaign_id == campaign.id)
            .options(
                selectinload(Form.invitation),
                selectinload(Form.household).selectinload(Household.village),
            )
        )
    )


def _unit_codes(places: list[str]) -> tuple[dict[int, str], dict[str, dict[int, str]]]:
    """Unit code, and code at each level of ``places``, by unit id (no lazy loads per row)."""
    units = {uid: code for uid, code in db.session.execute(select(Unit.id, Unit.code))}
    return units, {level: queries.level_codes(level) for level in places}


# The probability sample's channels, as the report defines the samples.
PROBABILITY_CHANNELS = frozenset(c.value for c in queries.SAMPLES["probability"].channels)


def rows(
    campaign: Campaign, all_selected: bool = False, sample: str | None = None
) -> list[dict[str, Any]]:
    """The export's rows. Responses and answers are read with two plain queries, so a large
    campaign costs a pass over its rows, not an ORM object per answer.

    ``sample`` keeps one of the three samples the reports analyse apart: ``probability``
    (paper and web answers with their design), ``convenience`` (desk ratings, whose
    ``weight`` is then the desk's transaction volume over its number of ratings) or
    ``invited`` (answers to standalone invitation codes: no design, empty ``weight``).
    """
    out = _all_rows(campaign, all_selected)
    if sample is None:
        return out
    from surveyapp.services.reports.common import questionnaire_for

    # A sample is read with the questionnaire its channels ask, as the report reads it (a
    # full survey answered after a desk rating is not a desk rating).
    asked = questionnaire_for(campaign, queries.SAMPLES[sample])
    ids = set(
        db.session.scalars(
            select(Response.id).where(
                Response.campaign_id == campaign.id, Response.questionnaire_id == asked.id
            )
        )
    )
    out = [
        r
        for r in out
        if r["response_id"] in ids and queries.in_sample(sample, r["channel"], r["weight"])
    ]
    if sample == "convenience" and out:
        import pandas as pd

        frame = pd.DataFrame({"service_point_id": [r["desk"] for r in out]})
        weights = queries.volume_weights(frame, queries.desk_volumes(campaign))
        for row, weight in zip(out, weights, strict=True):
            row["weight"] = float(weight)
    return out


def _all_rows(campaign: Campaign, all_selected: bool) -> list[dict[str, Any]]:
    question_code = _question_codes(campaign)
    codes = [q.code for q in exported_questions(campaign)]
    forms = _forms(campaign)
    by_id = {f.id: f for f in forms}
    final = (
        Response.campaign_id == campaign.id,
        Response.status == ResponseStatus.FINAL,
        Response.held.is_(False),  # as the report: bursts held out until released
    )
    responses = db.session.execute(
        select(
            Response.id,
            Response.channel,
            Response.serial,
            Response.unit_id,
            Response.service_point_id,
            *(getattr(Response, name) for name in DESIGN),
        )
        .where(*final)
        .order_by(Response.id)
    ).all()
    answers: dict[int, dict[str, int | None]] = defaultdict(dict)
    for response_id, question_id, value in db.session.execute(
        select(Answer.response_id, Answer.question_id, Answer.value)
        .join(Response, Answer.response_id == Response.id)
        .where(*final, Answer.question_id.in_(list(question_code)))
    ):
        answers[response_id][question_code[question_id]] = value
    places = levels.area_levels(campaign)
    unit_code, place_codes = _unit_codes(places)
    cal_places = _cal_levels(places)
    matched = {
        response_id: by_id[form_id]
        for response_id, form_id in respondents.form_of_response(campaign.id).items()
    }
    factors = queries.nonresponse_factors(campaign)
    out = []
    for r in responses:
        form = matched.get(r.id)
        unit_id = r.unit_id
        if unit_id is None and form is not None:
            village = form.household.village
            unit_id = village.parent_id or village.id
        channel = Channel(r.channel).value
        row: dict[str, Any] = {
            "response_id": r.id,
            "channel": channel,
            "serial": r.serial or (form.serial if form else None),
            **{lv: place_codes[lv].get(unit_id) if unit_id else None for lv in places},
            "unit": unit_code.get(unit_id) if unit_id else None,
            "desk": r.service_point_id,
        }
        values = answers.get(r.id, {})
        for code in codes:
            row[code] = values.get(code)
        use_form = form is not None and r.weight is None
        for name in DESIGN:
            row[name] = getattr(form, name) if use_form else getattr(r, name)
        if form is not None:
            village_code = form.household.village.code
            row["fate"] = (
                form.fate_now.value
                if channel == Channel.PAPER.value
                else FormFate.ANSWERED_ONLINE.value
            )
            row["nr_class"] = village_code
            row["nr_factor"] = factors.get(village_code)
        else:
            row["fate"] = row["nr_class"] = row["nr_factor"] = None
        probability = channel in PROBABILITY_CHANNELS
        factor = row["nr_factor"] if row["nr_factor"] is not None else 1.0
        weight = row["weight"]
        row["weight_nr"] = weight * factor if probability and weight is not None else None
        row.update(
            margins.cell_of(
                values.get("sex"),
                values.get("age_group"),
                values.get("area"),
                {lv: row[lv] for lv in cal_places},
            )
        )
        out.append(row)
    if all_selected:
        responded = {f.id for f in matched.values()}
        out.extend(_nonrespondent_rows(forms, responded, codes, factors, place_codes, cal_places))
    return out


def _nonrespondent_rows(
    forms: list[Form],
    responded: set[int],
    codes: list[str],
    factors: dict[str, float],
    place_codes: dict[str, dict[int, str]],
    cal_places: list[str],
) -> list[dict[str, Any]]:
    """One row per selected (non-reserve) household without a final response: no answers,
    its design fields and fate, so the analysis can form its own non-response adjustment."""
    out = []
    for form in sorted(forms, key=lambda f: f.serial):
        if form.reserve or form.id in responded:
            continue
        village = form.household.village
        row: dict[str, Any] = {
            "response_id": None,
            "channel": "paper",
            "serial": form.serial,
            **{lv: codes_at.get(village.id) for lv, codes_at in place_codes.items()},
            "unit": village.parent.code if village.parent else village.code,
            "desk": None,
            **dict.fromkeys(codes),
        }
        for name in DESIGN:
            row[name] = getattr(form, name)
        row["fate"] = form.fate_now.value
        row["nr_class"] = village.code
        row["nr_factor"] = factors.get(village.code)
        row["weight_nr"] = None
        row.update(margins.cell_of(None, None, None, {lv: row[lv] for lv in cal_places}))
        out.append(row)
    return out


def to_csv(campaign: Campaign, all_selected: bool = False, sample: str | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header(campaign), lineterminator="\n")
    writer.writeheader()
    for row in rows(campaign, all_selected, sample):
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()


def to_xlsx(campaign: Campaign, all_selected: bool = False, sample: str | None = None) -> bytes:
    from openpyxl import Workbook

    from surveyapp import xlsx

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("responses")
    columns = header(campaign)
    xlsx.append(ws, columns)
    for row in rows(campaign, all_selected, sample):
        xlsx.append(ws, [row[c] for c in columns])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def to_parquet(campaign: Campaign, all_selected: bool = False, sample: str | None = None) -> bytes:
    import pandas as pd

    places = levels.area_levels(campaign)
    columns = header(campaign, places)
    frame = pd.DataFrame(rows(campaign, all_selected, sample), columns=columns)
    codes = [q.code for q in exported_questions(campaign)]
    for code in [*codes, "desk"]:
        frame[code] = frame[code].astype("Int64")
    for name in ("weight", "fpc1", "fpc2", "nr_factor", "weight_nr"):
        frame[name] = frame[name].astype("float64")
    for name in ("channel", "serial", *places, "unit", "stratum", "psu", "ssu", "fate"):
        frame[name] = frame[name].astype("string")
    for name in ("nr_class", *(c for c in columns if c.startswith("cal_"))):
        frame[name] = frame[name].astype("string")
    out = io.BytesIO()
    frame.to_parquet(out, index=False)
    return out.getvalue()


def export(
    campaign: Campaign, fmt: str, all_selected: bool = False, sample: str | None = None
) -> bytes:
    if fmt == "csv":
        return to_csv(campaign, all_selected, sample).encode("utf-8")
    if fmt == "xlsx":
        return to_xlsx(campaign, all_selected, sample)
    if fmt == "parquet":
        return to_parquet(campaign, all_selected, sample)
    raise ValueError(fmt)
