"""The latest computed report of each kind for a campaign, shared by every app process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.models.base import Base


class ReportSnapshot(Base):
    """One computed report (or ranking, or trend) and the fingerprint of the inputs it was
    computed from (see :mod:`surveyapp.services.report_cache`). A cache: backups leave it
    out and it is rebuilt when first needed."""

    __tablename__ = "report_snapshots"
    __table_args__ = (UniqueConstraint("campaign_id", "key"), {"info": {"cache": True}})

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    # Hashes (hex SHA-256): of the report's kind and arguments, and of the inputs' fingerprint.
    key: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime]
    # Pickled by this app only (never from a user's upload): a report holds floats, strings,
    # dicts and lists, which JSON would hand back with NaN and tuples changed.
    payload: Mapped[bytes] = mapped_column(LargeBinary)
