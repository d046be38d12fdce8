"""Campaigns: a questionnaire fielded over a period, in units, on channels, with targets."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Numeric,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base, TimestampMixin, str_enum
from surveyapp.models.questionnaires import IndexNode, Questionnaire
from surveyapp.models.units import Unit


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Channel(enum.StrEnum):
    QR = "qr"
    KIOSK = "kiosk"
    PAPER = "paper"
    WEB_INVITE = "web_invite"


campaign_units = Table(
    "campaign_units",
    Base.metadata,
    Column("campaign_id", ForeignKey("campaigns.id"), primary_key=True),
    Column("unit_id", ForeignKey("units.id"), primary_key=True),
)


class Campaign(Base, TimestampMixin):
    __tablename__ = "campaigns"
    __table_args__ = (CheckConstraint("ends >= starts", name="period_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"))
    status: Mapped[CampaignStatus] = mapped_column(
        str_enum(CampaignStatus, "campaign_status"), default=CampaignStatus.DRAFT
    )
    starts: Mapped[date]
    ends: Mapped[date]

    questionnaire: Mapped[Questionnaire] = relationship()
    units: Mapped[list[Unit]] = relationship(secondary=campaign_units, order_by="Unit.code")
    channels: Mapped[list[CampaignChannel]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan"
    )
    periods: Mapped[list[CampaignPeriod]] = relationship(
        back_populates="campaign", order_by="CampaignPeriod.starts", cascade="all, delete-orphan"
    )
    targets: Mapped[list[Target]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan"
    )

    @property
    def channel_set(self) -> set[Channel]:
        return {c.channel for c in self.channels}

    def questionnaire_on(self, channel: Channel) -> Questionnaire:
        """The questionnaire asked on ``channel`` (the campaign's own unless the channel
        names another)."""
        for item in self.channels:
            if item.channel == channel and item.questionnaire is not None:
                return item.questionnaire
        return self.questionnaire

    def is_open_on(self, day: date) -> bool:
        return self.status == CampaignStatus.OPEN and self.starts <= day <= self.ends


class CampaignChannel(Base):
    __tablename__ = "campaign_channels"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"), primary_key=True)
    # The questionnaire this channel asks; None: the campaign's own (e.g. the desk
    # questionnaire on QR and kiosk, SIPAS on paper and invitations).
    questionnaire_id: Mapped[int | None] = mapped_column(ForeignKey("questionnaires.id"))

    campaign: Mapped[Campaign] = relationship(back_populates="channels")
    questionnaire: Mapped[Questionnaire | None] = relationship()

    @property
    def asks(self) -> Questionnaire:
        """The questionnaire answered on this channel."""
        return self.questionnaire or self.campaign.questionnaire


class CampaignPeriod(Base):
    """A wave within a campaign (e.g. a quarter): trends and desk volumes are per period."""

    __tablename__ = "campaign_periods"
    __table_args__ = (
        UniqueConstraint("campaign_id", "name"),
        CheckConstraint("ends >= starts", name="period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    name: Mapped[str] = mapped_column(String(100))
    starts: Mapped[date]
    ends: Mapped[date]

    campaign: Mapped[Campaign] = relationship(back_populates="periods")


class Target(Base):
    """A province's target for one index node, in percent, with the previous result."""

    __tablename__ = "targets"
    __table_args__ = (
        UniqueConstraint("campaign_id", "index_node_id"),
        CheckConstraint("target_pct >= 0 AND target_pct <= 100", name="target_range"),
        CheckConstraint(
            "previous_pct IS NULL OR (previous_pct >= 0 AND previous_pct <= 100)",
            name="previous_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    index_node_id: Mapped[int] = mapped_column(ForeignKey("index_nodes.id"))
    target_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    previous_pct: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    previous_rank: Mapped[str | None] = mapped_column(String(20))
    target_rank: Mapped[str | None] = mapped_column(String(20))

    campaign: Mapped[Campaign] = relationship(back_populates="targets")
    index_node: Mapped[IndexNode] = relationship()
