"""Administrative units and the service points (one-stop desks) inside them.

Since 1 July 2025 Vietnam has two tiers of local government: the province and the
commune-level unit (xã, phường, đặc khu; ``Unit.kind``). The default tree is therefore
province → commune → village/hamlet (thôn, ấp, khu phố: the sample frame's clusters).
Districts (huyện, thị xã, thành phố thuộc tỉnh) remain possible as historical units: a
commune under a district under a province is still a valid, older structure. Every unit
carries its official code and the dates it was valid (``valid_from``/``valid_to``, empty
when open); :class:`UnitCrosswalk` says where an old unit's population went.
"""

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


# Which levels may sit under which. The default (post-2025) tree is province → commune →
# village; a commune under a district is the historical (pre-July-2025) structure.
PARENT_LEVELS: dict[UnitLevel, tuple[UnitLevel, ...]] = {
    UnitLevel.DISTRICT: (UnitLevel.PROVINCE,),
    UnitLevel.COMMUNE: (UnitLevel.PROVINCE, UnitLevel.DISTRICT),
    UnitLevel.VILLAGE: (UnitLevel.COMMUNE,),
}
# The default parent of each level in today's structure.
PARENT_LEVEL = {
    UnitLevel.DISTRICT: UnitLevel.PROVINCE,
    UnitLevel.COMMUNE: UnitLevel.PROVINCE,
    UnitLevel.VILLAGE: UnitLevel.COMMUNE,
}
#: The kinds a unit's name begins with, by level (today's and historical).
KINDS: dict[UnitLevel, tuple[str, ...]] = {
    UnitLevel.PROVINCE: ("tỉnh", "thành phố"),
    UnitLevel.DISTRICT: ("huyện", "thị xã", "thành phố", "quận"),
    UnitLevel.COMMUNE: ("xã", "phường", "đặc khu", "thị trấn"),
    UnitLevel.VILLAGE: ("thôn", "ấp", "khu phố", "bản", "tổ dân phố"),
}
#: The day the two-tier structure took effect (Resolution 202/2025/QH15 and the
#: Standing Committee's resolutions on each province's commune-level units).
REFORM_DATE = date(2025, 7, 1)


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint("(level = 'province') = (parent_id IS NULL)", name="province_is_root"),
        CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
            name="validity_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[UnitLevel] = mapped_column(str_enum(UnitLevel, "unit_level"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    urban: Mapped[bool | None]
    #: xã / phường / đặc khu (or thị trấn, huyện … for historical units); empty if unknown.
    kind: Mapped[str | None] = mapped_column(String(20))
    #: First and last day the unit existed with this code; empty = since / until always.
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]

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

    def valid_on(self, day: date) -> bool:
        """Whether the unit existed on ``day``."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )

    @property
    def historical(self) -> bool:
        """A unit that no longer exists (it has an end date)."""
        return self.valid_to is not None

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.name}>"


class UnitCrosswalk(Base, TimestampMixin):
    """Where an old unit's population went: one row per (old unit, new unit).

    ``share`` is the part of the old unit's population now in the new unit (0 < share ≤ 1;
    an old unit's shares add up to 1). A unit merged whole maps exactly (share 1); a split
    unit maps by population share, which is an approximation for anything but a head count.
    ``population`` (optional) is the number of people that moved; estimates for a new unit
    from old data weight the old units by it (or by the share when it is not known).
    """

    __tablename__ = "unit_crosswalk"
    __table_args__ = (
        UniqueConstraint("old_unit_id", "new_unit_id"),
        CheckConstraint("share > 0 AND share <= 1", name="share_in_range"),
        CheckConstraint("population IS NULL OR population >= 0", name="population_nonnegative"),
        CheckConstraint("old_unit_id <> new_unit_id", name="not_itself"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    old_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    new_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    share: Mapped[float]
    population: Mapped[int | None]
    source: Mapped[str] = mapped_column(String(300), default="")

    old_unit: Mapped[Unit] = relationship(foreign_keys=[old_unit_id])
    new_unit: Mapped[Unit] = relationship(foreign_keys=[new_unit_id])

    @property
    def exact(self) -> bool:
        """The old unit went whole into the new one."""
        return self.share >= 1.0


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
