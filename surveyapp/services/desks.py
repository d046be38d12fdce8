"""One-stop desks: creating them, revoking their QR link, recording transaction volumes."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models.units import ServicePoint, TransactionVolume, Unit, new_token
from surveyapp.services import ServiceError, audit


def _snapshot(desk: ServicePoint) -> dict[str, object]:
    return {"name": desk.name, "unit": desk.unit.code, "active": desk.active}


def create_desk(unit: Unit, name: str) -> ServicePoint:
    name = name.strip()
    if not name:
        raise ServiceError(_("A desk needs a name."))
    desk = ServicePoint(unit=unit, name=name)
    db.session.add(desk)
    db.session.flush()
    audit.record("create", "desk", desk.id, after=_snapshot(desk))
    return desk


def set_active(desk: ServicePoint, active: bool) -> ServicePoint:
    before = _snapshot(desk)
    desk.active = active
    db.session.flush()
    audit.record("update", "desk", desk.id, before=before, after=_snapshot(desk))
    return desk


def new_link(desk: ServicePoint) -> ServicePoint:
    """Replace the desk's token: printed QR sheets with the old link stop working."""
    desk.token = new_token()
    db.session.flush()
    audit.record("revoke_link", "desk", desk.id, after=_snapshot(desk))
    return desk


def record_volume(
    desk: ServicePoint, start: date, end: date, transactions: int
) -> TransactionVolume:
    if end < start:
        raise ServiceError(_("The period ends before it starts."))
    if transactions < 0:
        raise ServiceError(_("The number of transactions cannot be negative."))
    volume = db.session.scalar(
        select(TransactionVolume).where(
            TransactionVolume.service_point_id == desk.id, TransactionVolume.period_start == start
        )
    )
    before = None
    if volume is None:
        volume = TransactionVolume(
            service_point=desk, period_start=start, period_end=end, transactions=transactions
        )
        db.session.add(volume)
    else:
        before = {"period_end": volume.period_end.isoformat(), "transactions": volume.transactions}
        volume.period_end = end
        volume.transactions = transactions
    db.session.flush()
    audit.record(
        "volume",
        "desk",
        desk.id,
        before=before,
        after={
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "transactions": transactions,
        },
    )
    return volume
