"""Issue 12, defect 13: burst-flagged responses are held out of the estimates by default,
listed for analysts with their flag and desk, stated on every report format, and released
one by one by an analyst, each release in the audit log."""

from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook
from sqlalchemy import select
from support import login, make_user, nonce_of

from surveyapp.extensions import db
from surveyapp.models import AuditLog, Response
from surveyapp.services import abuse, reports

BURST = 60


def _burst(client, desk, fresh_nonce) -> None:  # type: ignore[no-untyped-def]
    url = f"/s/{desk.token}"
    for n in range(BURST):
        data = {"nonce": fresh_nonce(url), "q1": str(4 + n % 2), "q2": str(5 - n % 2)}
        response = client.post(url, data=data, environ_base={"REMOTE_ADDR": "192.0.2.50"})
        assert response.status_code == 303


def _n(campaign) -> int:  # type: ignore[no-untyped-def]
    return int(reports.build(campaign, sample="convenience").design["n"])


def test_a_burst_from_one_address_is_held_out_and_can_be_released(
    app, client, campaign, desk, fresh_nonce, responses
) -> None:
    _burst(client, desk, fresh_nonce)
    stored = responses()
    assert len(stored) == BURST  # nothing is thrown away
    held = [r for r in stored if r.held]
    # The first ratings from the address look like anyone's; from the third on it is a burst.
    assert len(held) == BURST - 2 and all("burst_client" in r.flags for r in held)
    report = reports.build(campaign, sample="convenience")
    assert report.design["n"] == 2
    assert report.campaign["held_out"] == BURST - 2
    listed, held_count = abuse.flagged(campaign)
    assert held_count == BURST - 2 and sorted(f.id for f in listed) == sorted(r.id for r in held)

    make_user("analyst1", "analyst")
    login(client, "analyst1")
    page = client.get(f"/dashboard/{campaign.id}/flagged")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert desk.name in html and "Nhiều lượt gửi từ cùng một thiết bị" in html
    assert html.count('action="/dashboard/') >= BURST - 2
    assert "đã loại khỏi ước lượng" in client.get(f"/dashboard/{campaign.id}").get_data(
        as_text=True
    )

    released = held[0]
    answer = client.post(f"/dashboard/{campaign.id}/flagged/{released.id}/release")
    assert answer.status_code == 303
    db.session.expire_all()
    assert not db.session.get(Response, released.id).held
    assert _n(campaign) == 3
    assert reports.build(campaign, sample="convenience").campaign["held_out"] == BURST - 3
    [entry] = db.session.scalars(select(AuditLog).where(AuditLog.action == "release")).all()
    assert entry.entity == "response" and entry.entity_id == str(released.id)
    assert entry.before == {"held": True} and entry.after == {"held": False}
    assert entry.user_id is not None
    # Releasing it again changes nothing and logs nothing more.
    client.post(f"/dashboard/{campaign.id}/flagged/{released.id}/release")
    assert db.session.query(AuditLog).filter_by(action="release").count() == 1


def test_the_held_out_count_is_on_every_report_format(
    app, client, campaign, desk, fresh_nonce
) -> None:
    _burst(client, desk, fresh_nonce)
    make_user("analyst1", "analyst")
    login(client, "analyst1")
    held = BURST - 2
    data = client.get(f"/dashboard/{campaign.id}/report.json").get_json()
    assert data["campaign"]["held_out"] == 0  # the JSON is the probability sample's
    html = client.get(f"/dashboard/{campaign.id}/report.html").get_data(as_text=True)
    assert f"{held} phản hồi bị gắn cờ gửi dồn dập đã loại khỏi ước lượng" in html
    workbook = load_workbook(io.BytesIO(client.get(f"/dashboard/{campaign.id}/report.xlsx").data))
    cells = [str(c.value) for ws in workbook for row in ws.iter_rows() for c in row if c.value]
    assert any(f"{held} phản hồi bị gắn cờ" in c for c in cells)
    result = app.test_cli_runner().invoke(
        args=["report", "--campaign", str(campaign.id), "--sample", "convenience"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["campaign"]["held_out"] == held


def test_only_analysts_release(app, client, campaign, desk, fresh_nonce, responses) -> None:
    _burst(client, desk, fresh_nonce)
    target = next(r for r in responses() if r.held)
    make_user("keyer", "enumerator")
    login(client, "keyer")
    assert client.post(f"/dashboard/{campaign.id}/flagged/{target.id}/release").status_code == 403
    db.session.expire_all()
    assert db.session.get(Response, target.id).held


def test_invitation_answers_from_one_network_are_not_held(
    app, client, runner, campaign, responses
) -> None:
    """Households answering their one-time codes from one office's network stay in the
    probability sample (flagged for the analyst, never held)."""
    out = runner.invoke(
        args=["invitations", "create", "--campaign", str(campaign.id), "--count", "4"]
    )
    for row in csv.DictReader(io.StringIO(out.output)):
        url = f"/i/{row['code']}"
        nonce = nonce_of(client.get(url).get_data(as_text=True))
        client.post(
            url, data={"nonce": nonce, "q1": "4"}, environ_base={"REMOTE_ADDR": "192.0.2.77"}
        )
    stored = responses()
    assert len(stored) == 4 and any("burst_client" in r.flags for r in stored)
    assert not any(r.held for r in stored)
