"""Desk and commune alerts: run the rules of :mod:`surveyapp.analysis.alerts` incrementally,
open and close alerts, and e-mail the people named for a desk or its unit.

The rules run at two levels (:class:`Scope`): each desk on its own ratings, and each commune
centre (a unit holding at least :data:`COMMUNE_MIN_DESKS` desks) on all its desks' ratings
pooled — the issue's "a desk's or commune's rating falls below its target". A commune alert
goes to the people named for the unit or a unit above it whose scope includes communes.

``check`` reads, per desk, only the ratings after the last one it saw (stored in
:class:`DeskAlertState`) and only the working days after the last one it checked, so each
new rating updates only its desk. A newly opened alert is e-mailed once to each recipient;
while it stays open nothing more is sent. Mail for a recipient in quiet hours is held and
sent by the first check after they end; a refused send is kept as failed and retried.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pandas as pd
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from surveyapp import localtime
from surveyapp.analysis import alerts as rules
from surveyapp.data import ratings
from surveyapp.extensions import db
from surveyapp.models.alerts import (
    AlertKind,
    AlertNotification,
    AlertRecipient,
    DeskAlert,
    DeskAlertState,
    NotificationStatus,
    RecipientScope,
    UnitAlertState,
)
from surveyapp.models.units import ServicePoint, Unit
from surveyapp.services import ServiceError, audit

# One @, no spaces, a dot in the domain: enough to catch a typo, not a full RFC 5322 parser.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass
class CheckResult:
    ratings_read: int = 0
    desks_updated: int = 0
    communes_updated: int = 0
    opened: list[int] = field(default_factory=list)  # alert ids
    closed: list[int] = field(default_factory=list)
    sent: int = 0
    held: int = 0
    failed: int = 0


# A commune centre is watched as a whole when it has at least this many desks: with one desk
# its pooled ratings are the desk's own, and its people would be told the same thing twice.
COMMUNE_MIN_DESKS = 2

State = DeskAlertState | UnitAlertState


@dataclass
class Scope:
    """One level the rules run at: each desk, or each commune centre with its desks pooled."""

    level: str  # "desk" or "unit"
    states: dict[int, State]
    desk_to_subject: dict[int, int]  # desk id -> the subject its ratings count for

    def state(self, subject: int) -> State:
        if subject not in self.states:
            if self.level == "desk":
                item: State = DeskAlertState(
                    service_point_id=subject, statistic=0.0, last_response_id=0
                )
            else:
                item = UnitAlertState(unit_id=subject, statistic=0.0, last_response_id=0)
            self.states[subject] = item
            db.session.add(item)
        return self.states[subject]

    def subjects(self, frame: pd.DataFrame) -> pd.Series:
        """Each rating's subject id (missing for a desk that counts for none)."""
        return frame["service_point_id"].map(self.desk_to_subject)

    def open_alert(self, subject: int, kind: AlertKind) -> DeskAlert | None:
        column = DeskAlert.service_point_id if self.level == "desk" else DeskAlert.unit_id
        return db.session.scalar(
            select(DeskAlert).where(
                column == subject, DeskAlert.kind == kind, DeskAlert.closed_at.is_(None)
            )
        )

    def new_alert(
        self, subject: int, kind: AlertKind, now: datetime, detail: dict[str, Any]
    ) -> DeskAlert:
        alert = DeskAlert(kind=kind, opened_at=now, detail=detail)
        if self.level == "desk":
            alert.service_point_id = subject
        else:
            alert.unit_id = subject
        db.session.add(alert)
        db.session.flush()
        return alert


