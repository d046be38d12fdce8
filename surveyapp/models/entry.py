"""Double data entry: each paper form keyed by two different keyers, then reconciled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base, utcnow
from surveyapp.models.sampling import Form
from surveyapp.models.users import User


class Keying(Base):
    """One keyer's entry of one form; answers by question code (None = left blank)."""

    __tablename__ = "keyings"
    __table_args__ = (UniqueConstraint("form_id", "keyer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    keyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    keystrokes: Mapped[int]
    # Fields where this entry differs from the final value (set when the form is final).
    errors: Mapped[int | None]
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)

    form: Mapped[Form] = relationship()
    keyer: Mapped[User] = relationship()
