"""Nothing is kept between requests: every input a report reads shows in the next report,
through the service and on the page an analyst opens."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, text
from support import login, make_user

from surveyapp.data import locks
from surveyapp.extensions import db
from surveyapp.models import (
    Campaign,
    Channel,
    Response,
    ResponseStatus,
    TallyJournal,
    TransactionVolume,
)
from surveyapp.models.margins import PopulationMargin
from surveyapp.models.sampling import Form
from surveyapp.services import abuse, batches, reports


def _first(campaign: Campaign, channel: Channel) -> Response:
    """The campaign's first response on ``channel``."""
    return db.session.scalars(
        select(Response)
        .where(Response.campaign_id == campaign.id, Response.channel == channel)
        .order_by(Response.id)
    ).first()


def _paper_response(campaign: Campaign) -> Response:
    return _first(campaign, Channel.PAPER)


def _another(old: Response, nonce: str, **fields: object) -> None:
    """Store a new final response like ``old``: its campaign, questionnaire, channel, unit,
    desk and design (``fields`` override them)."""
    like = {
        "campaign_id": old.campaign_id,
        "questionnaire_id": old.questionnaire_id,
        "channel": old.channel,
        "unit_id": old.unit_id,
        "service_point_id": old.service_point_id,
        "stratum": old.stratum,
        "psu": old.psu,
        "ssu": old.ssu,
        "weight": old.weight,
        "fpc1": old.fpc1,
        "fpc2": old.fpc2,
    }
    db.session.add(Response(status=ResponseStatus.FINAL, nonce=nonce, **{**like, **fields}))
    db.session.commit()


def _new_paper_response(campaign: Campaign, nonce: str) -> None:
    _another(_paper_response(campaign), nonce, ssu=nonce)


def _first_rating(campaign: Campaign) -> Response:
    return _first(campaign, Channel.QR)


def _estimates(report: reports.Report) -> dict[tuple, float]:
    return {(r["code"], str(r["domain"])): r["estimate"] for r in report.estimates}


def test_every_input_shows_in_the_next_report(app, demo_data) -> None:
    campaign = db.session.get(Campaign, demo_data.campaign_id)
    first = reports.build(campaign)

    _new_paper_response(campaign, "fresh-1")
    assert reports.build(campaign).design["n"] == first.design["n"] + 1

    _paper_response(campaign).status = ResponseStatus.VOID
    db.session.commit()
    assert reports.build(campaign).design["n"] == first.design["n"]

    target = campaign.targets[0]
    target.target_pct = Decimal("12.34")
    db.session.commit()
    row = next(r for r in reports.build(campaign).estimates if r["code"] == target.index_node.code)
    assert row["target"] == pytest.approx(0.1234)

    # A weight, a form's fate (non-response factors) and the margins (calibration) each move
    # the estimates.
    before = _estimates(reports.build(campaign))
    other = db.session.scalars(
        select(Response)
        .where(Response.campaign_id == campaign.id, Response.channel == Channel.PAPER)
        .order_by(Response.id.desc())
    ).first()
    other.weight = other.weight * 3
    db.session.commit()
    after_weight = _estimates(reports.build(campaign))
    assert after_weight != before
    db.session.execute(delete(PopulationMargin).where(PopulationMargin.campaign_id == campaign.id))
    db.session.commit()
    uncalibrated = reports.build(campaign)
    assert uncalibrated.design["margins"] != first.design["margins"]
    assert _estimates(uncalibrated) != after_weight
    # Without calibration, a reserve household brought into the sample raises its village's
    # non-response factor (it has not answered yet).
    reserve = db.session.scalars(
        select(Form)
        .where(Form.campaign_id == campaign.id, Form.reserve.is_(True))
        .order_by(Form.id)
    ).first()
    assert reserve is not None
    with app.test_request_context():
        batches.release_reserve(reserve)
    db.session.commit()
    assert _estimates(reports.build(campaign)) != _estimates(uncalibrated)


