"""Counted once: the same form sent again (double tap, back button, network retry, several
at once) stores one response. The UNIQUE constraint on ``responses.nonce`` decides."""

from __future__ import annotations

import os
import re
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from surveyapp.extensions import db
from surveyapp.models import Response
from surveyapp.models.campaigns import Channel
from surveyapp.services import submissions

USING_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgresql", "postgres"))


def test_double_tap_and_back_button_resubmit_store_one(
    client, desk, fresh_nonce, responses
) -> None:
    url = f"/s/{desk.token}"
    data = {"nonce": fresh_nonce(url), "q1": "5", "q2": "4"}
    first = client.post(url, data=data)
    again = client.post(url, data=data)  # double tap / retry after a lost reply
    later = client.post(url, data={**data, "q2": "1"})  # back button, changed, resent
    for response in (first, again, later):
        assert response.status_code == 303
        assert response.headers["Location"].endswith("/thanks")
    [stored] = responses()
    assert {a.question.code: a.value for a in stored.answers} == {"q1": 5, "q2": 4}


def test_each_form_shown_gets_its_own_nonce(client, desk, fresh_nonce, responses) -> None:
    url = f"/s/{desk.token}"
    one, two = fresh_nonce(url), fresh_nonce(url)
    assert one != two
    client.post(url, data={"nonce": one, "q1": "3"})
    client.post(url, data={"nonce": two, "q1": "3"})
    assert len(responses()) == 2


def test_the_database_refuses_a_second_row_with_the_same_nonce(app, desk, campaign) -> None:
    """No check-then-insert: the constraint itself holds the line."""
    row = dict(
        campaign_id=campaign.id,
        questionnaire_id=campaign.questionnaire_id,
        channel="qr",
        nonce="same-nonce",
    )
    db.session.add(Response(**row))
    db.session.commit()
    db.session.add(Response(**row))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("threads", [8])
def test_concurrent_identical_posts_store_exactly_one_row(
    app, desk, fresh_nonce, threads: int
) -> None:
    """Fire the same POST from several threads at once (PostgreSQL in the PG run)."""
    url = f"/s/{desk.token}"
    data = {"nonce": fresh_nonce(url), "q1": "4", "q5": "2", "sex": "1"}
    barrier = threading.Barrier(threads)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def fire() -> None:
        try:
            local = app.test_client()
            barrier.wait(timeout=10)
            statuses.append(local.post(url, data=data).status_code)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=fire) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert not errors, errors
    assert statuses == [303] * threads
    db.session.expire_all()
    count = db.session.scalar(
        select(func.count()).select_from(Response).where(Response.nonce == data["nonce"])
    )
    assert count == 1
    answers = db.session.scalar(select(Response).where(Response.nonce == data["nonce"])).answers
    assert sorted((a.question.code, a.value) for a in answers) == [
        ("q1", 4),
        ("q5", 2),
        ("sex", 1),
    ]


def test_store_reports_a_duplicate_without_raising(app, desk, campaign) -> None:
    with app.test_request_context():
        sub = submissions.Submission(
            campaign_id=campaign.id,
            questionnaire_id=campaign.questionnaire_id,
            channel=Channel.QR,
            nonce=submissions.issue_nonce("qr:x"),
            answers={"q1": 4},
            unit_id=desk.unit_id,
            service_point_id=desk.id,
        )
        first = submissions.store(sub)
        second = submissions.store(sub)
    assert first.created and not second.created
    assert first.response_id == second.response_id


def test_postgres_run_is_really_on_postgres(app) -> None:
    dialect = db.engine.dialect.name
    assert dialect == ("postgresql" if USING_POSTGRES else "sqlite")


def test_form_posts_to_its_own_url_and_is_kept_for_the_back_button(client, desk, responses) -> None:
    """A POST invalidates the browser's cached copy of the URL it targets; posting to
    ``/send`` keeps the cached form (and its nonce) for Back."""
    page = client.get(f"/s/{desk.token}")
    html = page.get_data(as_text=True)
    assert f'action="/s/{desk.token}/send"' in html
    assert page.headers["Cache-Control"].startswith("private, max-age=")
    nonce = re.search(r'name="nonce" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    for _ in range(2):
        sent = client.post(f"/s/{desk.token}/send", data={"nonce": nonce, "q1": "4"})
        assert sent.status_code == 303
    assert len(responses()) == 1
    assert client.get(f"/s/{desk.token}/send").status_code == 405
