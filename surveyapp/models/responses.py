"""Responses and their answers, with the design fields the analysis needs."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base, str_enum, utcnow
from surveyapp.models.campaigns import Campaign, Channel
from surveyapp.models.questionnaires import Question, Questionnaire
from surveyapp.models.units import ServicePoint, Unit


class ResponseStatus(enum.StrEnum):
    DRAFT = "draft"
    ENTERED = "entered"
    VERIFIED = "verified"
    FINAL = "final"
    VOID = "void"


class Response(Base):
    __tablename__ = "responses"
    __table_args__ = (
        CheckConstraint("weight IS NULL OR weight > 0", name="weight_positive"),
        # A dashboard query reads one campaign's final responses of one sample (0006).
        Index("ix_responses_campaign_status_channel", "campaign_id", "status", "channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "response_channel"))
    status: Mapped[ResponseStatus] = mapped_column(
        str_enum(ResponseStatus, "response_status"), default=ResponseStatus.FINAL
    )
    # One per form shown: a retried or double-tapped submission collides here, in the database.
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    service_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_points.id"), index=True
    )
    period_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_periods.id"))
    serial: Mapped[str | None] = mapped_column(String(20))
    # Design fields: stratum, first- and second-stage units, weight, per-stage population sizes.
    stratum: Mapped[str | None] = mapped_column(String(50))
    psu: Mapped[str | None] = mapped_column(String(50))
    ssu: Mapped[str | None] = mapped_column(String(50))
    weight: Mapped[float | None]
    fpc1: Mapped[float | None]
    fpc2: Mapped[float | None]
    language: Mapped[str] = mapped_column(String(5), default="vi")
    flags: Mapped[list[str]] = mapped_column(default=list)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    questionnaire: Mapped[Questionnaire] = relationship()
    unit: Mapped[Unit | None] = relationship()
    service_point: Mapped[ServicePoint | None] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )


class Answer(Base):
    __tablename__ = "answers"
    # Readers reach answers from their response, through this UNIQUE index; there is no
    # question-first index, since none read by it and each would be written ~40 times per
    # submission (migration 0005_submit_speed).
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    value: Mapped[int | None]
    text: Mapped[str | None] = mapped_column(String(2000))

    response: Mapped[Response] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()
