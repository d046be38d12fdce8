"""The desk questionnaire on the citizen channel (issue 14 §1): the conditional "why?" asked
on a second page without JavaScript, never stored when hidden, the kiosk's faces and one
reason, and the optional full survey linked to the rating."""

from __future__ import annotations

import re

import pytest
from support import nonce_of
from werkzeug.datastructures import MultiDict

from surveyapp.extensions import db

RATINGS = ["d_access", "d_procedures", "d_staff", "d_results", "d_complaints", "d_overall"]


@pytest.fixture
def desk_qn(app, campaign):  # type: ignore[no-untyped-def]
    """The desk instrument on the campaign's QR and kiosk channels (SIPAS elsewhere)."""
    from surveyapp.models import Channel
    from surveyapp.services import campaigns, instruments

    qn = instruments.desk()
    campaigns.set_channel_questionnaires(
        campaign, {Channel.QR: qn.id, Channel.KIOSK: qn.id}, user=None
    )
    db.session.commit()
    return qn


def _answers(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        a.question.code: (a.text if a.value is None else str(a.value)) for a in response.answers
    }


def _all_ratings(value: int) -> dict[str, str]:
    return {code: str(value) for code in RATINGS}


def test_high_ratings_are_stored_at_once_and_offer_the_full_survey(
    client, desk, desk_qn, responses
) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/s/{desk.token}").get_data(as_text=True)
    assert "d_overall" in page and "q1" not in page
    # The "why?" is in the page, hidden until JavaScript or the server shows it.
    assert re.search(r"data-show-if='[^']*d_overall[^']*' hidden", page)
    nonce = nonce_of(page)
    sent = client.post(f"/s/{desk.token}/send", data={"nonce": nonce, **_all_ratings(5)})
    assert sent.status_code == 303
    stored = responses()
    assert len(stored) == 1 and stored[0].questionnaire_id == desk_qn.id
    assert _answers(stored[0]) == _all_ratings(5)
    link = stored[0].link_id
    assert link and link not in nonce and sent.headers["Location"].endswith(f"?full={link}")
    thanks = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert f"/s/{desk.token}/full/{link}" in thanks


def test_low_rating_without_javascript_asks_why_on_a_second_page(
    client, desk, desk_qn, responses
) -> None:  # type: ignore[no-untyped-def]
    nonce = nonce_of(client.get(f"/s/{desk.token}").get_data(as_text=True))
    first = client.post(
        f"/s/{desk.token}/send",
        data={"nonce": nonce, "step": "1", **{**_all_ratings(4), "d_staff": "2"}},
    )
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert "Phải chờ lâu" in html and "Công chức thiếu nhiệt tình" in html
    assert nonce_of(html) == nonce
    assert 'name="step" value="2"' in html
    assert responses() == []  # nothing stored before the second page is sent
    second = client.post(
        f"/s/{desk.token}/send",
        data=MultiDict(
            [
                ("nonce", nonce),
                ("step", "2"),
                *{**_all_ratings(4), "d_staff": "2"}.items(),
                ("d_reasons", "3"),
                ("d_reasons", "1"),
                ("d_why", "Chờ gần hai tiếng"),
            ]
        ),
    )
    assert second.status_code == 303
    stored = responses()
    assert len(stored) == 1
    answers = _answers(stored[0])
    assert answers["d_staff"] == "2" and answers["d_reasons"] == "1,3"
    assert answers["d_why"] == "Chờ gần hai tiếng"
    # Sent again (a double tap): counted once.
    again = client.post(
        f"/s/{desk.token}/send",
        data={"nonce": nonce, "step": "2", **{**_all_ratings(4), "d_staff": "2"}},
    )
    assert again.status_code == 303 and len(responses()) == 1


def test_hidden_questions_are_never_stored(client, desk, desk_qn, responses) -> None:  # type: ignore[no-untyped-def]
    nonce = nonce_of(client.get(f"/s/{desk.token}").get_data(as_text=True))
    # Every rating above 3: the reasons and the comment are hidden, whatever is sent.
    sent = client.post(
        f"/s/{desk.token}/send",
        data=MultiDict(
            [
                ("nonce", nonce),
                ("step", "2"),
                *_all_ratings(5).items(),
                ("d_reasons", "2"),
                ("d_why", "không nên lưu"),
            ]
        ),
    )
    assert sent.status_code == 303
    assert set(_answers(responses()[0])) == set(RATINGS)


