"""One-time invitation codes: printed on a paper form or sent by SMS/Zalo, they open
``/i/<code>`` once so a household can answer online instead of on paper."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base, TimestampMixin
from surveyapp.models.campaigns import Campaign

# Crockford's base32 without I, L, O, U: nothing a reader can confuse when typing a code.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 random bits: unguessable at any realistic request rate


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """Accept what people type: lower case, spaces and dashes, O for 0, I/L for 1."""
    cleaned = text.upper().replace("-", "").replace(" ", "")
    return cleaned.translate(str.maketrans("OIL", "011"))


def format_code(code: str) -> str:
    """Printed in groups of five: ``ABCDE-12345``."""
    return f"{code[:5]}-{code[5:]}"


class OneTimeCode(TimestampMixin):
    """A printed code that answers once: claimed by setting ``used_at`` and ``response_id``."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True, default=new_code)
    used_at: Mapped[datetime | None]
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id"))

    @property
    def used(self) -> bool:
        return self.used_at is not None

    @property
    def printed(self) -> str:
        return format_code(self.code)


class Invitation(OneTimeCode, Base):
    __tablename__ = "invitations"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)

    campaign: Mapped[Campaign] = relationship()
