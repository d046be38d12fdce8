"""Desk alerts: run the rules of :mod:`surveyapp.analysis.alerts` incrementally, open and
close alerts, and e-mail the people named for a desk or its unit.

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
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pandas as pd
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

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
)
from surveyapp.models.units import ServicePoint, Unit
from surveyapp.services import ServiceError, audit

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
# One @, no spaces, a dot in the domain: enough to catch a typo, not a full RFC 5322 parser.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass
class CheckResult:
    ratings_read: int = 0
    desks_updated: int = 0
    opened: list[int] = field(default_factory=list)  # alert ids
    closed: list[int] = field(default_factory=list)
    sent: int = 0
    held: int = 0
    failed: int = 0


def _state(desk_id: int, states: dict[int, DeskAlertState]) -> DeskAlertState:
    if desk_id not in states:
        states[desk_id] = DeskAlertState(
            service_point_id=desk_id, statistic=0.0, last_response_id=0
        )
        db.session.add(states[desk_id])
    return states[desk_id]


def _open_alert(desk_id: int, kind: AlertKind) -> DeskAlert | None:
    return db.session.scalar(
        select(DeskAlert).where(
            DeskAlert.service_point_id == desk_id,
            DeskAlert.kind == kind,
            DeskAlert.closed_at.is_(None),
        )
    )


def _check_ratings(
    states: dict[int, DeskAlertState], now: datetime, result: CheckResult
) -> list[DeskAlert]:
    for desk_id in db.session.scalars(select(ServicePoint.id)):
        _state(desk_id, states)  # a desk never checked starts from its first rating
    since_id = min((s.last_response_id for s in states.values()), default=0)
    frame = ratings.rating_frame(after_id=since_id)
    # Every rating after ``since_id`` was read: a desk without new ones has none up to here.
    watermark = int(frame["response_id"].max()) if len(frame) else since_id
    opened: list[DeskAlert] = []
    for key, part in frame.groupby("service_point_id"):
        desk_id = int(str(key))
        state = _state(desk_id, states)
        new = part[part["response_id"] > state.last_response_id]
        if new.empty:
            continue
        result.ratings_read += len(new)
        result.desks_updated += 1
        current = _open_alert(int(desk_id), AlertKind.RATING)
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
            alert = DeskAlert(
                service_point_id=int(desk_id),
                kind=AlertKind.RATING,
                opened_at=now,
                detail={
                    "statistic": round(step.statistic, 3),
                    "ratings": len(new),
                    "good": int(new["good"].sum()),
                },
            )
            db.session.add(alert)
            opened.append(alert)
    for state in states.values():
        state.last_response_id = max(state.last_response_id, watermark)
    return opened


def _check_volume(
    states: dict[int, DeskAlertState], now: datetime, result: CheckResult
) -> list[DeskAlert]:
    yesterday = now.astimezone(LOCAL).date() - timedelta(days=1)
    firsts = {d: (s.volume_day or yesterday - timedelta(days=1)) for d, s in states.items()}
    if not firsts:
        return []
    earliest = min(firsts.values()) - timedelta(days=2 * rules.VOLUME_HISTORY)
    since = datetime.combine(earliest, time.min, LOCAL).astimezone(UTC)
    frame = ratings.rating_frame(since=since)
    days = pd.to_datetime(frame["submitted_at"], utc=True).dt.tz_convert(LOCAL).dt.date
    counts = frame.assign(day=days).groupby(["service_point_id", "day"]).size().to_dict()
    opened: list[DeskAlert] = []
    for desk_id, state in states.items():
        day = firsts[desk_id] + timedelta(days=1)
        while day <= yesterday:
            if rules.is_working_day(day):
                history: list[int] = []
                back = day - timedelta(days=1)
                while len(history) < rules.VOLUME_HISTORY and back >= earliest:
                    if rules.is_working_day(back):
                        history.append(int(counts.get((desk_id, back), 0)))
                    back -= timedelta(days=1)
                count = int(counts.get((desk_id, day), 0))
                current = _open_alert(desk_id, AlertKind.VOLUME)
                if current is not None and count > 0:
                    current.closed_at = now
                    result.closed.append(current.id)
                elif current is None and rules.volume_collapsed(history, count):
                    alert = DeskAlert(
                        service_point_id=desk_id,
                        kind=AlertKind.VOLUME,
                        opened_at=now,
                        detail={
                            "day": day.isoformat(),
                            "usual": sorted(history)[len(history) // 2],
                        },
                    )
                    db.session.add(alert)
                    db.session.flush()
                    opened.append(alert)
            day += timedelta(days=1)
        state.volume_day = yesterday
    return opened


def recipients_for(desk: ServicePoint) -> list[AlertRecipient]:
    """Active recipients named for the desk or for any unit above it."""
    units = []
    unit: Unit | None = desk.unit
    while unit is not None:
        units.append(unit.id)
        unit = unit.parent
    stmt = select(AlertRecipient).where(
        AlertRecipient.active.is_(True),
        (AlertRecipient.service_point_id == desk.id) | AlertRecipient.unit_id.in_(units),
    )
    return list(db.session.scalars(stmt.order_by(AlertRecipient.id)))


def in_quiet_hours(recipient: AlertRecipient | None, now: datetime) -> bool:
    if recipient is None or recipient.quiet_start is None or recipient.quiet_end is None:
        return False
    local = now.astimezone(LOCAL)
    minute = local.hour * 60 + local.minute
    start, end = recipient.quiet_start, recipient.quiet_end
    if start <= end:
        return start <= minute < end
    return minute >= start or minute < end


def message_for(alert: DeskAlert) -> tuple[str, str]:
    """Subject and body, in Vietnamese (the recipients are desk heads in Đồng Nai)."""
    desk = alert.service_point
    where = f"{desk.name} ({desk.unit.name})"
    opened = alert.opened_at.astimezone(LOCAL).strftime("%H:%M %d/%m/%Y")
    if alert.kind == AlertKind.RATING:
        subject = f"[Cảnh báo] Đánh giá tại {where} giảm dưới chuẩn 80%"
        body = (
            f"Kính gửi ông/bà,\n\n"
            f"Từ {opened}, các đánh giá gần đây của người dân tại {where} cho thấy tỷ lệ "
            "đánh giá tốt hoặc rất tốt đã giảm xuống dưới chuẩn 80% của kế hoạch tỉnh "
            "Đồng Nai (quy tắc CUSUM một phía trên chính các đánh giá của bộ phận, "
            f"thống kê {alert.detail.get('statistic')} ≥ ngưỡng {rules.THRESHOLD:g}).\n\n"
            "Đánh giá qua mã QR và ki-ốt là mẫu thuận tiện, chỉ gồm những người chọn đánh "
            "giá. Đề nghị ông/bà xem các góp ý gần đây trên trang tổng hợp.\n\n"
            "Cảnh báo này không được gửi lại khi còn mở; cảnh báo đóng khi đánh giá trở "
            "lại mức chuẩn.\n"
        )
    else:
        day = date.fromisoformat(str(alert.detail.get("day"))).strftime("%d/%m/%Y")
        subject = f"[Cảnh báo] Không có đánh giá nào tại {where} ngày {day}"
        body = (
            f"Kính gửi ông/bà,\n\n"
            f"Ngày làm việc {day}, {where} không nhận được đánh giá nào, trong khi một ngày "
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
        for person in recipients_for(alert.service_point):
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
    states = {s.service_point_id: s for s in db.session.scalars(select(DeskAlertState))}
    opened = _check_ratings(states, now, result)
    db.session.flush()
    opened += _check_volume(states, now, result)
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
    }


def add_recipient(
    name: str,
    email: str,
    target: str,
    quiet_start: str | None = None,
    quiet_end: str | None = None,
) -> AlertRecipient:
    """A named person for a desk (``target`` "desk:ID") or a unit ("unit:ID")."""
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
    item = AlertRecipient(
        name=name, email=email, service_point=desk, unit=unit, quiet_start=start, quiet_end=end
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
