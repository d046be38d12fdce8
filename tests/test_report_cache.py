"""Reports are kept per app until their inputs change: a new response, a voided one, an edited
target or weight must show at once."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Campaign, Response, ResponseStatus
from surveyapp.services import report_cache, reports
from surveyapp.services.reports import building as build_module
from surveyapp.services.reports import ranking as ranking_module


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The samples actually computed (cache misses), in order."""
    calls: list[str] = []
    real = build_module._build

    def counting(campaign: Campaign, **kw: Any) -> reports.Report:
        calls.append(kw["sample"])
        return real(campaign, **kw)

    monkeypatch.setattr(build_module, "_build", counting)
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
    _new_paper_response(campaign, "cache-test")
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
        # One of this campaign's forms (the demo has two campaigns) not refused already.
        form = db.session.scalars(
            select(Form)
            .where(
                Form.campaign_id == campaign.id,
                Form.reserve.is_(False),
                Form.fate.is_distinct_from(FormFate.REFUSED),
            )
            .order_by(Form.id)
        ).first()
        batches.set_fate(form, FormFate.REFUSED)
        db.session.commit()
        after_fate = report_cache.fingerprint(campaign)
        assert after_fate != before
        db.session.execute(delete(PopulationMargin))
        db.session.commit()
        assert report_cache.fingerprint(campaign) != after_fate


def _new_paper_response(campaign: Campaign, nonce: str) -> None:
    old = _paper_response(campaign)
    db.session.add(
        Response(
            campaign=campaign,
            questionnaire=campaign.questionnaire,
            channel=old.channel,
            nonce=nonce,
            unit_id=old.unit_id,
            stratum=old.stratum,
            psu=old.psu,
            ssu=nonce,
            weight=old.weight,
            fpc1=old.fpc1,
            fpc2=old.fpc2,
        )
    )
    db.session.commit()


def test_another_process_serves_the_stored_report(app, demo_data, computed) -> None:
    """A report computed by one process (a gunicorn worker) is stored with its inputs'
    fingerprint; another process, or this one after a restart, reads it instead of computing
    it again, until the inputs change."""
    campaign = db.session.get(Campaign, demo_data.campaign_id)
    first = reports.build(campaign)
    app.extensions.pop(report_cache.EXTENSION)  # a new process: nothing kept in memory
    again = reports.build(campaign)
    assert computed == ["probability"]
    assert again.estimates == first.estimates and again.computed_at == first.computed_at
    assert not again.stale
    _new_paper_response(campaign, "other-process")
    app.extensions.pop(report_cache.EXTENSION)
    assert reports.build(campaign).design["n"] == first.design["n"] + 1
    assert len(computed) == 2


