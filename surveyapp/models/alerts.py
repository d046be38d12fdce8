"""Desk and commune alerts: each desk's and each commune centre's chart state, the alerts
themselves, who is told, and the audit of what was sent.

A commune alert pools every desk of a commune-level unit (its public-administration service
centre); it is a :class:`DeskAlert` row with ``unit_id`` set instead of ``service_point_id``."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base, TimestampMixin, str_enum, utcnow
from surveyapp.models.units import ServicePoint, Unit


class AlertKind(enum.StrEnum):
    RATING = "rating"  # the CUSUM crossed its threshold
    VOLUME = "volume"  # a usually busy working day without ratings


class DeskAlertState(Base):
    """Where a desk's checks stopped: the next check reads only ratings after
    ``last_response_id`` and only working days after ``volume_day``."""

    __tablename__ = "desk_alert_states"

    service_point_id: Mapped[int] = mapped_column(
        ForeignKey("service_points.id", ondelete="CASCADE"), primary_key=True
    )
    statistic: Mapped[float] = mapped_column(default=0.0)
    last_response_id: Mapped[int] = mapped_column(default=0)
    volume_day: Mapped[date | None]


class UnitAlertState(Base):
    """Where a commune centre's pooled checks stopped (as :class:`DeskAlertState` for a desk)."""

    __tablename__ = "unit_alert_states"

    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    statistic: Mapped[float] = mapped_column(default=0.0)
    last_response_id: Mapped[int] = mapped_column(default=0)
    volume_day: Mapped[date | None]


class DeskAlert(Base):
    """An alert about one desk, or about one commune centre (all its desks pooled)."""

    __tablename__ = "desk_alerts"
    __table_args__ = (
        CheckConstraint("(service_point_id IS NULL) <> (unit_id IS NULL)", name="desk_or_unit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_points.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AlertKind] = mapped_column(str_enum(AlertKind, "alert_kind"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    service_point: Mapped[ServicePoint | None] = relationship()
    unit: Mapped[Unit | None] = relationship()


class RecipientScope(enum.StrEnum):
    """What a person named for a unit is told of (a desk's person: that desk's alerts)."""

    ALL = "all"  # every desk of the unit's subtree, and its commune centres' pooled alerts
    DESKS = "desks"  # only the desks' own alerts
    COMMUNE = "commune"  # only the commune centres' pooled alerts


class AlertRecipient(Base, TimestampMixin):
    """A named person told of one desk's alerts, or of the alerts of a unit's subtree: its
    desks', its commune centres' (all desks of a commune pooled), or both (``scope``).

    Quiet hours are minutes after midnight in Asia/Ho_Chi_Minh; ``quiet_start`` after
    ``quiet_end`` spans midnight (21:00–07:00)."""

    __tablename__ = "alert_recipients"
    __table_args__ = (
        CheckConstraint("(service_point_id IS NULL) <> (unit_id IS NULL)", name="desk_or_unit"),
        CheckConstraint("(quiet_start IS NULL) = (quiet_end IS NULL)", name="quiet_hours_both"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    service_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_points.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    quiet_start: Mapped[int | None]
    quiet_end: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    scope: Mapped[RecipientScope] = mapped_column(
        str_enum(RecipientScope, "recipient_scope"),
        default=RecipientScope.ALL,
        server_default=RecipientScope.ALL.value,
    )

    service_point: Mapped[ServicePoint | None] = relationship()
    unit: Mapped[Unit | None] = relationship()


class NotificationStatus(enum.StrEnum):
    HELD = "held"  # waiting for the recipient's quiet hours to end
    SENT = "sent"
    FAILED = "failed"  # the SMTP server refused or was unreachable; retried next check


class AlertNotification(Base):
    """One e-mail about one alert to one recipient: the audit of who was told what and when."""

    __tablename__ = "alert_notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("desk_alerts.id", ondelete="CASCADE"))
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_recipients.id", ondelete="SET NULL")
    )
    # Copied, so the audit still says who was told after a recipient is removed.
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[NotificationStatus] = mapped_column(
        str_enum(NotificationStatus, "notification_status")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(500))

    alert: Mapped[DeskAlert] = relationship()
