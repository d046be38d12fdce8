"""Administrative covariates per unit for small-area estimation (imported by admins)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base, TimestampMixin
from surveyapp.models.campaigns import Campaign
from surveyapp.models.units import Unit


class AreaCovariate(Base, TimestampMixin):
    """One unit's administrative covariates for one campaign's small-area model.

    Shares in [0, 1]; a column the province did not import is NULL for every unit of the
    campaign (the import is all or nothing, so a campaign never mixes present and missing).
    """

    __tablename__ = "area_covariates"
    __table_args__ = (
        UniqueConstraint("campaign_id", "unit_id"),
        CheckConstraint("on_time_rate BETWEEN 0 AND 1", name="on_time_rate_share"),
        CheckConstraint("online_share BETWEEN 0 AND 1", name="online_share_share"),
        CheckConstraint("urban_share BETWEEN 0 AND 1", name="urban_share_share"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    on_time_rate: Mapped[float | None]
    online_share: Mapped[float | None]
    urban_share: Mapped[float | None]
    source: Mapped[str] = mapped_column(String(300), default="")

    campaign: Mapped[Campaign] = relationship()
    unit: Mapped[Unit] = relationship()
