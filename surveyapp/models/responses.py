"""Responses and their answers, with the design fields the analysis needs."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    false,
    text,
)
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
        # The few responses held out as bursts, counted on every report without reading the
        # campaign's others.
        Index(
            "ix_responses_held",
            "campaign_id",
            # The predicate as the queries write it (``held = true()``): SQLite matches a
            # partial index only on the same expression, PostgreSQL not on ``IS true``.
            sqlite_where=text("held = 1"),
            postgresql_where=text("held"),
        ),
        # A paper form's response, found from its form (which household responded, on every
        # report): only paper and invited answers carry a serial, so the index stays small.
        Index(
            "ix_responses_serial",
            "serial",
            sqlite_where=text("serial IS NOT NULL"),
            postgresql_where=text("serial IS NOT NULL"),
        ),
        # A desk rating and the full survey the same visitor chose to answer after it share a
        # random link id (derived from the rating's nonce): one answer per questionnaire.
        UniqueConstraint("link_id", "questionnaire_id"),
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
    # Who answered (models.questionnaires.RespondentType), as the instrument declares it.
    respondent_type: Mapped[str | None] = mapped_column(String(20))
    flags: Mapped[list[str]] = mapped_column(default=list)
    # Held out of every estimate (a burst, see services.abuse) until an analyst releases it.
    held: Mapped[bool] = mapped_column(default=False, server_default=false())
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Links a desk rating and the optional full survey answered after it (no personal data).
    link_id: Mapped[str | None] = mapped_column(String(32))

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


class ResponseBits(Base):
    """A response's answers folded into 62-bit masks, one row per block of a layout.

    Written by :mod:`surveyapp.data.bits` the first time a report needs them and read by
    the dashboard's cell query instead of the response's ~40 answer rows. Answers never
    change once stored, so a row stays true for as long as its response exists; it goes with
    the response (ON DELETE CASCADE). A cache: backups leave it out.
    """

    __tablename__ = "response_bits"
    # SQLite: rows stored in primary-key order, so the cell query's lookup by response finds
    # the bits in the key itself (with a rowid it would take a second b-tree search).
    __table_args__ = {"info": {"cache": True}, "sqlite_with_rowid": False}

    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # Which bit means what (a hash of the questionnaire's layout, see dashboard.bits).
    layout: Mapped[str] = mapped_column(String(16), primary_key=True)
    block: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    bits: Mapped[int] = mapped_column(BigInteger)
