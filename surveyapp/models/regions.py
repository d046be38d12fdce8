"""Regions: named groups of communes a province defines (issue 13 §4), to break results
down by and to calibrate to, as the province chooses."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base, TimestampMixin
from surveyapp.models.units import Unit

# A region's name is a margin category (population_margins.category holds 50 characters).
REGION_NAME_LENGTH = 50


class UnitRegion(Base, TimestampMixin):
    """The region one commune belongs to (a commune belongs to at most one region)."""

    __tablename__ = "unit_regions"

    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    region: Mapped[str] = mapped_column(String(REGION_NAME_LENGTH), index=True)

    unit: Mapped[Unit] = relationship()
