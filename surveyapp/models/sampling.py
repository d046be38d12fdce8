"""The paper channel's probability sample: the household frame, draws with per-stage inclusion
probabilities, printed forms (one per selected household) and enumerators' batches."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base, TimestampMixin, str_enum, utcnow
from surveyapp.models.campaigns import Campaign
from surveyapp.models.invitations import Invitation
from surveyapp.models.units import Unit
from surveyapp.models.users import User


class Household(Base):
    """One household of the sample frame, listed per village."""

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("village_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    head_name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")

    village: Mapped[Unit] = relationship()


class SampleDraw(Base, TimestampMixin):
    """One multistage selection: the plan as given, the seed, who drew it."""

    __tablename__ = "sample_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    seed: Mapped[int]
    plan: Mapped[dict[str, Any]]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    campaign: Mapped[Campaign] = relationship()
    units: Mapped[list[SampledUnit]] = relationship(
        back_populates="draw", cascade="all, delete-orphan"
    )


class SampledUnit(Base):
    """A unit selected at one stage, with its conditional inclusion probability."""

    __tablename__ = "sampled_units"
    __table_args__ = (
        UniqueConstraint("draw_id", "unit_id"),
        CheckConstraint("prob > 0 AND prob <= 1", name="prob_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("sample_draws.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    stage: Mapped[int]
    prob: Mapped[float]  # P(selected | parent selected)
    population: Mapped[int]  # units (or households) in the parent at this stage
    drawn: Mapped[int]  # units drawn in the parent at this stage

    draw: Mapped[SampleDraw] = relationship(back_populates="units")
    unit: Mapped[Unit] = relationship()


class FormFate(enum.StrEnum):
    PRINTED = "printed"
    HANDED_OUT = "handed_out"
    RETURNED = "returned"
    REFUSED = "refused"
    NOT_AT_HOME = "not_at_home"
    LOST = "lost"
    ANSWERED_ONLINE = "answered_online"


class Batch(Base, TimestampMixin):
    """A bundle of forms a supervisor hands to one enumerator."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    enumerator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    campaign: Mapped[Campaign] = relationship()
    enumerator: Mapped[User | None] = relationship()
    forms: Mapped[list[Form]] = relationship(back_populates="batch", order_by="Form.serial")


class Form(Base, TimestampMixin):
    """The paper form of one selected household: serial, invitation code, design fields, fate."""

    __tablename__ = "forms"
    __table_args__ = (
        UniqueConstraint("draw_id", "household_id"),
        CheckConstraint("weight > 0", name="weight_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("sample_draws.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    serial: Mapped[str] = mapped_column(String(20), unique=True)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"), unique=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), index=True)
    reserve: Mapped[bool] = mapped_column(default=False)
    fate: Mapped[FormFate] = mapped_column(
        str_enum(FormFate, "form_fate"), default=FormFate.PRINTED
    )
    fate_at: Mapped[datetime | None]
    # Conditional inclusion probability of every stage, first stage first.
    stage_probs: Mapped[list[float]] = mapped_column(JSON)
    weight: Mapped[float]
    stratum: Mapped[str | None] = mapped_column(String(50))
    psu: Mapped[str | None] = mapped_column(String(50))
    ssu: Mapped[str | None] = mapped_column(String(50))
    fpc1: Mapped[float | None]
    fpc2: Mapped[float | None]
    # Bumped under a row lock by every keying save: serialises double entry of one form.
    entry_version: Mapped[int] = mapped_column(default=0)

    campaign: Mapped[Campaign] = relationship()
    draw: Mapped[SampleDraw] = relationship()
    household: Mapped[Household] = relationship()
    invitation: Mapped[Invitation | None] = relationship()
    batch: Mapped[Batch | None] = relationship(back_populates="forms")

    def set_fate(self, fate: FormFate, at: datetime | None = None) -> bool:
        """Record the form's fate and when it changed (``at``, default now); the one place a
        fate is set. Returns False, changing nothing, when the form already has that fate."""
        if self.fate == fate:
            return False
        self.fate = fate
        self.fate_at = at if at is not None else utcnow()
        return True

    @property
    def fate_now(self) -> FormFate:
        """An invitation used online overrides what the paper trail says; a form returned on
        paper (whose final response also closes its invitation) stays returned."""
        used_at = self.invitation.used_at if self.invitation is not None else None
        return fate_now(self.fate, used_at)


def fate_now(fate: FormFate, invitation_used_at: datetime | None) -> FormFate:
    """:attr:`Form.fate_now` from the form's recorded fate and when its invitation was used
    (None: unused, or no invitation), for readers that fetch the two columns in bulk."""
    if fate == FormFate.RETURNED:
        return fate
    if invitation_used_at is not None:
        return FormFate.ANSWERED_ONLINE
    return fate
