"""Desk ratings written straight to the database, for the desk standard and alert tests."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from sqlalchemy import insert

from surveyapp.extensions import db
from surveyapp.models import Answer, Channel, Response, ServicePoint, Unit, UnitLevel


def commune(campaign, code: str = "26734", name: str = "Xã Phú Hòa") -> Unit:  # type: ignore[no-untyped-def]
    province = campaign.units[0]
    district = Unit(
        code=code[:3] + "D", name="Huyện Định Quán", level=UnitLevel.DISTRICT, parent=province
    )
    unit = Unit(code=code, name=name, level=UnitLevel.COMMUNE, parent=district)
    db.session.add_all([district, unit])
    db.session.flush()
    return unit


def desk(unit: Unit, name: str = "Một cửa xã") -> ServicePoint:
    item = ServicePoint(unit=unit, name=name)
    db.session.add(item)
    db.session.flush()
    return item


def rate(campaign, desk: ServicePoint, values: Iterable[int], at: Iterable[datetime]) -> None:  # type: ignore[no-untyped-def]
    """One QR rating per value: every SIPAS rating item answered with that value.

    The answers go in as one bulk insert: hundreds of ratings of ~30 Answer objects each
    through the unit of work cost seconds per test."""
    items = [q for q in campaign.questionnaire.questions if q.type.value == "likert5"]
    made: list[tuple[Response, int]] = []
    for value, moment in zip(values, at, strict=True):
        response = Response(
            campaign=campaign,
            questionnaire=campaign.questionnaire,
            channel=Channel.QR,
            nonce=secrets.token_hex(16),
            unit_id=desk.unit_id,
            service_point_id=desk.id,
            submitted_at=moment,
        )
        db.session.add(response)
        made.append((response, value))
    db.session.flush()
    if made:
        db.session.execute(
            insert(Answer),
            [
                {"response_id": response.id, "question_id": q.id, "value": value}
                for response, value in made
                for q in items
            ],
        )


LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def local_today() -> date:
    """Today in the installation's time zone: the alerts cut days there, so a test that
    counts back from the machine's (UTC) date is a day off from 17:00 UTC on."""
    return datetime.now(LOCAL).date()


class Inbox:
    """The messages a local aiosmtpd server received, parsed."""

    def __init__(self) -> None:
        self.messages: list[object] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@contextmanager
def smtp_server(app) -> Iterator[Inbox]:  # type: ignore[no-untyped-def]
    """A real SMTP server on a free local port, with the app's SMTP settings pointing at it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="canhbao@dongnai.gov.vn")
    try:
        yield inbox
    finally:
        controller.stop()


def working_days(last: date, count: int) -> list[date]:
    """The ``count`` weekdays up to ``last``, oldest first."""
    days: list[date] = []
    day = last
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return sorted(days)


def local_moment(day: date, hour: float) -> datetime:
    """``hour`` hours after local midnight of ``day``, in UTC."""
    return (datetime.combine(day, time.min, LOCAL) + timedelta(hours=hour)).astimezone(UTC)
