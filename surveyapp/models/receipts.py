"""Receipt codes: a desk's queue system prints one per transaction; each rates once."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base
from surveyapp.models.invitations import OneTimeCode
from surveyapp.models.units import ServicePoint


class ReceiptCode(OneTimeCode, Base):
    __tablename__ = "receipt_codes"

    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"), index=True)

    service_point: Mapped[ServicePoint] = relationship()
