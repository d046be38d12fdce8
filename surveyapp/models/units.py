"""Administrative units and the service points (one-stop desks) inside them."""

from __future__ import annotations

import enum
import secrets
from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base, TimestampMixin, str_enum


class UnitLevel(enum.StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"
    VILLAGE = "village"


# Which level may sit under which: the hierarchy is strict.
PARENT_LEVEL = {
    UnitLevel.DISTRICT: UnitLevel.PROVINCE,
    UnitLevel.COMMUNE: UnitLevel.DISTRICT,
    UnitLevel.VILLAGE: UnitLevel.COMMUNE,
}


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint("(level = 'province') = (parent_id IS NULL)", name="province_is_root"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[UnitLevel] = mapped_column(str_enum(UnitLevel, "unit_level"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    urban: Mapped[bool | None]

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.code")
    service_points: Mapped[list[ServicePoint]] = relationship(
        back_populates="unit", order_by="ServicePoint.name"
    )

    def ancestor(self, level: UnitLevel) -> Unit | None:
        unit: Unit | None = self
        while unit is not None and unit.level != level:
            unit = unit.parent
        return unit

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.name}>"


def new_token() -> str:
    """128 random bits, URL-safe: unguessable, and short enough for a QR code."""
    return secrets.token_urlsafe(16)


class ServicePoint(Base, TimestampMixin):
    """A one-stop desk (bộ phận một cửa) that citizens rate by QR code."""

    __tablename__ = "service_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    active: Mapped[bool] = mapped_column(default=True)

    unit: Mapped[Unit] = relationship(back_populates="service_points")
    volumes: Mapped[list[TransactionVolume]] = relationship(
        back_populates="service_point",
        order_by="TransactionVolume.period_start",
        cascade="all, delete-orphan",
    )


class TransactionVolume(Base):
    """How many transactions a desk handled in a period; weights QR responses."""

    __tablename__ = "transaction_volumes"
    __table_args__ = (
        UniqueConstraint("service_point_id", "period_start"),
        CheckConstraint("transactions >= 0", name="transactions_not_negative"),
        CheckConstraint("period_end >= period_start", name="period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"))
    period_start: Mapped[date]
    period_end: Mapped[date]
    transactions: Mapped[int]

    service_point: Mapped[ServicePoint] = relationship(back_populates="volumes")
