"""Desk ratings written straight to the database, for the desk standard and alert tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime

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
    """One QR rating per value: every SIPAS rating item answered with that value."""
    items = [q for q in campaign.questionnaire.questions if q.type.value == "likert5"]
    for value, moment in zip(values, at, strict=True):
        response = Response(
            campaign=campaign,
            questionnaire=campaign.questionnaire,
            channel=Channel.QR,
            nonce=secrets.token_hex(16),
            unit_id=desk.unit_id,
            service_point_id=desk.id,
            submitted_at=moment,
            answers=[Answer(question_id=q.id, value=value) for q in items],
        )
        db.session.add(response)
    db.session.flush()