@pytest.mark.parametrize("app_config", [{"REPORT_STALE_SECONDS": 600}])
def test_the_page_shows_the_last_report_while_the_fresh_one_is_computed(
    app, demo_data, computed, login_as
) -> None:
    campaign = db.session.get(Campaign, demo_data.campaign_id)
    client = login_as("analyst")
    page = client.get(f"/dashboard/{campaign.id}")
    assert page.status_code == 200
    assert "đang được cập nhật" not in page.get_data(as_text=True)
    first = reports.build(campaign, by="district")
    done = len(computed)

    _new_paper_response(campaign, "while-fieldwork-goes-on")
    # Stale-or-fresh is for the page only: a caller that does not ask for it waits.
    shown = reports.build(campaign, by="district", stale_ok=True)
    assert shown.stale and shown.design["n"] == first.design["n"]
    assert shown.computed_at == first.computed_at
    page = client.get(f"/dashboard/{campaign.id}").get_data(as_text=True)
    assert "đang được cập nhật" in page and f"từ {first.design['n']} phiếu" in page
    report_cache.wait_for_refreshes()
    assert len(computed) > done  # the fresh reports were computed in the background
    fresh = reports.build(campaign, by="district", stale_ok=True)
    assert not fresh.stale and fresh.design["n"] == first.design["n"] + 1
    page = client.get(f"/dashboard/{campaign.id}").get_data(as_text=True)
    assert "đang được cập nhật" not in page
    # The downloads are what the page shows, and say when they were computed; the command
    # line (like the API) waits for the fresh report.
    before = client.get(f"/dashboard/{campaign.id}/report.json").get_json()
    client.get(f"/dashboard/{campaign.id}/report.html")
    _new_paper_response(campaign, "download-after-another")
    data = client.get(f"/dashboard/{campaign.id}/report.json").get_json()
    assert data["stale"] is True and data["design"]["n"] == first.design["n"] + 1
    assert data["computed_at"] == before["computed_at"] and not before["stale"]
    html = client.get(f"/dashboard/{campaign.id}/report.html").get_data(as_text=True)
    assert f"từ {first.design['n'] + 1} phiếu" in html
    report_cache.wait_for_refreshes()
    result = app.test_cli_runner().invoke(args=["report", "--campaign", str(campaign.id)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["design"]["n"] == first.design["n"] + 2


@pytest.mark.parametrize("app_config", [{"REPORT_STALE_SECONDS": 600}])
def test_a_snapshot_too_old_is_not_shown(app, demo_data, computed) -> None:
    from datetime import timedelta

    from surveyapp.models import ReportSnapshot

    campaign = db.session.get(Campaign, demo_data.campaign_id)
    first = reports.build(campaign)
    for snapshot in db.session.scalars(select(ReportSnapshot)):
        snapshot.computed_at = snapshot.computed_at - timedelta(seconds=601)
    db.session.commit()
    app.extensions.pop(report_cache.EXTENSION)
    _new_paper_response(campaign, "after-a-long-pause")
    shown = reports.build(campaign, stale_ok=True)
    assert not shown.stale and shown.design["n"] == first.design["n"] + 1
    assert computed == ["probability", "probability"]


def test_a_request_takes_the_fingerprint_once_until_it_commits(app, demo_data, computed) -> None:
    """A page asks for several reports: one fingerprint per request, but a change this
    request's session commits must still show in the next report it asks for."""
    campaign = db.session.get(Campaign, demo_data.campaign_id)
    with app.test_request_context():
        first = reports.build(campaign)
        reports.build(campaign)  # computing committed (the response bits): taken once more
        queries: list[str] = []
        from sqlalchemy import event

        def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
            queries.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            reports.build(campaign)
            reports.build(campaign)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert not [q for q in queries if "sum(responses.id)" in q]
        _new_paper_response(campaign, "same-request")
        assert reports.build(campaign).design["n"] == first.design["n"] + 1
    assert computed == ["probability", "probability"]


@pytest.mark.parametrize("app_config", [{"REPORT_STALE_SECONDS": 600, "REPORT_CACHE_SECONDS": 0}])
def test_a_report_past_its_time_is_shown_while_recomputed(app, demo_data, computed) -> None:
    """Past REPORT_CACHE_SECONDS with the same inputs (it is recomputed only for what the
    fingerprint cannot see, a renamed unit), the page still answers at once."""
    campaign = db.session.get(Campaign, demo_data.campaign_id)
    first = reports.build(campaign)
    shown = reports.build(campaign, stale_ok=True)
    assert not shown.stale and shown.computed_at == first.computed_at
    report_cache.wait_for_refreshes()
    assert computed == ["probability", "probability"]
    assert reports.build(campaign, stale_ok=True).computed_at > first.computed_at
    report_cache.wait_for_refreshes()  # that view started one more refresh (TTL 0)


def test_stored_reports_are_capped_per_campaign(app, demo_data, monkeypatch, computed) -> None:
    from sqlalchemy import func

    from surveyapp.data.queries import Filters
    from surveyapp.models import ReportSnapshot

    monkeypatch.setattr(report_cache, "SNAPSHOTS_PER_CAMPAIGN", 2)
    campaign = db.session.get(Campaign, demo_data.campaign_id)
    periods = [p.id for p in campaign.periods]
    reports.build(campaign)
    for period in periods:
        reports.build(campaign, filters=Filters(period_id=period))
    reports.rank_intervals(campaign, reports.build(campaign, by="district"))
    stored = db.session.scalar(select(func.count()).select_from(ReportSnapshot))
    assert len(periods) >= 1 and stored == 2
    # The most recent stay: the last one built is served from the store by a new process,
    # the first one was dropped and is computed again. Rankings are not stored.
    app.extensions.pop(report_cache.EXTENSION)
    done = len(computed)
    reports.build(campaign, by="district")
    assert len(computed) == done
    reports.build(campaign)
    assert len(computed) == done + 1


@pytest.mark.parametrize("app_config", [{"REPORT_STALE_SECONDS": 600}])
def test_a_refresh_waits_for_its_request_to_end(app, demo_data, computed) -> None:
    """The refresh would take the CPU from the page it keeps fast: it starts once the
    request that showed the old report has ended."""
    campaign = db.session.get(Campaign, demo_data.campaign_id)
    reports.build(campaign)
    _new_paper_response(campaign, "refresh-after-the-request")
    with app.test_request_context():
        assert reports.build(campaign, stale_ok=True).stale
        # queued, and held by an event only the end of this request sets
        assert report_cache.held_refreshes() == 1
        assert computed == ["probability"]
    report_cache.wait_for_refreshes()
    assert computed == ["probability", "probability"]


def test_a_ranking_follows_its_report_not_the_latest_responses(
    demo_data, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page ranks the report it shows: a stale report keeps its ranking while new
    responses arrive, and a fresh report gets its own."""
    calls: list[str] = []
    real = ranking_module._rank_intervals

    def counting(campaign: Campaign, report: reports.Report, *args: Any) -> Any:
        calls.append(report.inputs)
        return real(campaign, report, *args)

    monkeypatch.setattr(ranking_module, "_rank_intervals", counting)
    campaign = db.session.get(Campaign, demo_data.campaign_id)
    report = reports.build(campaign, by="district")
    first = reports.rank_intervals(campaign, report)
    assert first.ranks
    _new_paper_response(campaign, "ranking-stays")
    assert reports.rank_intervals(campaign, report).ranks == first.ranks
    assert calls == [report.inputs]
    fresh = reports.build(campaign, by="district")
    reports.rank_intervals(campaign, fresh)
    assert calls == [report.inputs, fresh.inputs] and fresh.inputs != report.inputs


def test_an_unreadable_snapshot_is_computed_again(app, demo_data, computed) -> None:
    """A snapshot stored by a version whose classes have changed is never shown."""
    from surveyapp.models import ReportSnapshot

    campaign = db.session.get(Campaign, demo_data.campaign_id)
    first = reports.build(campaign)
    for snapshot in db.session.scalars(select(ReportSnapshot)):
        snapshot.payload = b"not a pickle"
    db.session.commit()
    app.extensions.pop(report_cache.EXTENSION)
    again = reports.build(campaign, stale_ok=True)
    assert again.estimates == first.estimates and not again.stale
    assert computed == ["probability", "probability"]
