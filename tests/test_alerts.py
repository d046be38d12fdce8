"""Issue 14 §3 proof: desk alerts e-mailed over a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from desk_support import (
    Inbox,
    commune,
    desk,
    local_moment,
    local_today,
    rate,
    smtp_server,
    working_days,
)
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import AlertNotification, AlertRecipient, DeskAlert, NotificationStatus
from surveyapp.services import alerts


@pytest.fixture
def smtp(app) -> Iterator[Inbox]:  # type: ignore[no-untyped-def]
    with smtp_server(app) as inbox:
        yield inbox


def test_a_drift_below_target_sends_exactly_one_mail_and_a_stable_desk_none(
    campaign, smtp, runner, login_as
) -> None:
    unit = commune(campaign)
    stable = desk(unit, "Quầy ổn định")
    drifting = desk(unit, "Quầy giảm sút")
    db.session.add_all(
        [
            AlertRecipient(name="Trần Văn An", email="an@dongnai.gov.vn", service_point=stable),
            AlertRecipient(name="Lê Thị Bình", email="binh@dongnai.gov.vn", service_point=drifting),
        ]
    )
    db.session.commit()
    rng = np.random.default_rng(14)
    days = working_days(local_today() - timedelta(days=1), 22)  # a simulated month
    for i, day in enumerate(days):
        moments = [local_moment(day, 8 + 8 * k / 20) for k in range(20)]
        # Stable: 90 % good all month. Drifting: 90 % for ten days, then 55 %.
        share = 0.55 if i >= 10 else 0.90
        rate(campaign, stable, [5 if g else 2 for g in rng.random(20) < 0.90], moments)
        rate(campaign, drifting, [5 if g else 2 for g in rng.random(20) < share], moments)
        db.session.commit()
        alerts.check(now=local_moment(day, 17))  # the evening check
        db.session.commit()

    assert len(smtp.messages) == 1, [(m["To"], m["Subject"]) for m in smtp.messages]
    mail = smtp.messages[0]
    assert mail["To"] == "Lê Thị Bình <binh@dongnai.gov.vn>"
    assert "Quầy giảm sút" in mail["Subject"] and "dưới chuẩn 80%" in mail["Subject"]
    assert "Kính gửi ông/bà" in mail.get_content()
    # Desk level: only the drifting desk. (The commune centre's pooled ratings fall too; its
    # alert goes to no one here, as both recipients are named for one desk each.)
    opened = db.session.scalars(select(DeskAlert).where(DeskAlert.unit_id.is_(None))).all()
    assert [a.service_point_id for a in opened] == [drifting.id]
    assert opened[0].closed_at is None  # still below: open, and not repeated

    # The command runs the same check; nothing new, nothing sent.
    result = runner.invoke(args=["alerts", "check"])
    assert result.exit_code == 0, result.output
    assert len(smtp.messages) == 1, [(m["To"], m["Subject"]) for m in smtp.messages]

    # The dashboard shows the open alert; admins see who was told.
    client = login_as("analyst")
    page = client.get(f"/dashboard/{campaign.id}/desks").get_data(as_text=True)
    shown = page.split("Cảnh báo đang mở", 1)[1].split("</section>", 1)[0]
    assert "Quầy giảm sút" in shown and "dưới chuẩn 80%" in shown


def test_ratings_back_at_standard_close_the_alert(campaign, smtp) -> None:
    unit = commune(campaign)
    item = desk(unit)
    start = datetime.now(UTC) - timedelta(days=3)
    rate(campaign, item, [1] * 13, [start + timedelta(minutes=i) for i in range(13)])
    db.session.commit()
    first = alerts.check(now=start + timedelta(hours=1))
    assert len(first.opened) == 1
    rate(campaign, item, [5] * 40, [start + timedelta(hours=2, minutes=i) for i in range(40)])
    second = alerts.check(now=start + timedelta(hours=3))
    assert second.ratings_read == 40 and second.desks_updated == 1  # only the new ratings
    assert second.closed == first.opened
    assert alerts.open_alerts() == []


def test_quiet_hours_hold_the_mail_until_they_end(campaign, smtp) -> None:
    unit = commune(campaign)
    item = desk(unit)
    db.session.add(
        AlertRecipient(
            name="Phạm Minh Châu",
            email="chau@dongnai.gov.vn",
            unit=unit,
            quiet_start=21 * 60,
            quiet_end=7 * 60,
        )
    )
    night = local_moment(local_today() - timedelta(days=2), 22)
    rate(campaign, item, [2] * 14, [night - timedelta(minutes=i) for i in range(14, 0, -1)])
    db.session.commit()
    held = alerts.check(now=night)
    assert held.opened and held.held == 1 and smtp.messages == []
    morning = alerts.check(now=night + timedelta(hours=9, minutes=30))  # 07:30
    assert morning.sent == 1 and len(smtp.messages) == 1
    note = db.session.scalar(select(AlertNotification))
    assert note.status == NotificationStatus.SENT and note.sent_at is not None
    assert db.session.scalar(select(func.count(AlertNotification.id))) == 1


def test_admin_manages_recipients_and_sees_who_was_told(campaign, smtp, login_as) -> None:
    unit = commune(campaign)
    item = desk(unit, "Quầy tiếp nhận")
    db.session.commit()
    client = login_as("admin")
    page = client.get("/admin/alerts")
    assert page.status_code == 200
    bad = client.post(
        "/admin/alerts",
        data={"name": "Võ Thị Dung", "email": "dung@", "target": f"desk:{item.id}"},
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "dung@" in html and "Võ Thị Dung" in html  # kept
    assert alerts.recipients() == []
    late = client.post(
        "/admin/alerts",
        data={
            "name": "Võ Thị Dung",
            "email": "dung@dongnai.gov.vn",
            "target": f"desk:{item.id}",
            "from": "25:00",
            "to": "07:00",
        },
    )
    assert late.status_code == 200 and alerts.recipients() == []
    ok = client.post(
        "/admin/alerts",
        data={
            "name": "Võ Thị Dung",
            "email": "dung@dongnai.gov.vn",
            "target": f"desk:{item.id}",
            "from": "21:00",
            "to": "07:00",
        },
    )
    assert ok.status_code == 302
    (person,) = alerts.recipients()
    assert (person.quiet_start, person.quiet_end) == (21 * 60, 7 * 60)

    noon = local_moment(local_today() - timedelta(days=1), 12)
    rate(campaign, item, [1] * 13, [noon - timedelta(minutes=i) for i in range(13, 0, -1)])
    db.session.commit()
    alerts.check(now=noon)
    db.session.commit()
    assert len(smtp.messages) == 1, [(m["To"], m["Subject"]) for m in smtp.messages]
    audit_page = client.get("/admin/alerts").get_data(as_text=True)
    table = audit_page.split('class="notifications"', 1)[1]
    assert "dung@dongnai.gov.vn" in table and "Quầy tiếp nhận" in table

    client.post(f"/admin/alerts/{person.id}/delete")
    assert alerts.recipients() == []
    # The audit still names who was told.
    assert "dung@dongnai.gov.vn" in client.get("/admin/alerts").get_data(as_text=True)