def test_desk_ratings_holds_releases_and_volumes_show_at_once(app, demo_data) -> None:
    campaign = db.session.get(Campaign, demo_data.current_campaign_id)
    first = reports.build(campaign, sample="convenience", by="desk")
    rating = _first_rating(campaign)
    rating.held = True
    db.session.commit()
    held = reports.build(campaign, sample="convenience", by="desk")
    assert held.design["n"] == first.design["n"] - 1
    with app.test_request_context():
        assert abuse.release(rating)
    db.session.commit()
    assert reports.build(campaign, sample="convenience", by="desk").design["n"] == first.design["n"]
    national = _estimates(reports.build(campaign, sample="convenience"))
    volume = db.session.scalars(
        select(TransactionVolume).where(
            TransactionVolume.service_point_id == rating.service_point_id
        )
    ).first()
    assert volume is not None
    volume.transactions = volume.transactions * 10 + 1
    db.session.commit()
    # The desk's weight grew tenfold: the whole sample's shares move towards its ratings.
    assert _estimates(reports.build(campaign, sample="convenience")) != national


def test_the_page_counts_a_rating_stored_a_moment_ago(app, client, demo_data) -> None:
    make_user("analyst1", "analyst")
    login(client, "analyst1")
    campaign = db.session.get(Campaign, demo_data.current_campaign_id)
    before = reports.build(campaign, sample="convenience", by="desk").design["n"]
    rating = _first_rating(campaign)
    rating.status = ResponseStatus.VOID
    db.session.commit()
    response = client.get(f"/dashboard/{campaign.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    after = reports.build(campaign, sample="convenience", by="desk").design["n"]
    assert after == before - 1
    assert f"{after:,}".replace(",", ".") in page


def test_fold_command_does_the_reports_folds_ahead(app, runner, demo_data) -> None:
    """``surveyapp fold`` leaves nothing for the next report to write (a read replica's
    dashboards need that done on the primary)."""
    from surveyapp.data import tallies
    from surveyapp.models import TallyJournal

    campaign = db.session.get(Campaign, demo_data.current_campaign_id)
    rating = _first_rating(campaign)
    rating.status = ResponseStatus.VOID
    db.session.commit()
    assert db.session.scalar(select(TallyJournal.id).limit(1)) is not None
    result = runner.invoke(args=["fold"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(TallyJournal.id).limit(1)) is None
    assert tallies.fold() == 0
    again = runner.invoke(args=["fold", "--campaign", str(campaign.id)])
    assert again.exit_code == 0, again.output
    missing = runner.invoke(args=["fold", "--campaign", "99999"])
    assert missing.exit_code != 0 and "99999" in missing.output


def test_a_read_replica_reports_as_the_primary_last_folded(
    app, demo_data, login_as, pg_schema
) -> None:
    """A dashboard served from a read-only database (a streaming replica) neither folds
    nor fails: it shows the tallies as the primary last folded them, and the primary's
    next fold brings the new rating in. The replica is this session's own transaction, set
    read-only as a hot standby's are."""
    if pg_schema is None:
        pytest.skip("a read replica is a PostgreSQL server")
    campaign = db.session.get(Campaign, demo_data.current_campaign_id)
    client = login_as("analyst")
    folded_n = reports.build(campaign, sample="convenience").design["n"]
    _another(_first_rating(campaign), "replica-rating")

    db.session.execute(text("SET TRANSACTION READ ONLY"))
    assert locks.read_only()
    assert reports.build(campaign, sample="convenience").design["n"] == folded_n
    page = client.get(f"/dashboard/{campaign.id}?by=commune")
    assert page.status_code == 200, page.get_data(as_text=True)[-500:]
    assert locks.read_only()  # the same read-only transaction served the page
    assert db.session.scalar(select(func.count()).select_from(TallyJournal)) > 0
    db.session.rollback()

    assert not locks.read_only()
    assert reports.build(campaign, sample="convenience").design["n"] == folded_n + 1
