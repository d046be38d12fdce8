"""Issue 14 §1: the desk instrument as data, its show_if conditions, a questionnaire per
channel, and reports that read each sample with the questionnaire its channels ask."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pytest

from surveyapp.extensions import db
from surveyapp.models import Channel, QuestionType
from surveyapp.services import ServiceError, campaigns, desk_standard, instruments, reports
from surveyapp.services.instruments import DESK_2026, InstrumentError

RATINGS = ["d_access", "d_procedures", "d_staff", "d_results", "d_complaints", "d_overall"]


def test_desk_instrument_asks_each_criterion_overall_and_why(sipas) -> None:
    qn = instruments.desk()
    assert qn.style == "desk" and qn.headline == "d_overall"
    likert = [q.code for q in qn.questions if q.type == QuestionType.LIKERT5]
    assert likert == RATINGS
    reasons = qn.question("d_reasons")
    assert reasons is not None and reasons.type == QuestionType.MULTI
    labels = [o.label["vi"] for o in reasons.option_set.options]
    assert "Phải chờ lâu" in labels and "Trễ hẹn trả kết quả" in labels
    assert reasons.show_if is not None and qn.question("d_why").show_if == reasons.show_if
    nodes = {n.code: n for n in qn.index_nodes}
    assert list(nodes) == ["2.1", "2.2", "2.3", "2.4", "2.5", "overall"]
    sipas_nodes = {n.code: n for n in sipas.index_nodes}
    for code in ("2.1", "2.2", "2.3", "2.4", "2.5"):
        # The criterion names are SIPAS 2022's, word for word.
        assert nodes[code].name == sipas_nodes[code].name
    assert nodes["overall"].part_codes == ["d_overall"]


def _with_show_if(condition: str, *, before: bool = True) -> str:
    text = DESK_2026.read_text(encoding="utf-8").replace('code = "desk-2026"', 'code = "desk-x"')
    extra = f"""