def _scopes() -> list[Scope]:
    desks = db.session.execute(select(ServicePoint.id, ServicePoint.unit_id)).all()
    per_unit: dict[int, int] = {}
    for _desk, unit in desks:
        per_unit[unit] = per_unit.get(unit, 0) + 1
    pooled = {u for u, n in per_unit.items() if n >= COMMUNE_MIN_DESKS}
    desk_states: dict[int, State] = {
        s.service_point_id: s for s in db.session.scalars(select(DeskAlertState))
    }
    unit_states: dict[int, State] = {
        s.unit_id: s for s in db.session.scalars(select(UnitAlertState)) if s.unit_id in pooled
    }
    desk_scope = Scope("desk", desk_states, {d: d for d, _u in desks})
    unit_scope = Scope("unit", unit_states, {d: u for d, u in desks if u in pooled})
    for desk, unit in desks:
        desk_scope.state(desk)  # a desk never checked starts from its first rating
        if unit in pooled:
            unit_scope.state(unit)
    return [desk_scope, unit_scope]


def _check_ratings(
    scope: Scope, frame: pd.DataFrame, watermark: int, now: datetime, result: CheckResult
) -> list[DeskAlert]:
    opened: list[DeskAlert] = []
    if len(frame):
        frame = frame.assign(subject=scope.subjects(frame)).dropna(subset=["subject"])
    for key, part in frame.groupby("subject") if len(frame) else ():
        subject = int(float(str(key)))
        state = scope.state(subject)
        new = part[part["response_id"] > state.last_response_id]
        if new.empty:
            continue
        if scope.level == "desk":
            result.ratings_read += len(new)
            result.desks_updated += 1
        else:
            result.communes_updated += 1
        current = scope.open_alert(subject, AlertKind.RATING)
        step = rules.cusum_update(
            state.statistic, current is not None, [bool(g) for g in new["good"]]
        )
        state.statistic = step.statistic
        state.last_response_id = int(new["response_id"].max())
        if current is not None and not step.open:
            current.closed_at = now
            result.closed.append(current.id)
            current = None
        if step.opened and current is None:
            detail = {
                "statistic": round(step.statistic, 3),
                "ratings": len(new),
                "good": int(new["good"].sum()),
            }
            opened.append(scope.new_alert(subject, AlertKind.RATING, now, detail))
    # Every rating up to the watermark was read: a subject without new ones has none up to here.
    for state in scope.states.values():
        state.last_response_id = max(state.last_response_id, watermark)
    return opened


def _history(
    counts: dict[tuple[int, date], int],
    subject: int,
    day: date,
    earliest: date,
    off: frozenset[date],
) -> list[int]:
    history: list[int] = []
    back = day - timedelta(days=1)
    while len(history) < rules.VOLUME_HISTORY and back >= earliest:
        if rules.is_working_day(back, off):
            history.append(int(counts.get((subject, back), 0)))
        back -= timedelta(days=1)
    return history


def holidays() -> frozenset[date]:
    """The public holidays the installation lists (config ``HOLIDAYS``); a bad entry is a
    :class:`ServiceError` that names it."""
    try:
        return localtime.holidays()
    except localtime.BadHoliday as exc:
        raise ServiceError(
            _(
                "Public holidays (setting HOLIDAYS): %(value)s is not a date; write "
                "YYYY-MM-DD, e.g. 2027-02-05.",
                value=exc.value,
            )
        ) from None


