"""The officials' survey: scales in the instrument, the frame by agency, codes, completion,
reminders and results by agency."""

from __future__ import annotations

from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from support import nonce_of

from surveyapp.extensions import db
from surveyapp.models import (
    AggregationRule,
    AuditLog,
    Campaign,
    CampaignChannel,
    CampaignStatus,
    Channel,
    OfficialAgency,
    OfficialInvitee,
    QuestionType,
    Response,
    Unit,
    UnitLevel,
)
from surveyapp.services import instruments, officials
from surveyapp.services.instruments import PAR_OFFICIALS, InstrumentError

PAR_MAX = {"1": 9.5, "2": 10, "3": 13, "4": 10.5, "5": 15, "6": 12, "7": 13.5, "8": 16.5}

FRAME = (
    "agency_code,agency_name,staff_code,full_name,position,contact_name,contact_email\n"
    "SNV,Sở Nội vụ,CB01,Nguyễn Văn An,Giám đốc,Trần Bình,vp.snv@example.gov.vn\n"
    "SNV,Sở Nội vụ,CB02,Lê Thị Cúc,Phó Giám đốc,,\n"
    "STP,Sở Tư pháp,CB01,Phạm Văn Dũng,Giám đốc,,\n"
    "STP,Sở Tư pháp,CB02,Hoàng Thị Em,Trưởng phòng,,\n"
    "STP,Sở Tư pháp,CB03,Võ Văn Phúc,Phó Trưởng phòng,,\n"
)


@pytest.fixture
def par(app):  # type: ignore[no-untyped-def]
    qn = instruments.par_officials()
    db.session.commit()
    return qn


@pytest.fixture
def survey(app, par):  # type: ignore[no-untyped-def]
    province = Unit(code="75", name="Tỉnh Đồng Nai", level=UnitLevel.PROVINCE)
    today = date.today()
    item = Campaign(
        name="Điều tra XHH cán bộ 2026",
        questionnaire=par,
        status=CampaignStatus.OPEN,
        starts=today - timedelta(days=5),
        ends=today + timedelta(days=5),
        units=[province],
        channels=[CampaignChannel(channel=Channel.WEB_INVITE)],
    )
    db.session.add_all([province, item])
    db.session.commit()
    return item


# --- the instrument and its scales ---------------------------------------------------------


def test_par_instrument_has_the_eight_fields_with_their_maxima(par) -> None:
    nodes = {n.code: n for n in par.index_nodes}
    assert {c: nodes[c].max_points for c in PAR_MAX} == PAR_MAX
    assert nodes["total"].max_points == 100
    assert all(nodes[c].rule == AggregationRule.POINTS for c in [*PAR_MAX, "total"])
    types = {q.type for q in par.questions}
    assert {QuestionType.SCALE10, QuestionType.YES_NO} <= types
    assert par.respondent["types"] == ["official"]
    assert par.scoring["scale10"] == {"rule": "mean"}
    assert par.scoring["yes_no"] == {"rule": "share", "values": [1]}
    # the SIPAS defaults are stored explicitly too
    assert par.scoring["likert5"] == {"rule": "share", "values": [4, 5]}


def _par_mutate(old: str, new: str) -> str:
    text = PAR_OFFICIALS.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "problem", "vi"),
    [
        ("max_points = 9.5", "max_points = 9.0", "is not the sum of its parts'", "khác tổng"),
        ('respondents = ["official"]', 'respondents = ["robot"]', "questionnaire.respondents",
         "loại người trả lời"),
        ('scale10 = { rule = "mean" }', 'scale10 = { rule = "share" }', "needs at_least",
         "at_least"),
        ('scale10 = { rule = "mean" }', 'scale10 = { rule = "median" }', "must be one of",
         "phải là một trong"),
        ("max_points = 5.0", "max_points = -1", "max_points must be a positive number",
         "số dương"),
        ('respondents = ["official"]', 'respondents = ["official", "citizen"]',
         "respondent_question", "respondent_question"),
    ],
)  # fmt: skip
def test_bad_scales_are_refused_in_vietnamese_then_english_with_the_line(
    app, old: str, new: str, problem: str, vi: str
) -> None:
    text = _par_mutate(old, new)
    with pytest.raises(InstrumentError) as info:
        instruments.load(text)
    message = str(info.value)
    assert problem in info.value.problem and vi in message.split(" / ")[0]
    assert message.index(vi) < message.index(" / line") < message.rindex(problem)
    assert info.value.line is not None and message.startswith(f"dòng {info.value.line}: ")
    assert (
        new.split(" = ")[0].strip() in text.splitlines()[info.value.line - 1]
        or "code" in (text.splitlines()[info.value.line - 1])
    )