[[questions]]
code = "x_why"
section = "W"
type = "text"
text.vi = "Vì sao?"
text.en = "Why?"
show_if = {condition}
"""
    marker = "[[indices]]"
    if before:
        # Before d_access: any condition on a rating names a later question.
        return text.replace(
            '[[questions]]\ncode = "d_access"', extra + '\n[[questions]]\ncode = "d_access"', 1
        )
    return text.replace(marker, extra + "\n" + marker, 1)


@pytest.mark.parametrize(
    ("condition", "before", "vi"),
    [
        (
            '{ question = "d_overall", in = [1, 2] }',
            True,
            "không phải câu hỏi được khai báo trước nó",
        ),
        ('{ question = "nope", in = [1] }', False, "không phải câu hỏi được khai báo trước nó"),
        (
            '{ question = "d_overall", in = [0, 7] }',
            False,
            "không phải phương án của câu 'd_overall'",
        ),
        ('{ question = "d_overall", in = [] }', False, "in phải là danh sách giá trị không rỗng"),
        ('{ question = "d_reasons", in = [1] }', False, "không phải câu hỏi chọn một phương án"),
        ('{ question = "d_overall" }', False, "cần đúng hai khoá question và in"),
        ("{ any = [] }", False, "danh sách điều kiện không rỗng"),
        ('"d_overall <= 3"', False, "show_if phải có dạng"),
    ],
)
def test_show_if_is_validated_vietnamese_first(app, condition: str, before: bool, vi: str) -> None:
    with pytest.raises(InstrumentError) as caught:
        instruments.load(_with_show_if(condition, before=before))
    message = str(caught.value)
    assert vi in message
    assert message.index(vi) < message.index(" / ")  # Vietnamese first, then English
    assert caught.value.line is not None


def test_a_valid_condition_loads(app) -> None:
    qn = instruments.load(_with_show_if('{ question = "d_overall", in = [1, 2] }', before=False))
    assert qn.question("x_why").show_if == {"question": "d_overall", "in": [1, 2]}


def test_headline_must_be_an_unconditional_rating(app) -> None:
    text = DESK_2026.read_text(encoding="utf-8").replace(
        'headline = "d_overall"', 'headline = "d_why"'
    )
    with pytest.raises(InstrumentError, match="phải là một câu hỏi đánh giá"):
        instruments.load(text)


# ---------------------------------------------------------------------------------------------
# A questionnaire per channel, and the reports.


@pytest.fixture
def desk_campaign(campaign):  # type: ignore[no-untyped-def]
    qn = instruments.desk()
    changed = campaigns.set_channel_questionnaires(
        campaign, {Channel.QR: qn.id, Channel.KIOSK: qn.id}
    )
    db.session.commit()
    assert changed == ["qr", "kiosk"]
    return campaign


def _rate(campaign, desk, values: dict[str, int], *, link: str | None = None, qn=None) -> None:  # type: ignore[no-untyped-def]
    from surveyapp.models import Answer, Response

    qn = qn or campaign.questionnaire_on(Channel.QR)
    response = Response(
        campaign=campaign,
        questionnaire=qn,
        channel=Channel.QR,
        nonce=secrets.token_hex(16),
        unit_id=desk.unit_id,
        service_point_id=desk.id,
        submitted_at=datetime.now(UTC),
        link_id=link,
    )
    for code, value in values.items():
        question = qn.question(code)
        assert question is not None
        response.answers.append(Answer(question=question, value=value))
    db.session.add(response)
    db.session.flush()


@pytest.fixture
def two_desks(desk_campaign):  # type: ignore[no-untyped-def]
    from desk_support import commune, desk

    unit = commune(desk_campaign)
    return desk(unit, "Quầy tư pháp"), desk(unit, "Quầy đất đai")


def test_channel_questionnaires_are_checked_and_audited(campaign, sipas) -> None:
    from sqlalchemy import select

    from surveyapp.models import AuditLog

    qn = instruments.desk()
    db.session.commit()
    with pytest.raises(ServiceError, match="cùng một mẫu"):
        campaigns.set_channel_questionnaires(campaign, {Channel.QR: qn.id})
    with pytest.raises(ServiceError, match="Không có bảng hỏi"):
        campaigns.set_channel_questionnaires(campaign, {Channel.QR: 10_000})
    with pytest.raises(ServiceError, match="Phiếu giấy luôn dùng bảng hỏi chung"):
        campaigns.set_channel_questionnaires(
            campaign, {Channel.PAPER: qn.id, Channel.WEB_INVITE: qn.id}
        )
    db.session.rollback()
    campaigns.set_channel_questionnaires(campaign, {Channel.QR: qn.id, Channel.KIOSK: qn.id})
    db.session.commit()
    assert campaign.questionnaire_on(Channel.QR).id == qn.id
    assert campaign.questionnaire_on(Channel.PAPER).id == sipas.id
    entries = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "channel_questionnaire")
    ).all()
    assert {e.after["channel"] for e in entries} == {"qr", "kiosk"}


def test_channel_with_answers_keeps_its_questionnaire(desk_campaign, two_desks) -> None:
    _rate(desk_campaign, two_desks[0], {"d_overall": 5})
    db.session.commit()
    with pytest.raises(ServiceError, match="đã có 1 phiếu"):
        campaigns.set_channel_questionnaires(desk_campaign, {Channel.QR: None, Channel.KIOSK: None})


def test_convenience_report_reads_the_desk_questionnaire(desk_campaign, two_desks, sipas) -> None:
    a, b = two_desks
    for value in (5, 4, 2, 5):
        _rate(desk_campaign, a, {**dict.fromkeys(RATINGS, 4), "d_overall": value})
    for value in (3, 1):
        _rate(desk_campaign, b, {"d_staff": value, "d_overall": value})
    # A linked full survey on the same channel is not read as a desk rating.
    _rate(desk_campaign, a, {"q1": 1, "q23": 1}, link="L" * 22, qn=sipas)
    db.session.commit()

    report = reports.build(desk_campaign, sample="convenience")
    assert report.campaign["questionnaire"] == "desk-2026 v1"
    assert report.descriptive
    rows = {r["code"]: r for r in report.rows()}
    assert {"2.1", "2.2", "2.3", "2.4", "2.5", "overall"} <= set(rows)
    assert "q1" not in rows and "2.6" not in rows
    assert rows["overall"]["n"] == 6
    assert rows["2.3"]["n"] == 6 and rows["2.1"]["n"] == 4
    assert all(r["verdict"] is None for r in report.rows())
    # The probability sample still reads SIPAS.
    assert reports.build(desk_campaign, sample="probability").campaign["questionnaire"] == (
        "sipas-2022 v1"
    )
    table = desk_standard.desk_indices(desk_campaign)
    assert table is not None
    assert [c for c, _n in table.columns] == ["2.1", "2.2", "2.3", "2.4", "2.5", "overall"]
    by_desk = dict(table.desks)
    overall = [c for c, _n in table.columns].index("overall")
    assert by_desk["Quầy đất đai"][overall].estimate == 0.0
    assert by_desk["Quầy tư pháp"][overall].n == 4


def test_mixed_questionnaires_in_one_sample_are_refused(campaign) -> None:
    qn = instruments.desk()
    # Bypassing the service (e.g. an old database edited by hand): the report refuses.
    next(c for c in campaign.channels if c.channel == Channel.QR).questionnaire_id = qn.id
    db.session.commit()
    with pytest.raises(ServiceError, match="dùng các bảng hỏi khác nhau"):
        reports.build(campaign, sample="convenience")


def test_desk_page_shows_the_desk_indices(desk_campaign, two_desks, login_as) -> None:
    _rate(desk_campaign, two_desks[0], {**dict.fromkeys(RATINGS, 5), "d_staff": 2})
    db.session.commit()
    client = login_as("analyst")
    html = client.get(f"/dashboard/{desk_campaign.id}/desks").get_data(as_text=True)
    section = html.split('class="desk-indices"', 1)[1]
    assert "Phiếu đánh giá nhanh sự phục vụ" in section and "2.5" in section
    assert "100,00" in section and "0,00" in section
    # The convenience report of the campaign page uses the desk questionnaire too.
    page = client.get(f"/dashboard/{desk_campaign.id}").get_data(as_text=True)
    assert "Đánh giá chung về sự phục vụ tại quầy" in page


def test_admin_chooses_a_questionnaire_per_channel(campaign, login_as) -> None:
    qn = instruments.desk()
    db.session.commit()
    client = login_as("admin")
    page = client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'name="qn_qr"' in page and "Phiếu đánh giá nhanh sự phục vụ" in page
    sent = client.post(
        f"/admin/campaigns/{campaign.id}/channels",
        data={"qn_qr": str(qn.id), "qn_kiosk": str(qn.id), "qn_paper": "", "qn_web_invite": ""},
    )
    assert sent.status_code == 302
    db.session.expire_all()
    assert campaign.questionnaire_on(Channel.KIOSK).id == qn.id
    refused = client.post(
        f"/admin/campaigns/{campaign.id}/channels",
        data={"qn_qr": str(qn.id), "qn_kiosk": "", "qn_paper": "", "qn_web_invite": ""},
        follow_redirects=True,
    )
    assert "cùng một mẫu" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert campaign.questionnaire_on(Channel.KIOSK).id == qn.id


def test_demo_asks_the_desk_questionnaire_on_qr_and_kiosk(demo_data) -> None:
    from sqlalchemy import func, select

    from surveyapp.models import Answer, Campaign, Question, Response

    # The 2024 campaign ran SIPAS on every channel; this year's asks the desk form at desks.
    old = db.session.get(Campaign, demo_data.campaign_id)
    assert old.questionnaire_on(Channel.QR).code == "sipas-2022"
    campaign = db.session.get(Campaign, demo_data.current_campaign_id)
    desk_qn = campaign.questionnaire_on(Channel.QR)
    assert desk_qn.code == "desk-2026"
    assert campaign.questionnaire_on(Channel.KIOSK).id == desk_qn.id
    assert campaign.questionnaire_on(Channel.PAPER).code == "sipas-2022"
    assert campaign.questionnaire_on(Channel.WEB_INVITE).code == "sipas-2022"
    by_qn = dict(
        db.session.execute(
            select(Response.questionnaire_id, func.count())
            .where(
                Response.campaign_id == campaign.id,
                Response.channel.in_([Channel.QR, Channel.KIOSK]),
            )
            .group_by(Response.questionnaire_id)
        ).all()
    )
    assert set(by_qn) == {desk_qn.id}
    # Every desk rating answers desk questions only; low ones give reasons among the choices.
    codes = set(
        db.session.scalars(
            select(Question.code)
            .join(Answer, Answer.question_id == Question.id)
            .join(Response, Response.id == Answer.response_id)
            .where(Response.channel == Channel.QR, Response.campaign_id == campaign.id)
            .distinct()
        )
    )
    assert set(RATINGS) <= codes <= {*RATINGS, "d_reasons", "d_why"}
    assert "d_reasons" in codes
    report = reports.build(campaign, sample="convenience")
    assert report.campaign["questionnaire"] == "desk-2026 v1"
    assert {r["code"] for r in report.rows() if r["level"] != "item"} == {
        "2.1",
        "2.2",
        "2.3",
        "2.4",
        "2.5",
        "overall",
    }


def test_desk_standard_scores_the_overall_rating_and_counts_a_visit_once(
    desk_campaign, two_desks, sipas
) -> None:
    from surveyapp.data import ratings

    a, _b = two_desks
    _rate(desk_campaign, a, {"d_access": 1, "d_overall": 5}, link="K" * 22)
    # The full survey the same visitor answered afterwards (same link): not a second rating.
    _rate(desk_campaign, a, {"q1": 1, "q23": 1}, link="K" * 22, qn=sipas)
    _rate(desk_campaign, a, {"d_overall": 2})
    db.session.commit()
    frame = ratings.rating_frame(desk_campaign)
    assert list(frame["score"]) == [5.0, 2.0]  # the headline rating, not the mean
    assert list(frame["good"]) == [True, False]
