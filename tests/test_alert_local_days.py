"""The volume-collapse alert reads local working days (issue 14): a rating at 06:30 in Đồng Nai
is 23:30 UTC the day before, and the public holidays the installation lists are no working
days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from desk_support import commune, desk, rate
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import AlertKind, DeskAlert
from surveyapp.services import alerts

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
# Wednesday 2 December 2026 has no rating; the 20 working days before it have 20 each.
SILENT = date(2026, 12, 2)
BUSY = [day for day in (SILENT - timedelta(days=k) for k in range(1, 29)) if day.weekday() < 5][:20]


def _local(day: date, hour: float) -> datetime:
    return (datetime.combine(day, time.min, LOCAL) + timedelta(hours=hour)).astimezone(UTC)


@pytest.fixture
def quiet_wednesday(campaign):  # type: ignore[no-untyped-def]
    item = desk(commune(campaign), "Quầy tiếp nhận")
    for day in BUSY:
        # 06:30 to 07:05 local: the UTC day before.
        rate(campaign, item, [5] * 20, [_local(day, 6.5 + k / 60) for k in range(20)])
    # Thursday's early ratings (23:30 UTC on Wednesday) are Thursday's, not Wednesday's.
    rate(campaign, item, [5] * 20, [_local(SILENT + timedelta(days=1), 6.5)] * 20)
    db.session.commit()
    return item


def _volume_alerts() -> list[DeskAlert]:
    stmt = select(DeskAlert).where(DeskAlert.kind == AlertKind.VOLUME)
    return list(db.session.scalars(stmt))


def test_a_silent_local_working_day_is_a_volume_collapse(quiet_wednesday) -> None:
    alerts.check(now=_local(SILENT + timedelta(days=1), 8))
    db.session.commit()
    (alert,) = _volume_alerts()
    assert alert.service_point_id == quiet_wednesday.id
    assert alert.detail == {"day": "2026-12-02", "usual": 20}


def test_a_listed_public_holiday_is_no_working_day(app, quiet_wednesday) -> None:
    app.config["HOLIDAYS"] = ["2026-12-02"]
    alerts.check(now=_local(SILENT + timedelta(days=1), 8))
    db.session.commit()
    assert _volume_alerts() == []


def test_a_bad_holiday_is_a_clear_error_and_nothing_is_saved(app, runner, quiet_wednesday) -> None:
    app.config["HOLIDAYS"] = "2026-12-02, 02/09/2026"
    result = runner.invoke(args=["alerts", "check"])
    assert result.exit_code != 0
    assert "02/09/2026" in result.output and "YYYY-MM-DD" in result.output
    db.session.rollback()
    assert _volume_alerts() == []
