"""The common QR submission runs on the driver's cursor (services.submissions.store): it must
store what the ORM would, and fail as the ORM path fails (an outage is a 503, a dead pooled
connection is replaced)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select
from support import refused_connection

from surveyapp.extensions import db
from surveyapp.models import Response
from surveyapp.models.campaigns import Channel
from surveyapp.models.responses import ResponseStatus
from surveyapp.services import submissions


def test_a_qr_submission_is_stored_with_the_types_the_orm_reads(
    client, desk, fresh_nonce, responses
) -> None:
    url = f"/s/{desk.token}"
    data = {f"q{i}": "5" for i in range(1, 13)} | {"comment": "Rất tốt\nCảm ơn", "sex": "2"}
    data["nonce"] = fresh_nonce(url)
    before = datetime.now(UTC)
    assert client.post(f"{url}/send", data=data).status_code == 303
    [stored] = responses()
    assert stored.nonce == data["nonce"]
    assert stored.channel == Channel.QR and stored.status == ResponseStatus.FINAL
    assert stored.service_point_id == desk.id and stored.unit_id == desk.unit_id
    assert stored.language == "vi" and stored.respondent_type == "citizen"
    # Twelve equal ratings: the straight-line flag, a JSON list; not held (no burst).
    assert stored.flags == ["straight_line"] and stored.held is False
    at = stored.submitted_at
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= at <= datetime.now(UTC) + timedelta(seconds=1)
    answers = {a.question.code: (a.value, a.text) for a in stored.answers}
    assert answers["q1"] == (5, None) and answers["sex"] == (2, None)
    assert answers["comment"] == (None, "Rất tốt\nCảm ơn")
    assert len(answers) == 14


def test_an_outage_after_the_desk_was_cached_is_a_503_and_the_resend_stores_once(
    app, client, desk, fresh_nonce, responses
) -> None:
    """The desk's campaign is cached after a first submission, so the next one reaches the
    driver path without any ORM query: an unreachable database must still be a 503."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    url = f"/s/{desk.token}"
    first = {"nonce": fresh_nonce(url), "q1": "4"}
    second = {"nonce": fresh_nonce(url), "q1": "2"}
    assert client.post(f"{url}/send", data=first).status_code == 303
    engine = db.engine
    fail = refused_connection()
    db.session.remove()
    engine.dispose()
    event.listen(engine, "do_connect", fail)
    try:
        response = client.post(f"{url}/send", data=second)
        assert response.status_code == 503, response.status_code
        assert int(response.headers["Retry-After"]) > 0
    finally:
        event.remove(engine, "do_connect", fail)
        db.session.remove()
        engine.dispose()
    assert client.post(f"{url}/send", data=second).status_code == 303
    assert client.post(f"{url}/send", data=second).status_code == 303
    assert [r.nonce for r in responses()] == [first["nonce"], second["nonce"]]


def test_a_repeated_nonce_on_the_driver_path_returns_the_first_response(
    app, desk, campaign
) -> None:
    with app.test_request_context():
        sub = submissions.Submission(
            campaign_id=campaign.id,
            questionnaire_id=campaign.questionnaire_id,
            channel=Channel.KIOSK,
            nonce=submissions.issue_nonce("kiosk:x"),
            answers={"q1": 4, "comment": "Tốt"},
            unit_id=desk.unit_id,
            service_point_id=desk.id,
            flags=["burst"],
        )
        first = submissions.store(sub)
        second = submissions.store(sub)
    assert first.created and not second.created
    assert first.response_id == second.response_id
    stored = db.session.scalar(select(Response).where(Response.nonce == sub.nonce))
    assert stored is not None and stored.held is True and stored.flags == ["burst"]
    assert stored.channel == Channel.KIOSK


def test_a_failing_answer_leaves_no_response_behind(app, desk, campaign, monkeypatch) -> None:
    """The response and its answers are one transaction on the driver path too: an answer the
    database refuses (here a question id that does not exist) rolls the response back."""
    import importlib

    from sqlalchemy.exc import IntegrityError

    store_module = importlib.import_module("surveyapp.services.submissions.store")
    real = store_module._answer_columns

    def broken(spec, answers):  # type: ignore[no-untyped-def]
        qids, values, texts = real(spec, answers)
        return [*qids, 10**9], [*values, 1], [*texts, None]

    monkeypatch.setattr(store_module, "_answer_columns", broken)
    nonce = "atomic-" + submissions.issue_nonce("qr:x")[:40]
    with app.test_request_context():
        sub = submissions.Submission(
            campaign_id=campaign.id,
            questionnaire_id=campaign.questionnaire_id,
            channel=Channel.QR,
            nonce=nonce,
            answers={"q1": 4},
            unit_id=desk.unit_id,
            service_point_id=desk.id,
        )
        try:
            submissions.store(sub)
        except IntegrityError:
            pass
        else:  # pragma: no cover - the foreign key must refuse the answer
            raise AssertionError("an answer to no question was stored")
    db.session.expire_all()
    assert db.session.scalar(select(Response).where(Response.nonce == nonce)) is None