def test_reasons_outside_the_choices_are_refused(client, desk, desk_qn, responses) -> None:  # type: ignore[no-untyped-def]
    nonce = nonce_of(client.get(f"/s/{desk.token}").get_data(as_text=True))
    for bad in (["12"], ["1", "1"], ["x"]):
        sent = client.post(
            f"/s/{desk.token}/send",
            data=MultiDict(
                [("nonce", nonce), ("step", "2"), ("d_overall", "1")]
                + [("d_reasons", v) for v in bad]
            ),
        )
        assert sent.status_code == 400
    assert responses() == []


def test_kiosk_faces_then_one_reason_then_thanks(client, desk, desk_qn, responses) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/k/{desk.token}").get_data(as_text=True)
    assert page.count('name="d_overall"') == 5 and "Rất hài lòng" in page
    nonce = nonce_of(page)
    low = client.post(f"/k/{desk.token}", data={"nonce": nonce, "d_overall": "2"})
    assert low.status_code == 200
    html = low.get_data(as_text=True)
    assert html.count('name="d_reasons"') == 9 and 'id="skip"' in html
    assert responses() == []
    done = client.post(
        f"/k/{desk.token}",
        data={"nonce": nonce, "step": "2", "d_overall": "2", "d_reasons": "6"},
    )
    assert done.status_code == 303 and done.headers["Location"].endswith("/thanks")
    thanks = client.get(done.headers["Location"]).get_data(as_text=True)
    match = re.search(r'http-equiv="refresh" content="(\d+);', thanks)
    assert match and int(match.group(1)) <= 5
    stored = responses()
    assert _answers(stored[0]) == {"d_overall": "2", "d_reasons": "6"}
    assert stored[0].link_id is None  # the kiosk offers no full survey
    # A happy visitor: one tap, stored, thanks.
    nonce = nonce_of(client.get(f"/k/{desk.token}").get_data(as_text=True))
    high = client.post(f"/k/{desk.token}", data={"nonce": nonce, "d_overall": "5"})
    assert high.status_code == 303 and len(responses()) == 2
    # A low rating whose reason screen is skipped: the rating alone is stored.
    nonce = nonce_of(client.get(f"/k/{desk.token}").get_data(as_text=True))
    assert (
        client.post(f"/k/{desk.token}", data={"nonce": nonce, "d_overall": "1"}).status_code == 200
    )
    skipped = client.post(f"/k/{desk.token}", data={"nonce": nonce, "step": "2", "d_overall": "1"})
    assert skipped.status_code == 303
    assert _answers(responses()[-1]) == {"d_overall": "1"}


def test_full_survey_after_the_rating_is_linked_and_answered_once(
    client, desk, desk_qn, campaign, responses
) -> None:  # type: ignore[no-untyped-def]
    nonce = nonce_of(client.get(f"/s/{desk.token}").get_data(as_text=True))
    sent = client.post(f"/s/{desk.token}/send", data={"nonce": nonce, "d_overall": "5"})
    link = responses()[0].link_id
    full_url = f"/s/{desk.token}/full/{link}"
    page = client.get(full_url).get_data(as_text=True)
    assert 'name="q1"' in page and "d_overall" not in page
    full_nonce = nonce_of(page)
    done = client.post(full_url, data={"nonce": full_nonce, "q1": "4", "q23": "2"})
    assert done.status_code == 303
    rating, full = responses()
    assert full.questionnaire_id == campaign.questionnaire_id
    assert full.link_id == rating.link_id == link
    assert full.channel == rating.channel and full.service_point_id == desk.id
    assert sent.status_code == 303
    # The link answers one full survey: a second form is not stored.
    assert client.get(full_url).status_code == 303
    # A link no rating carries is not a survey.
    assert client.get(f"/s/{desk.token}/full/{'A' * 22}").status_code == 404
    assert len(responses()) == 2
