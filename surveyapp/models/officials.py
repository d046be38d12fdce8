"""The officials' survey frame: agencies (cơ quan, đơn vị) and the officials invited in each.

PAR INDEX's sociological survey of leading and managing officials (điều tra xã hội học cán
bộ, công chức lãnh đạo, quản lý) is a census of a list the province draws up per agency.
Each listed official gets one invitation code (``invitations``), which answers once through
``/i/<code>``; completion per agency is then who of the list has used their code.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base, TimestampMixin
from surveyapp.models.campaigns import Campaign
from surveyapp.models.invitations import Invitation


class OfficialAgency(Base, TimestampMixin):
    """An agency of the frame, with the contact who is reminded about its completion."""

    __tablename__ = "official_agencies"
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))

    campaign: Mapped[Campaign] = relationship()
    officials: Mapped[list[OfficialInvitee]] = relationship(
        back_populates="agency", order_by="OfficialInvitee.id", cascade="all, delete-orphan"
    )


class OfficialInvitee(Base, TimestampMixin):
    """One official of the frame and the invitation code issued to them (one each)."""

    __tablename__ = "official_invitees"
    __table_args__ = (UniqueConstraint("agency_id", "staff_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("official_agencies.id"), index=True)
    staff_code: Mapped[str] = mapped_column(String(30))
    full_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(200))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"), unique=True)

    agency: Mapped[OfficialAgency] = relationship(back_populates="officials")
    invitation: Mapped[Invitation | None] = relationship()
