"""Population margins a campaign's probability sample is calibrated to (imported by admins)."""

from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base, TimestampMixin, str_enum
from surveyapp.models.campaigns import Campaign


class MarginVariable(enum.StrEnum):
    """What a margin classifies people by.

    ``sex_age`` is sex × age group cross-classified: its categories are ``"<sex>-<age group>"``
    with the instrument's option values (``"2-3"``: female, 40–49). ``area`` uses the ``area``
    option values (1 urban, 2 rural). The geographic variables are named after the level
    their categories are: a unit level (``commune``: the commune-level unit codes; ``district``
    for a campaign on the historical structure) or ``region`` (the region names of
    :class:`surveyapp.models.regions.UnitRegion`). A campaign's margins use one of them.
    """

    SEX_AGE = "sex_age"
    AREA = "area"
    DISTRICT = "district"
    COMMUNE = "commune"
    REGION = "region"


class PopulationMargin(Base, TimestampMixin):
    """The population total of one category of one margin variable, for one campaign."""

    __tablename__ = "population_margins"
    __table_args__ = (
        UniqueConstraint("campaign_id", "variable", "category"),
        CheckConstraint("population >= 0", name="population_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    variable: Mapped[MarginVariable] = mapped_column(str_enum(MarginVariable, "margin_variable"))
    category: Mapped[str] = mapped_column(String(50))
    population: Mapped[float]
    source: Mapped[str] = mapped_column(String(300), default="")

    campaign: Mapped[Campaign] = relationship()
