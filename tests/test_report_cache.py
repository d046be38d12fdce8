"""Reports are kept per app until their inputs change: a new response, a voided one, an edited
target or weight must show at once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Campaign, Response, ResponseStatus
from surveyapp.services import report_cache, reports


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The samples actually computed (cache misses), in order."""
    calls: list[str] = []
    real = reports._build

    def counting(campaign: Campaign, **kw: Any) -> reports.Report:
        calls.append(kw["sample"])
        return real(campaign, **kw)

    monkeypatch.setattr(reports, "_build", counting)
    return calls


def _paper_response(campaign: Campaign) -> Response:
    return db.session.scalars(
        select(Response).where(Response.campaign_id == campaign.id, Response.channel == "paper")
    ).first()


def test_a_new_response_or_target_changes_the_report(demo_data, computed) -> None:
    campaign = db.session.get(Campaign, demo_data.campaign_id)
    first = reports.build(campaign)
    again = reports.build(campaign)
    assert computed == ["probability"] and again.estimates == first.estimates
    again.estimates.clear()  # callers get a copy: changing it changes nothing kept
    assert reports.build(campaign).estimates == first.estimates and len(computed) == 1

    old = _paper_response(campaign)
    db.session.add(
        Response(
            campaign=campaign,
            questionnaire=campaign.questionnaire,
            channel=old.channel,
            nonce="cache-test",
            unit_id=old.unit_id,
            stratum=old.stratum,
            psu=old.psu,
            ssu="cache-test",
            weight=old.weight,
            fpc1=old.fpc1,
            fpc2=old.fpc2,
        )
    )
    db.session.commit()
    assert reports.build(campaign).design["n"] == first.design["n"] + 1
    assert len(computed) == 2

    old.status = ResponseStatus.VOID
    db.session.commit()
    assert reports.build(campaign).design["n"] == first.design["n"]

    target = campaign.targets[0]
    target.target_pct = Decimal("12.34")
    db.session.commit()
    row = next(r for r in reports.build(campaign).estimates if r["code"] == target.index_node.code)
    assert row["target"] == pytest.approx(0.1234)

    other = _paper_response(campaign)
    other.weight = other.weight * 3
    db.session.commit()
    reports.build(campaign)
    assert len(computed) == 5


@pytest.mark.parametrize("app_config", [{"REPORT_CACHE_SIZE": 0}])
def test_the_cache_can_be_turned_off(demo_data, computed) -> None:
    campaign = db.session.get(Campaign, demo_data.campaign_id)
    reports.build(campaign)
    reports.build(campaign)
    assert computed == ["probability", "probability"]


def test_fates_and_margins_change_the_fingerprint(app, demo_data) -> None:
    """Non-response factors follow the forms' fates and calibration follows the margins, so
    either must give a new report."""
    from sqlalchemy import delete

    from surveyapp.models.margins import PopulationMargin
    from surveyapp.models.sampling import Form, FormFate
    from surveyapp.services import batches

    campaign = db.session.get(Campaign, demo_data.campaign_id)
    with app.test_request_context():
        before = report_cache.fingerprint(campaign)
        form = db.session.scalars(select(Form).where(Form.reserve.is_(False))).first()
        batches.set_fate(form, FormFate.REFUSED)
        db.session.commit()
        after_fate = report_cache.fingerprint(campaign)
        assert after_fate != before
        db.session.execute(delete(PopulationMargin))
        db.session.commit()
        assert report_cache.fingerprint(campaign) != after_fate