def test_a_part_that_is_not_rated_is_still_refused(app) -> None:
    text = _par_mutate('parts = ["f1a", "f1b", "f1c"]', 'parts = ["f1a", "f1b", "post"]')
    with pytest.raises(InstrumentError, match="is not a rating item"):
        instruments.load(text)


def test_organisations_and_citizens_through_a_respondent_question(app) -> None:
    text = _par_mutate(
        'respondents = ["official"]',
        'respondents = ["citizen", "organisation"]\nrespondent_question = "post"\n'
        'respondent_values = { "1" = "citizen", "2" = "organisation", "3" = "citizen", '
        '"4" = "organisation" }',
    )
    qn = instruments.load(text)
    assert qn.respondent == {
        "types": ["citizen", "organisation"],
        "question": "post",
        "values": {"1": "citizen", "2": "organisation", "3": "citizen", "4": "organisation"},
    }
    bad = text.replace('"4" = "organisation" }', '"4" = "official" }')
    db.session.rollback()
    with pytest.raises(InstrumentError, match="respondent_values"):
        instruments.load(bad)


def test_share_rule_on_ten_point_scale_is_accepted(app) -> None:
    qn = instruments.load(
        _par_mutate('scale10 = { rule = "mean" }', 'scale10 = { rule = "share", at_least = 7 }')
    )
    assert qn.scoring["scale10"] == {"rule": "share", "at_least": 7}


# --- the frame ---------------------------------------------------------------------------


def test_frame_import_is_all_or_nothing_and_names_each_bad_cell(survey) -> None:
    bad = (
        FRAME + "STP,Sở Tư pháp,,Ai đó,,,\nSXD,Sở Xây dựng,CB01,Ngô Văn Giang,,,không-phải-email\n"
    )
    bad += "STP,Sở Tư pháp,CB01,Trùng Mã,,,\nSTP,Sở Tư Pháp khác,CB09,Tên,,,\n"
    with pytest.raises(officials.FrameImportError) as info:
        officials.import_frame(survey, bad.encode(), "frame.csv")
    problems = info.value.problems
    assert "Dòng 7, cột staff_code: cần có giá trị." in problems
    assert any(p.startswith("Dòng 8, cột contact_email:") for p in problems)
    assert any(p.startswith("Dòng 9, cột staff_code:") and "4" in p for p in problems)
    assert any(p.startswith("Dòng 10, cột agency_name:") for p in problems)
    assert len(problems) == 4
    db.session.rollback()
    assert db.session.query(OfficialInvitee).count() == 0
    assert db.session.query(OfficialAgency).count() == 0


def test_frame_import_errors_are_in_vietnamese(survey, client) -> None:
    from flask_babel import force_locale

    with force_locale("vi"), pytest.raises(officials.FrameImportError) as info:
        officials.import_frame(survey, b"agency_code,agency_name,staff_code,full_name\n"
                               b"SNV,,CB1,A\n", "f.csv")  # fmt: skip
    assert info.value.problems == ["Dòng 2, cột agency_name: cần có giá trị."]


def test_frame_import_audits_and_updates(survey) -> None:
    done = officials.import_frame(survey, FRAME.encode(), "frame.csv")
    db.session.commit()
    assert (done.agencies, done.added, done.updated) == (2, 5, 0)
    again = officials.import_frame(
        survey, FRAME.replace("Phó Giám đốc", "Giám đốc").encode(), "frame.csv"
    )
    db.session.commit()
    assert (again.added, again.updated) == (0, 1)
    entries = db.session.query(AuditLog).filter_by(entity="official_invitee").count()
    assert entries == 6
    snv = db.session.query(OfficialAgency).filter_by(code="SNV").one()
    assert snv.contact_email == "vp.snv@example.gov.vn"


def test_frame_needs_an_officials_questionnaire(campaign) -> None:
    with pytest.raises(officials.ServiceError, match="cán bộ, công chức"):
        officials.import_frame(campaign, FRAME.encode(), "frame.csv")


