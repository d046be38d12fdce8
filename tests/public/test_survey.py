"""The QR questionnaire ``/s/<desk-token>``: the form, validation, storing, error pages."""

from __future__ import annotations

import re
from datetime import date, timedelta

from surveyapp.extensions import db
from surveyapp.models import Answer, CampaignStatus, Channel, ResponseStatus
from surveyapp.services import submissions


def _url(desk) -> str:  # type: ignore[no-untyped-def]
    return f"/s/{desk.token}"


def test_form_is_one_vietnamese_page_with_radio_groups_and_nonce(client, desk) -> None:
    response = client.get(_url(desk))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'lang="vi"' in html
    assert desk.name in html
    # 33 rating items, each a fieldset of five radios named by its code, values 1-5.
    assert html.count('class="question likert') == 33
    for code in ("q1", "q17", "q33"):
        values = re.findall(rf'type="radio" name="{code}" id="{code}-(\d)" value="(\d)"', html)
        assert [v for _, v in values] == ["1", "2", "3", "4", "5"]
    assert '<label class="option" for="q1-4">' in html and "Hài lòng" in html
    # Demographics are radio groups named by their codes; free text is a textarea.
    for code in ("sex", "age_group", "ethnicity", "education", "occupation", "area"):
        assert f'name="{code}"' in html
    assert '<textarea name="comment"' in html
    assert re.search(r'<input type="hidden" name="nonce" value="[^"]{20,}">', html)
    assert "<legend>" in html and "<progress" in html
    assert "Phần A" in html and "Gửi" in html
    assert "<script>" not in html and "style=" not in html  # CSP: no inline script or style


def test_english_switch(client, desk) -> None:
    client.get("/lang/en")
    html = client.get(_url(desk)).get_data(as_text=True)
    assert 'lang="en"' in html and "Very satisfied" in html and "Send" in html


