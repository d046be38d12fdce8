"""Issue 12 on the report side: the analysis' reasons reach the report, and one estimate is
never judged against two targets without the report saying so."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from surveyapp.extensions import db
from surveyapp.models import Campaign
from surveyapp.services import report_files, reports


def _campaign(demo_data) -> Campaign:
    return db.session.get(Campaign, demo_data.campaign_id)


def test_field_2_says_it_is_judged_against_its_own_target(demo_data) -> None:
    report = reports.build(_campaign(demo_data))
    rows = {r["code"]: r for r in report.rows()}
    field, crit = rows["2"], rows["2.6"]
    # the same number, two targets (89.5 % and 90 % in the Đồng Nai plan)
    assert field["estimate"] == crit["estimate"] and field["target"] != crit["target"]
    assert field["same_estimate_as"] == "2.6"
    assert (
        "2.6" in field["note"]
        and "89,50\u00a0%" in field["note"]
        and "90,00\u00a0%" in field["note"]
    )
    assert "note" not in rows["1"] or rows["1"]["note"] is None
    english = {r["code"]: r for r in reports.build(_campaign(demo_data), lang="en").rows()}
    assert "89.50%" in english["2"]["note"]
    # the report file carries the note in its last column
    wb = load_workbook(io.BytesIO(report_files.to_xlsx([("SIPAS", report)])))
    ws = wb.worksheets[0]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    header = next(v for v in values if v and "Ghi chú" in v)
    line = next(v for v in values if v and v[0] in ("2", 2))
    assert "2.6" in line[header.index("Ghi chú")]


def test_rows_carry_the_verdict_reason_and_n_to_decide_reason(demo_data) -> None:
    report = reports.build(_campaign(demo_data))
    for row in report.rows():
        assert "verdict_reason" in row and "reason" in row and "n_to_decide_reason" in row
        if row["verdict"] in ("met", "not_met"):
            assert row["verdict_reason"] is None and row["n_to_decide"] is None
            assert row["n_to_decide_reason"] == "decided"
        elif row["verdict"] == "inconclusive":
            assert row["verdict_reason"] is not None


def test_report_by_district_blanks_only_the_indices_of_an_empty_item(demo_data) -> None:
    """Defect 2 of issue 12 through the report's cell query: no answer to q31 in one stratum
    (a district of the paper sample) blanks 2.5, 2.6, field 2 and the overall index there,
    with the reason, and nothing else."""
    from sqlalchemy import delete, select

    from surveyapp.models.campaigns import Channel
    from surveyapp.models.questionnaires import Question
    from surveyapp.models.responses import Answer, Response

    campaign = _campaign(demo_data)
    stratum = db.session.scalars(
        select(Response.stratum).where(
            Response.campaign_id == campaign.id, Response.channel == Channel.PAPER
        )
    ).first()
    q31 = db.session.scalars(
        select(Question.id).where(
            Question.code == "q31", Question.questionnaire_id == campaign.questionnaire_id
        )
    ).one()
    emptied = select(Response.id).where(
        Response.campaign_id == campaign.id, Response.stratum == stratum
    )
    db.session.execute(
        delete(Answer).where(Answer.question_id == q31, Answer.response_id.in_(emptied))
    )
    db.session.commit()
    report = reports.build(campaign, by="district")
    blank = [d for d in report.domains() if _row(report, d, "2.5")["estimate"] is None]
    assert len(blank) == 1
    for code in ("2.5", "2.6", "2", "overall"):
        row = _row(report, blank[0], code)
        assert row["estimate"] is None and row["reason"] == "empty_part:q31", code
    for code in ("1", "1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4"):
        row = _row(report, blank[0], code)
        assert row["estimate"] is not None and row["reason"] is None, code


def _row(report: reports.Report, domain: object, code: str) -> dict:
    return next(r for r in report.rows(domain) if r["code"] == code)
