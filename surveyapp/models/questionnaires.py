"""Versioned questionnaires: sections, questions, option sets and the index tree.

Every user-visible text is a ``{"vi": ..., "en": ...}`` mapping; :func:`text_in` picks the
language with Vietnamese as the fallback.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base, TimestampMixin, str_enum


def text_in(texts: dict[str, str] | None, lang: str, default: str = "vi") -> str:
    if not texts:
        return ""
    return texts.get(lang) or texts.get(default) or next(iter(texts.values()), "")


class QuestionType(enum.StrEnum):
    LIKERT5 = "likert5"
    SINGLE = "single"
    MULTI = "multi"
    YES_NO = "yes_no"
    TEXT = "text"
    SCALE10 = "scale10"  # 0–10, answered online (11 values do not fit one keyed digit)


class FormStyle(enum.StrEnum):
    FULL = "full"
    DESK = "desk"


class IndexLevel(enum.StrEnum):
    CRITERION = "criterion"
    FIELD = "field"
    OVERALL = "overall"


class AggregationRule(enum.StrEnum):
    MEAN = "mean"  # unweighted mean of the parts' values
    ITEM_WEIGHTED = "item_weighted"  # mean over all items beneath, each item once
    DESIGNATED = "designated"  # the value of one designated part
    POINTS = "points"  # points earned out of a maximum: parts weighted by their max points


class RespondentType(enum.StrEnum):
    """Who answers an instrument (declared in its TOML, kept with each response)."""

    CITIZEN = "citizen"  # người dân
    ORGANISATION = "organisation"  # doanh nghiệp, tổ chức
    OFFICIAL = "official"  # cán bộ, công chức


class Questionnaire(Base, TimestampMixin):
    __tablename__ = "questionnaires"
    __table_args__ = (
        UniqueConstraint("code", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50))
    version: Mapped[int]
    title: Mapped[dict[str, str]]
    satisfied_values: Mapped[list[str]]  # e.g. ["4", "5"]: top-2-box
    # "full": every question on one page (SIPAS); "desk": a short rating form whose
    # conditional "why?" follows the ratings, with a kiosk of five faces (see FormStyle).
    style: Mapped[str] = mapped_column(String(20), default="full", server_default="full")
    # The one rating a kiosk of the desk style asks (a question code), None for the full style.
    headline: Mapped[str | None] = mapped_column(String(20))
    # {"types": ["citizen", ...], "question": code or None, "values": {"1": "citizen", ...}}:
    # who answers; with several types, which single-choice question says which one.
    respondent: Mapped[dict[str, Any] | None]
    # How each rated item type scores (services.instruments.SCORING_DEFAULTS), e.g.
    # {"likert5": {"rule": "share", "values": [4, 5]}, "scale10": {"rule": "mean"}}.
    scoring: Mapped[dict[str, Any] | None]

    sections: Mapped[list[Section]] = relationship(
        back_populates="questionnaire", order_by="Section.position", cascade="all, delete-orphan"
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="questionnaire",
        order_by="Question.position",
        cascade="all, delete-orphan",
    )
    option_sets: Mapped[list[OptionSet]] = relationship(
        back_populates="questionnaire", cascade="all, delete-orphan"
    )
    index_nodes: Mapped[list[IndexNode]] = relationship(
        back_populates="questionnaire",
        order_by="IndexNode.position",
        cascade="all, delete-orphan",
    )

    @property
    def label(self) -> str:
        return f"{self.code} v{self.version}"

    def question(self, code: str) -> Question | None:
        return next((q for q in self.questions if q.code == code), None)


class Section(Base):
    __tablename__ = "sections"
    __table_args__ = (UniqueConstraint("questionnaire_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"))
    code: Mapped[str] = mapped_column(String(20))
    title: Mapped[dict[str, str]]
    position: Mapped[int]

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="sections")
    questions: Mapped[list[Question]] = relationship(
        back_populates="section", order_by="Question.position"
    )


class OptionSet(Base):
    __tablename__ = "option_sets"
    __table_args__ = (UniqueConstraint("questionnaire_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"))
    code: Mapped[str] = mapped_column(String(50))

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="option_sets")
    options: Mapped[list[Option]] = relationship(
        back_populates="option_set", order_by="Option.position", cascade="all, delete-orphan"
    )


class Option(Base):
    __tablename__ = "options"
    __table_args__ = (
        UniqueConstraint("option_set_id", "value"),
        CheckConstraint("value >= 0 AND value <= 9", name="single_digit_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    option_set_id: Mapped[int] = mapped_column(ForeignKey("option_sets.id"))
    # Single digits: a paper form is keyed one key per answer (0 means left blank).
    value: Mapped[int]
    label: Mapped[dict[str, str]]
    position: Mapped[int]

    option_set: Mapped[OptionSet] = relationship(back_populates="options")


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("questionnaire_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"))
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"))
    option_set_id: Mapped[int | None] = mapped_column(ForeignKey("option_sets.id"))
    code: Mapped[str] = mapped_column(String(20))
    type: Mapped[QuestionType] = mapped_column(str_enum(QuestionType, "question_type"))
    text: Mapped[dict[str, str]]
    position: Mapped[int]
    required: Mapped[bool] = mapped_column(default=False)
    # Shown (and stored) only when earlier answers meet this condition, e.g.
    # {"question": "d_overall", "in": [1, 2, 3]} or {"any": [condition, ...]}; None: always.
    show_if: Mapped[dict[str, Any] | None]
    # Points of a rated item that is a part of a ``points`` node; None otherwise.
    max_points: Mapped[float | None]

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="questions")
    section: Mapped[Section] = relationship(back_populates="questions")
    option_set: Mapped[OptionSet | None] = relationship()

    @property
    def values(self) -> list[int]:
        return [o.value for o in self.option_set.options] if self.option_set else []


class IndexNode(Base):
    """A node of the index tree (criterion, field or overall) and how it aggregates."""

    __tablename__ = "index_nodes"
    __table_args__ = (UniqueConstraint("questionnaire_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"))
    code: Mapped[str] = mapped_column(String(20))
    level: Mapped[IndexLevel] = mapped_column(str_enum(IndexLevel, "index_level"))
    rule: Mapped[AggregationRule] = mapped_column(str_enum(AggregationRule, "aggregation_rule"))
    name: Mapped[dict[str, str]]
    position: Mapped[int]
    # Points the node is scored out of (PAR INDEX / PAPI style); None for a share-only node.
    max_points: Mapped[float | None]

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="index_nodes")
    # Loaded with the nodes, in one query for all of them: every report reads every node's
    # parts (one query per node otherwise, twenty on a report page).
    parts: Mapped[list[IndexPart]] = relationship(
        back_populates="node",
        order_by="IndexPart.position",
        cascade="all, delete-orphan",
        foreign_keys="IndexPart.node_id",
        lazy="selectin",
    )

    @property
    def part_codes(self) -> list[str]:
        return [p.code for p in self.parts]


class IndexPart(Base):
    """One part of a node: either a question or another node (never both)."""

    __tablename__ = "index_parts"
    __table_args__ = (
        CheckConstraint("(question_id IS NULL) <> (child_id IS NULL)", name="question_xor_child"),
        UniqueConstraint("node_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("index_nodes.id"))
    position: Mapped[int]
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"))
    child_id: Mapped[int | None] = mapped_column(ForeignKey("index_nodes.id"))

    node: Mapped[IndexNode] = relationship(back_populates="parts", foreign_keys=[node_id])
    question: Mapped[Question | None] = relationship()
    child: Mapped[IndexNode | None] = relationship(foreign_keys=[child_id])

    @property
    def code(self) -> str:
        if self.question is not None:
            return self.question.code
        assert self.child is not None
        return self.child.code