def test_submission_stores_answered_items_only_and_redirects(
    client, desk, campaign, fresh_nonce, responses
) -> None:
    nonce = fresh_nonce(_url(desk))
    data = {"nonce": nonce, "q1": "4", "q2": "5", "q19": "1", "sex": "2", "comment": " Tốt lắm "}
    response = client.post(_url(desk), data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/s/{desk.token}/thanks")
    thanks = client.get(response.headers["Location"])
    assert thanks.status_code == 200 and "Cảm ơn" in thanks.get_data(as_text=True)
    [stored] = responses()
    assert stored.channel == Channel.QR and stored.status == ResponseStatus.FINAL
    assert stored.service_point_id == desk.id and stored.unit_id == desk.unit_id
    assert stored.campaign_id == campaign.id
    assert stored.questionnaire_id == campaign.questionnaire_id
    assert stored.nonce == nonce and stored.language == "vi" and stored.flags == []
    got = {a.question.code: (a.value, a.text) for a in stored.answers}
    assert got == {
        "q1": (4, None),
        "q2": (5, None),
        "q19": (1, None),
        "sex": (2, None),
        "comment": (None, "Tốt lắm"),
    }


def test_empty_form_is_reshown_with_message_beside_the_first_item(
    client, desk, fresh_nonce, responses
) -> None:
    nonce = fresh_nonce(_url(desk))
    response = client.post(_url(desk), data={"nonce": nonce, "sex": "1", "comment": "x"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Vui lòng đánh giá ít nhất một nội dung" in html
    assert 'id="q1-error"' in html and 'aria-describedby="q1-error"' in html
    # The citizen's answers are kept and the same nonce is offered again.
    assert 'id="sex-1" value="1" checked' in html
    assert ">x</textarea>" in html
    assert f'value="{nonce}"' in html
    assert responses() == []


def test_too_long_comment_is_reshown_with_answers_kept(
    client, desk, fresh_nonce, responses
) -> None:
    nonce = fresh_nonce(_url(desk))
    response = client.post(_url(desk), data={"nonce": nonce, "q3": "2", "comment": "a" * 1001})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="comment-error"' in html and "1000" in html
    assert 'id="q3-2" value="2" checked' in html
    assert responses() == []


def test_refused_submissions_store_nothing_and_are_vietnamese(
    client, desk, fresh_nonce, responses
) -> None:
    url = _url(desk)
    cases = [
        {"q1": "4"},  # no nonce
        {"nonce": "forged.nonce", "q1": "4"},
        {"nonce": fresh_nonce(url), "q1": "6"},  # out of range
        {"nonce": fresh_nonce(url), "q1": "0"},
        {"nonce": fresh_nonce(url), "q1": "abc"},
        {"nonce": fresh_nonce(url), "sex": "3"},
        {"nonce": fresh_nonce(url), "q1": "4", "is_admin": "1"},  # unknown field
        {"nonce": fresh_nonce(url), "q1": ["4", "5"]},  # repeated field
    ]
    for data in cases:
        response = client.post(url, data=data)
        assert response.status_code == 400, data
        html = response.get_data(as_text=True)
        assert "Yêu cầu không hợp lệ" in html and "Traceback" not in html
    assert responses() == []


def test_nonce_is_bound_to_its_desk_and_channel(client, desk, fresh_nonce, responses) -> None:
    from surveyapp.models import ServicePoint

    other = ServicePoint(unit=desk.unit, name="Quầy 2")
    db.session.add(other)
    db.session.commit()
    nonce = fresh_nonce(_url(desk))
    assert client.post(f"/s/{other.token}", data={"nonce": nonce, "q1": "4"}).status_code == 400
    assert client.post(f"/k/{desk.token}", data={"nonce": nonce, "q1": "4"}).status_code == 400
    assert responses() == []


def test_cross_site_post_is_refused(client, desk, fresh_nonce, responses) -> None:
    nonce = fresh_nonce(_url(desk))
    response = client.post(
        _url(desk), data={"nonce": nonce, "q1": "4"}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 400 and responses() == []


def test_unknown_or_revoked_token_is_a_vietnamese_404(client, desk) -> None:
    response = client.get("/s/no-such-desk-token")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Không tìm thấy trang" in html and "Traceback" not in html
    desk.active = False
    db.session.commit()
    assert client.get(_url(desk)).status_code == 404
    assert client.post(_url(desk), data={"q1": "4"}).status_code == 404
    assert client.get(f"/k/{desk.token}").status_code == 404


def test_campaign_not_open_shows_its_dates(client, desk, campaign) -> None:
    campaign.starts = date.today() + timedelta(days=5)
    campaign.ends = date.today() + timedelta(days=35)
    db.session.commit()
    response = client.get(_url(desk))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Cuộc khảo sát này chưa mở" in html or "không mở" in html
    assert campaign.starts.strftime("%d/%m/%Y") in html
    assert campaign.ends.strftime("%d/%m/%Y") in html
    assert 'name="nonce"' not in html
    campaign.starts = date.today() - timedelta(days=30)
    campaign.ends = date.today() + timedelta(days=1)
    campaign.status = CampaignStatus.CLOSED
    db.session.commit()
    html = client.get(_url(desk)).get_data(as_text=True)
    assert campaign.ends.strftime("%d/%m/%Y") in html and 'name="nonce"' not in html


def test_not_open_page_writes_every_date_in_the_readers_form(client, desk, campaign) -> None:
    """Today's date follows the language like the campaign's dates (it was a fixed
    dd/MM/yyyy pattern in English too)."""
    campaign.starts = date.today() + timedelta(days=5)
    campaign.ends = date.today() + timedelta(days=35)
    db.session.commit()
    today = submissions.today()
    html = client.get(_url(desk)).get_data(as_text=True)
    assert f"Hôm nay là ngày {today:%d/%m/%Y}." in html
    client.get("/lang/en")
    english = client.get(_url(desk)).get_data(as_text=True)
    assert f"Today is {today:%b} {today.day}, {today.year}." in english
    assert f"{campaign.starts:%b} {campaign.starts.day}, {campaign.starts.year}" in english
    assert f"{today:%d/%m/%Y}" not in english


def test_post_after_campaign_closed_stores_nothing(
    client, desk, campaign, fresh_nonce, responses
) -> None:
    nonce = fresh_nonce(_url(desk))
    campaign.status = CampaignStatus.CLOSED
    db.session.commit()
    response = client.post(_url(desk), data={"nonce": nonce, "q1": "4"})
    assert response.status_code == 409 and responses() == []


def test_desk_outside_campaign_units_or_channel_has_no_survey(client, desk, campaign) -> None:
    from surveyapp.models import ServicePoint, Unit, UnitLevel

    elsewhere = Unit(code="74", name="Tỉnh Bình Dương", level=UnitLevel.PROVINCE)
    foreign = ServicePoint(unit=elsewhere, name="Một cửa Bình Dương")
    db.session.add_all([elsewhere, foreign])
    campaign.channels = [c for c in campaign.channels if c.channel != Channel.KIOSK]
    db.session.commit()
    html = client.get(f"/s/{foreign.token}").get_data(as_text=True)
    assert 'name="nonce"' not in html and "Hiện không có cuộc khảo sát" in html
    assert 'name="nonce"' in client.get(_url(desk)).get_data(as_text=True)
    assert 'name="nonce"' not in client.get(f"/k/{desk.token}").get_data(as_text=True)


def test_answers_table_holds_one_row_per_answered_question(client, desk, fresh_nonce) -> None:
    nonce = fresh_nonce(_url(desk))
    data = {"nonce": nonce, **{f"q{i}": str(1 + i % 5) for i in range(1, 34)}}
    assert client.post(_url(desk), data=data).status_code == 303
    assert db.session.query(Answer).count() == 33


def test_submit_path_trusts_a_resolved_desk_for_a_few_seconds_only(
    app, client, desk, fresh_nonce, responses
) -> None:
    """The submit path remembers a desk's campaign for CITIZEN_CACHE_SECONDS; pages never."""
    url = _url(desk)
    assert client.post(url, data={"nonce": fresh_nonce(url), "q1": "4"}).status_code == 303
    nonce = fresh_nonce(url)
    desk.active = False
    db.session.commit()
    assert client.get(url).status_code == 404  # pages show the revocation at once
    assert client.post(url, data={"nonce": nonce, "q1": "4"}).status_code == 303  # cached
    app.extensions["surveyapp_target_cache"].clear()
    assert (
        client.post(url, data={"nonce": _minted_nonce(client, url), "q1": "4"}).status_code == 404
    )
    assert len(responses()) == 2


def _minted_nonce(client, url: str) -> str:  # type: ignore[no-untyped-def]
    from surveyapp.services import submissions

    with client.application.test_request_context():
        return submissions.issue_nonce("qr:" + url.rsplit("/", 1)[-1])