def _check_volume(scope: Scope, now: datetime, result: CheckResult) -> list[DeskAlert]:
    # Working days are local ones: Monday to Friday in the installation's time zone
    # (surveyapp.localtime), less the public holidays it lists (config HOLIDAYS).
    off = holidays()
    yesterday = localtime.local_date(now) - timedelta(days=1)
    firsts = {d: (s.volume_day or yesterday - timedelta(days=1)) for d, s in scope.states.items()}
    if not firsts:
        return []
    earliest = min(firsts.values()) - timedelta(days=2 * rules.VOLUME_HISTORY)
    frame = ratings.rating_frame(since=localtime.day_start(earliest))
    days = localtime.local_moments(frame["submitted_at"]).dt.date
    frame = frame.assign(day=days, subject=scope.subjects(frame)).dropna(subset=["subject"])
    counts: dict[tuple[int, date], int] = {}
    sizes: dict[Any, Any] = frame.groupby(["subject", "day"]).size().to_dict()
    for (subject_key, day_key), n in sizes.items():
        counts[(int(float(str(subject_key))), day_key)] = int(n)
    opened: list[DeskAlert] = []
    for subject, state in scope.states.items():
        day = firsts[subject] + timedelta(days=1)
        while day <= yesterday:
            if rules.is_working_day(day, off):
                history = _history(counts, subject, day, earliest, off)
                count = int(counts.get((subject, day), 0))
                current = scope.open_alert(subject, AlertKind.VOLUME)
                if current is not None and count > 0:
                    current.closed_at = now
                    result.closed.append(current.id)
                elif current is None and rules.volume_collapsed(history, count):
                    detail = {"day": day.isoformat(), "usual": sorted(history)[len(history) // 2]}
                    opened.append(scope.new_alert(subject, AlertKind.VOLUME, now, detail))
            day += timedelta(days=1)
        state.volume_day = yesterday
    return opened


def _ancestors(unit: Unit | None) -> list[int]:
    units = []
    while unit is not None:
        units.append(unit.id)
        unit = unit.parent
    return units


def recipients_for(desk: ServicePoint) -> list[AlertRecipient]:
    """Active recipients named for the desk, or for any unit above it that is told of desks."""
    stmt = select(AlertRecipient).where(
        AlertRecipient.active.is_(True),
        (AlertRecipient.service_point_id == desk.id)
        | (
            AlertRecipient.unit_id.in_(_ancestors(desk.unit))
            & (AlertRecipient.scope != RecipientScope.COMMUNE)
        ),
    )
    return list(db.session.scalars(stmt.order_by(AlertRecipient.id)))


def recipients_for_unit(unit: Unit) -> list[AlertRecipient]:
    """Active recipients named for the commune centre's unit, or for any unit above it, that
    are told of commune centres."""
    stmt = select(AlertRecipient).where(
        AlertRecipient.active.is_(True),
        AlertRecipient.unit_id.in_(_ancestors(unit)),
        AlertRecipient.scope != RecipientScope.DESKS,
    )
    return list(db.session.scalars(stmt.order_by(AlertRecipient.id)))


def recipients_of(alert: DeskAlert) -> list[AlertRecipient]:
    if alert.service_point is not None:
        return recipients_for(alert.service_point)
    assert alert.unit is not None
    return recipients_for_unit(alert.unit)


def in_quiet_hours(recipient: AlertRecipient | None, now: datetime) -> bool:
    if recipient is None or recipient.quiet_start is None or recipient.quiet_end is None:
        return False
    local = localtime.as_utc(now).astimezone(localtime.zone())
    minute = local.hour * 60 + local.minute
    start, end = recipient.quiet_start, recipient.quiet_end
    if start <= end:
        return start <= minute < end
    return minute >= start or minute < end


def where(alert: DeskAlert) -> str:
    """The desk and its unit, or the commune centre, as the mail names it."""
    if alert.service_point is not None:
        return f"{alert.service_point.name} ({alert.service_point.unit.name})"
    assert alert.unit is not None
    return f"các bộ phận một cửa của {alert.unit.name} (tính chung)"


def message_for(alert: DeskAlert) -> tuple[str, str]:
    """Subject and body, in Vietnamese (the recipients are desk heads in Đồng Nai)."""
    place = where(alert)
    rule = (
        "quy tắc CUSUM một phía trên chính các đánh giá của bộ phận"
        if alert.service_point is not None
        else "quy tắc CUSUM một phía trên các đánh giá của mọi bộ phận một cửa của đơn vị, "
        "tính chung"
    )
    opened = (
        localtime.as_utc(alert.opened_at).astimezone(localtime.zone()).strftime("%H:%M %d/%m/%Y")
    )
    if alert.kind == AlertKind.RATING:
        subject = f"[Cảnh báo] Đánh giá tại {place} giảm dưới chuẩn 80%"
        body = (
            f"Kính gửi ông/bà,\n\n"
            f"Từ {opened}, các đánh giá gần đây của người dân tại {place} cho thấy tỷ lệ "
            "đánh giá tốt hoặc rất tốt đã giảm xuống dưới chuẩn 80% của kế hoạch tỉnh "
            f"Đồng Nai ({rule}, "
            f"thống kê {alert.detail.get('statistic')} ≥ ngưỡng {rules.THRESHOLD:g}).\n\n"
            "Đánh giá qua mã QR và ki-ốt là mẫu thuận tiện, chỉ gồm những người chọn đánh "
            "giá. Đề nghị ông/bà xem các góp ý gần đây trên trang tổng hợp.\n\n"
            "Cảnh báo này không được gửi lại khi còn mở; cảnh báo đóng khi đánh giá trở "
            "lại mức chuẩn.\n"
        )
    else:
        day = date.fromisoformat(str(alert.detail.get("day"))).strftime("%d/%m/%Y")
        subject = f"[Cảnh báo] Không có đánh giá nào tại {place} ngày {day}"
        body = (
            f"Kính gửi ông/bà,\n\n"
            f"Ngày làm việc {day}, {place} không nhận được đánh giá nào, trong khi một ngày "
            f"thường có khoảng {alert.detail.get('usual')} lượt. Đề nghị kiểm tra phiếu mã QR, "
            "ki-ốt và việc giới thiệu phiếu cho người dân.\n"
        )
    return subject, body


Sender = Callable[[EmailMessage], None]


def smtp_sender(message: EmailMessage) -> None:
    """Send over the SMTP server of ``SURVEYAPP_SMTP_*``."""
    config = current_app.config
    with smtplib.SMTP(
        config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=config["SMTP_TIMEOUT"]
    ) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)


def _notify(opened: list[DeskAlert]) -> None:
    for alert in opened:
        subject, body = message_for(alert)
        for person in recipients_of(alert):
            db.session.add(
                AlertNotification(
                    alert=alert,
                    recipient_id=person.id,
                    name=person.name,
                    email=person.email,
                    subject=subject,
                    body=body,
                    status=NotificationStatus.HELD,
                )
            )
    db.session.flush()


def deliver(now: datetime, result: CheckResult, sender: Sender | None = None) -> None:
    """Send every held or failed notification whose recipient is not in quiet hours."""
    if not current_app.config.get("SMTP_HOST") and sender is None:
        result.held += len(_pending())
        return
    send = sender or smtp_sender
    for note in _pending():
        recipient = db.session.get(AlertRecipient, note.recipient_id) if note.recipient_id else None
        if in_quiet_hours(recipient, now):
            result.held += 1
            continue
        message = EmailMessage()
        message["Subject"] = note.subject
        message["From"] = current_app.config["SMTP_FROM"]
        message["To"] = f"{note.name} <{note.email}>"
        message.set_content(note.body)
        try:
            send(message)
        except (OSError, smtplib.SMTPException) as exc:
            note.status = NotificationStatus.FAILED
            note.error = str(exc)[:500]
            result.failed += 1
            continue
        note.status = NotificationStatus.SENT
        note.sent_at = now
        note.error = None
        result.sent += 1
    db.session.flush()


def _pending() -> list[AlertNotification]:
    stmt = select(AlertNotification).where(
        AlertNotification.status.in_([NotificationStatus.HELD, NotificationStatus.FAILED])
    )
    return list(db.session.scalars(stmt.order_by(AlertNotification.id)))


def check(now: datetime | None = None, sender: Sender | None = None) -> CheckResult:
    """Run both rules on what is new since the last check, then send what is due."""
    now = now or datetime.now(UTC)
    result = CheckResult()
    scopes = _scopes()
    # One read of the ratings after the earliest place any chart stopped serves both levels.
    since_id = min(
        (s.last_response_id for scope in scopes for s in scope.states.values()), default=0
    )
    frame = ratings.rating_frame(after_id=since_id)
    watermark = int(frame["response_id"].max()) if len(frame) else since_id
    opened: list[DeskAlert] = []
    for scope in scopes:
        opened += _check_ratings(scope, frame, watermark, now, result)
    db.session.flush()
    for scope in scopes:
        opened += _check_volume(scope, now, result)
    db.session.flush()
    result.opened = [a.id for a in opened]
    _notify(opened)
    deliver(now, result, sender)
    return result


def open_alerts() -> list[DeskAlert]:
    stmt = select(DeskAlert).where(DeskAlert.closed_at.is_(None)).order_by(DeskAlert.opened_at)
    return list(db.session.scalars(stmt))


def _minutes(text: str | None) -> int | None:
    """ "21:00" → 1260; empty → None; anything else is a :class:`ServiceError`."""
    if not text or not text.strip():
        return None
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
    except ValueError:
        raise ServiceError(_("Quiet hours: write times as HH:MM, e.g. 21:00.")) from None
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ServiceError(_("Quiet hours: write times as HH:MM, e.g. 21:00."))
    return hours * 60 + minutes


def _recipient_snapshot(item: AlertRecipient) -> dict[str, object]:
    return {
        "name": item.name,
        "email": item.email,
        "desk": item.service_point_id,
        "unit": item.unit_id,
        "quiet_start": item.quiet_start,
        "quiet_end": item.quiet_end,
        "scope": item.scope.value,
    }


def add_recipient(
    name: str,
    email: str,
    target: str,
    quiet_start: str | None = None,
    quiet_end: str | None = None,
    scope: str | None = None,
) -> AlertRecipient:
    """A named person for a desk (``target`` "desk:ID") or a unit ("unit:ID"); a unit's person
    is told of its desks' alerts, its commune centres' pooled alerts, or both (``scope``)."""
    name, email = name.strip(), email.strip()
    if not name:
        raise ServiceError(_("A recipient needs a name."))
    if not EMAIL.fullmatch(email):
        raise ServiceError(_("This is not an e-mail address: %(value)s", value=email))
    kind, _sep, raw_id = target.partition(":")
    desk = unit = None
    if kind == "desk" and raw_id.isdigit():
        desk = db.session.get(ServicePoint, int(raw_id))
    elif kind == "unit" and raw_id.isdigit():
        unit = db.session.get(Unit, int(raw_id))
    if desk is None and unit is None:
        raise ServiceError(_("Choose a desk or a unit."))
    start, end = _minutes(quiet_start), _minutes(quiet_end)
    if (start is None) != (end is None):
        raise ServiceError(_("Quiet hours need both a start and an end."))
    try:
        told = RecipientScope(scope or RecipientScope.ALL.value)
    except ValueError:
        raise ServiceError(_("Choose what the recipient is told of.")) from None
    if desk is not None:
        told = RecipientScope.ALL  # a desk's person is told of that desk
    item = AlertRecipient(
        name=name,
        email=email,
        service_point=desk,
        unit=unit,
        quiet_start=start,
        quiet_end=end,
        scope=told,
    )
    db.session.add(item)
    db.session.flush()
    audit.record("create", "alert_recipient", item.id, after=_recipient_snapshot(item))
    return item


def remove_recipient(item: AlertRecipient) -> None:
    """Remove a recipient; the notifications sent to them stay in the audit, by name."""
    audit.record("delete", "alert_recipient", item.id, before=_recipient_snapshot(item))
    db.session.delete(item)
    db.session.flush()


def recipients() -> list[AlertRecipient]:
    return list(db.session.scalars(select(AlertRecipient).order_by(AlertRecipient.name)))


def notifications(limit: int = 200) -> list[AlertNotification]:
    """The most recent notifications, newest first: who was told what and when."""
    stmt = select(AlertNotification).order_by(AlertNotification.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))
