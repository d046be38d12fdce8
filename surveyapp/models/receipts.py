"""Receipt codes: a desk's queue system prints one per transaction; each rates once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base, TimestampMixin
from surveyapp.models.invitations import format_code, new_code
from surveyapp.models.units import ServicePoint


class ReceiptCode(Base, TimestampMixin):
    __tablename__ = "receipt_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True, default=new_code)
    used_at: Mapped[datetime | None]
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id"))

    service_point: Mapped[ServicePoint] = relationship()

    @property
    def used(self) -> bool:
        return self.used_at is not None

    @property
    def printed(self) -> str:
        return format_code(self.code)
