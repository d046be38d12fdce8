"""What the comments page keeps beside a free-text answer: its search form and whether an
admin hid it. The answer itself stays as the citizen typed it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.models.base import Base


class CommentState(Base):
    """One row per free-text answer, written the first time the comments page reads it.

    ``folded`` is the text unaccented and lower-cased (đ → d), so a search for "cho lau"
    finds "chờ lâu" with a plain LIKE on SQLite and PostgreSQL alike. Answers never change
    once stored, so the folded text stays true; ``hidden`` is the admin's moderation and is
    not a cache (backups keep it).
    """

    __tablename__ = "comment_states"
    __table_args__ = (Index("ix_comment_states_response_id", "response_id"),)

    answer_id: Mapped[int] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    folded: Mapped[str] = mapped_column(String(2000))
    hidden: Mapped[bool] = mapped_column(default=False)
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