def test_frame_from_xlsx(survey) -> None:
    import io

    from openpyxl import Workbook

    from surveyapp import xlsx

    book = Workbook()
    for line in FRAME.strip().splitlines():
        xlsx.append(book.active, line.split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    assert officials.import_frame(survey, data, "frame.xlsx").added == 5


# --- codes, answering, completion, reminders, results --------------------------------------


def _answer(client, code: str, values: dict[str, str]) -> None:
    page = client.get(f"/i/{code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Cán bộ, công chức lãnh đạo, quản lý" in html or "Leading or managing" in html
    sent = client.post(f"/i/{code}/send", data={"nonce": nonce_of(html), **values})
    assert sent.status_code == 303, sent.get_data(as_text=True)[:500]


def _setup(survey) -> list[officials.CodeRow]:
    officials.import_frame(survey, FRAME.encode(), "frame.csv")
    assert officials.issue_codes(survey) == 5
    assert officials.issue_codes(survey) == 0  # one code per official
    db.session.commit()
    return officials.code_list(survey)


def test_codes_answer_once_and_completion_counts(survey, client) -> None:
    rows = _setup(survey)
    assert len({r.code for r in rows}) == 5
    snv = [r for r in rows if r.agency_code == "SNV"]
    _answer(client, snv[0].code, {"f1a": "8", "f1c": "1", "f2a": "10"})
    again = client.get(f"/i/{snv[0].code}")
    assert again.status_code == 410
    stored = db.session.query(Response).one()
    assert stored.respondent_type == "official"
    table = {r.code: r for r in officials.completion(survey)}
    assert (table["SNV"].invited, table["SNV"].answered, table["SNV"].rate) == (2, 1, 0.5)
    assert (table["STP"].answered, table["STP"].rate) == (0, 0.0)
    total = officials.totals(list(table.values()))
    assert (total.invited, total.answered) == (5, 1)


def test_reminders_list_unanswered_codes_and_mail_the_contact(survey, client) -> None:
    rows = _setup(survey)
    _answer(client, rows[0].code, {"f1a": "8"})  # SNV CB01
    sent: list[EmailMessage] = []
    survey = db.session.get(Campaign, survey.id)
    result = officials.remind(survey, below=0.8, sender=sent.append)
    db.session.commit()
    by_agency = {r.agency.code: r for r in result.reminders}
    assert set(by_agency) == {"SNV", "STP"}
    assert [c.staff_code for c in by_agency["SNV"].codes] == ["CB02"]
    assert [c.staff_code for c in by_agency["STP"].codes] == ["CB01", "CB02", "CB03"]
    assert by_agency["SNV"].emailed and not by_agency["STP"].emailed  # STP has no contact
    assert len(sent) == 1 and sent[0]["To"] == "vp.snv@example.gov.vn"
    body = sent[0].get_content()
    assert "CB02" in body and by_agency["SNV"].codes[0].code in body and "CB01" not in body
    audits = db.session.query(AuditLog).filter_by(action="remind").all()
    assert len(audits) == 2
    # at 40% only STP (0/3) is behind; SNV is at 50%
    assert [r.agency.code for r in officials.remind(survey, below=0.4).reminders] == ["STP"]


def test_results_by_agency_score_points_out_of_each_maximum(survey, client) -> None:
    rows = {(r.agency_code, r.staff_code): r.code for r in _setup(survey)}
    everything_ten = {q: "10" for q in ("f1a", "f1b", "f2a", "f2b")} | {"f1c": "1"}
    _answer(client, rows[("SNV", "CB01")], everything_ten)
    _answer(client, rows[("SNV", "CB02")], {"f1a": "6", "f1b": "4", "f1c": "2", "f2a": "5"})
    _answer(client, rows[("STP", "CB01")], {"f1a": "7", "f1b": "7", "f1c": "1", "f2a": "9"})
    res = officials.results(db.session.get(Campaign, survey.id))
    assert res.message is None
    by = {row.code: {n.code: n for n in row.nodes} for row in res.rows}
    # SNV field 1: items f1a (5 pts) mean (10+6)/2/10=0.8, f1b (3) 0.7, f1c (1.5) yes 1/2
    expected = (5 * 0.8 + 3 * 0.7 + 1.5 * 0.5) / 9.5
    assert by["SNV"]["1"].share == pytest.approx(expected)
    assert by["SNV"]["1"].points == pytest.approx(5 * 0.8 + 3 * 0.7 + 1.5 * 0.5)
    assert by["SNV"]["1"].max_points == 9.5
    # SNV: both listed officials answered, so no sampling error (a census of the agency)
    assert by["SNV"]["1"].se == pytest.approx(0.0, abs=1e-12)
    # STP: one of three answered: the one answer stands for the agency
    assert by["STP"]["1"].share == pytest.approx((5 * 0.7 + 3 * 0.7 + 1.5) / 9.5)
    # the province weights each agency by its list: SNV 2 officials, STP 3
    province = by[""]["1"].share
    assert province == pytest.approx((2 * by["SNV"]["1"].share + 3 * by["STP"]["1"].share) / 5)
    # field 3 has no answers anywhere: no estimate, not a zero
    assert by[""]["3"].share is None


def test_cli_import_codes_completion_remind_results(survey, runner, tmp_path: Path) -> None:
    frame = tmp_path / "frame.csv"
    frame.write_text(FRAME, encoding="utf-8")
    cid = str(survey.id)
    result = runner.invoke(args=["officials", "import", "--campaign", cid, str(frame)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "codes.csv"
    result = runner.invoke(args=["officials", "codes", "--campaign", cid, "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 6 and lines[0].startswith("agency_code,")
    pdf = tmp_path / "codes.pdf"
    result = runner.invoke(
        args=["officials", "codes", "--campaign", cid, "--format", "pdf", "-o", str(pdf)]
    )
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF")
    result = runner.invoke(args=["officials", "completion", "--campaign", cid, "--format", "json"])
    assert result.exit_code == 0 and '"invited": 5' in result.output
    result = runner.invoke(args=["officials", "remind", "--campaign", cid, "--below", "50"])
    assert result.exit_code == 0, result.output
    assert "2 agencies reminded" in result.output or "2 cơ quan" in result.output
    result = runner.invoke(args=["officials", "results", "--campaign", cid])
    assert result.exit_code != 0  # nobody answered yet: one clear line
    bad = tmp_path / "bad.csv"
    bad.write_text("agency_code,agency_name,staff_code,full_name\nX,,1,A\n", encoding="utf-8")
    result = runner.invoke(args=["officials", "import", "--campaign", cid, str(bad)])
    assert result.exit_code != 0 and "agency_name" in result.output


def test_pages_for_analysts_and_the_import_for_admins(survey, client, login_as, tmp_path) -> None:
    rows = _setup(survey)
    login_as("analyst")
    page = client.get(f"/dashboard/{survey.id}/officials")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Sở Tư pháp" in html and "/admin/campaigns" not in html
    assert client.get(f"/dashboard/{survey.id}").status_code == 200
    assert f"/dashboard/{survey.id}/officials" in client.get(f"/dashboard/{survey.id}").get_data(
        as_text=True
    )
    codes = client.get(f"/dashboard/{survey.id}/officials/codes.html")
    assert rows[0].code in codes.get_data(as_text=True)
    pdf = client.get(f"/dashboard/{survey.id}/officials/codes.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    csv_page = client.get(f"/dashboard/{survey.id}/officials/codes.csv?agency=STP")
    assert csv_page.get_data(as_text=True).count("STP") == 3
    remind = client.post(f"/dashboard/{survey.id}/officials/remind", data={"below": "0.8"})
    assert remind.status_code == 200 and rows[-1].code in remind.get_data(as_text=True)
    assert client.get(f"/dashboard/{survey.id}/officials?below=abc").status_code == 400
    # the frame import is an admin's
    upload = {"file": (tmp_path.joinpath("x").open("wb+"), "frame.csv")}
    assert (
        client.post(f"/admin/campaigns/{survey.id}/officials/import", data=upload).status_code
        == 403
    )


def test_admin_imports_the_frame_from_the_page(survey, client, login_as) -> None:
    import io

    login_as("admin")
    response = client.post(
        f"/admin/campaigns/{survey.id}/officials/import",
        data={"file": (io.BytesIO(FRAME.encode()), "frame.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert db.session.query(OfficialInvitee).count() == 5


def test_a_sipas_campaign_has_no_officials_page(campaign, client, login_as) -> None:
    login_as("analyst")
    assert client.get(f"/dashboard/{campaign.id}/officials").status_code == 404
    assert "officials" not in client.get(f"/dashboard/{campaign.id}").get_data(as_text=True)


def test_cli_opens_a_campaign_and_loads_the_demo(app, runner) -> None:
    result = runner.invoke(
        args=["officials", "campaign", "--name", "Điều tra cán bộ 2026", "--starts",
              "2026-09-01", "--ends", "2026-08-01"]
    )  # fmt: skip
    assert result.exit_code != 0  # ends before it starts: one clear line
    result = runner.invoke(
        args=["officials", "campaign", "--name", "Điều tra cán bộ 2026", "--starts",
              "2026-08-01", "--ends", "2026-09-01"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    item = db.session.scalar(db.select(Campaign).where(Campaign.name == "Điều tra cán bộ 2026"))
    assert officials.is_officials_survey(item.questionnaire)
    assert [c.channel for c in item.channels] == [Channel.WEB_INVITE]
    assert db.session.query(AuditLog).filter_by(entity="campaign", action="create").count() == 1

    result = runner.invoke(args=["officials", "demo"])
    assert result.exit_code == 0, result.output
    demo = db.session.scalar(db.select(Campaign).where(Campaign.name.like("%mô phỏng%")))
    rows = officials.completion(demo)
    assert len(rows) == 8 and all(r.invited == r.listed > 0 for r in rows)
    total = officials.totals(rows)
    assert 0 < total.answered < total.invited
    res = officials.results(demo)
    assert res.message is None and res.rows[0].code == ""
    for row in res.rows:
        for node in row.nodes:
            assert node.share is not None and 0 <= node.share <= 1
            assert node.points is not None and node.points <= node.max_points + 1e-9
    # a second run finds the demo instead of adding another
    assert runner.invoke(args=["officials", "demo"]).exit_code == 0
    assert db.session.query(Campaign).filter(Campaign.name.like("%mô phỏng%")).count() == 1


def test_results_name_the_agencies_without_answers(survey, client) -> None:
    rows = {(r.agency_code, r.staff_code): r.code for r in _setup(survey)}
    _answer(client, rows[("SNV", "CB01")], {"f1a": "9"})
    res = officials.results(db.session.get(Campaign, survey.id))
    assert res.unanswered == ("Sở Tư pháp",)
    assert [r.code for r in res.rows] == ["", "SNV"]


OTHER_PAGES = [
    "/dashboard/{id}",
    "/dashboard/{id}/differences",
    "/dashboard/{id}/trend",
    "/dashboard/{id}/sae",
    "/dashboard/{id}/report.xlsx",
    "/dashboard/{id}/report.html",
    "/dashboard/{id}/report.json",
    "/dashboard/{id}/responses",
    "/dashboard/{id}/flagged",
    "/dashboard/{id}/comments",
    "/dashboard/{id}/desks",
    "/dashboard/{id}/forecast",
    "/dashboard/{id}/forecast.xlsx",
    "/dashboard/{id}/officials",
    "/dashboard/{id}/officials/codes.html",
    "/api/campaigns/{id}",
    "/api/campaigns/{id}/targets",
    "/api/campaigns/{id}/results",
    "/api/campaigns/{id}/differences",
    "/api/campaigns/{id}/trend",
    "/api/campaigns/{id}/sae",
    "/api/campaigns/{id}/responses",
]


def test_every_campaign_page_answers_for_an_answered_officials_survey(
    app, client, login_as
) -> None:
    from surveyapp.services import officials_demo

    item = officials_demo.load()
    db.session.commit()
    login_as("admin")
    for url in OTHER_PAGES:
        response = client.get(url.format(id=item.id))
        assert response.status_code < 500, (url, response.get_data(as_text=True)[:300])
    assert client.get(f"/dashboard/{item.id}/officials").status_code == 200


def test_the_response_keeps_the_respondent_type_the_form_was_answered_as(app, campaign) -> None:
    import secrets

    from surveyapp.services import submissions

    text = _par_mutate(
        'respondents = ["official"]',
        'respondents = ["citizen", "organisation"]\nrespondent_question = "post"\n'
        'respondent_values = { "1" = "citizen", "2" = "organisation", "3" = "citizen", '
        '"4" = "organisation" }',
    ).replace('code = "par-officials-2024"', 'code = "mixed"')
    qn = instruments.load(text)
    db.session.commit()

    def stored_type(questionnaire_id: int, answers: dict[str, int | str]) -> str | None:
        sub = submissions.Submission(
            campaign_id=campaign.id,
            questionnaire_id=questionnaire_id,
            channel=Channel.WEB_INVITE,
            nonce=secrets.token_hex(8),
            answers=answers,
        )
        rid = submissions.store(sub).response_id
        return db.session.get(Response, rid).respondent_type

    assert stored_type(qn.id, {"post": 2, "f1a": 7}) == "organisation"
    assert stored_type(qn.id, {"post": 3, "f1a": 7}) == "citizen"
    assert stored_type(qn.id, {"f1a": 7}) is None  # not said
    assert stored_type(campaign.questionnaire_id, {"q1": 5}) == "citizen"  # SIPAS


def test_the_sipas_form_is_unchanged_for_citizens(campaign, client) -> None:
    from surveyapp.services import invitations

    code = invitations.create(campaign, 1)[0].code
    db.session.commit()
    html = client.get(f"/i/{code}").get_data(as_text=True)
    assert "1 = rất không hài lòng" in html.lower() or "1 = very dissatisfied" in html.lower()
    assert "Người trả lời:" not in html and "0 = rất kém" not in html
