"""The registry of published index results (SIPAS, PAR INDEX, PAPI, PCI) and own-survey history.

Each year the Ministry of Home Affairs publishes SIPAS and the PAR INDEX, UNDP and partners
PAPI, VCCI the PCI. Provinces compare their own survey with what is published and forecast the
next publication (services/official.py, analysis/forecast.py).
"""

from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.models.base import Base, TimestampMixin, str_enum


class OfficialIndex(enum.StrEnum):
    SIPAS = "sipas"
    PAR_INDEX = "par_index"
    PAPI = "papi"
    PCI = "pci"


class ResultKind(enum.StrEnum):
    #: A figure the index's publisher released.
    PUBLISHED = "published"
    #: The province's own survey for a year it was not run in this application (with its SE).
    OWN_SURVEY = "own_survey"


class OfficialResult(Base, TimestampMixin):
    """One figure of one index node, for one province and year.

    ``node`` is the index's own numbering (``1``, ``1.1`` … for SIPAS fields and criteria,
    ``1``–``8`` for the PAR INDEX fields), and ``total`` for the index as a whole. A rank keeps
    the number of provinces ranked that year (``rank_of``): 63 before the 2025 merger, 34
    after, and ranks out of different totals are never compared without saying so.
    """

    __tablename__ = "official_results"
    __table_args__ = (
        UniqueConstraint("index_code", "year", "province_code", "node", "kind"),
        CheckConstraint("rank IS NULL OR (rank >= 1 AND rank <= rank_of)", name="rank_in_range"),
        CheckConstraint("max_score IS NULL OR max_score > 0", name="max_positive"),
        CheckConstraint("se IS NULL OR se >= 0", name="se_nonnegative"),
        Index("ix_official_results_lookup", "index_code", "node", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    index_code: Mapped[OfficialIndex] = mapped_column(str_enum(OfficialIndex, "official_index"))
    kind: Mapped[ResultKind] = mapped_column(
        str_enum(ResultKind, "result_kind"), default=ResultKind.PUBLISHED
    )
    year: Mapped[int]
    province_code: Mapped[str] = mapped_column(String(10))
    province_name: Mapped[str] = mapped_column(String(100))
    node: Mapped[str] = mapped_column(String(20))
    node_name: Mapped[str] = mapped_column(String(300), default="")
    #: On the index's own scale: a percentage for SIPAS, points for the others.
    score: Mapped[float | None]
    #: The node's maximum on that scale (PAR INDEX 9.5 … 16.5; PAPI 10 per dimension, 80 in
    #: all; PCI 10 per sub-index, 100 in all); empty for percentages.
    max_score: Mapped[float | None]
    rank: Mapped[int | None]
    rank_of: Mapped[int | None]
    #: Standard error of an own-survey figure, on the score's scale.
    se: Mapped[float | None]
    source: Mapped[str] = mapped_column(String(300), default="")

    @property
    def percent(self) -> float | None:
        """The score as a share of its maximum (the PAR INDEX tables print it), in %."""
        if self.max_score and self.score is not None:
            return 100.0 * self.score / self.max_score
        return None
