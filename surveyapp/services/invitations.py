"""Invitation codes: create them in bulk, unique and unguessable."""

from __future__ import annotations

from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.invitations import Invitation, OneTimeCode, new_code


def unused_codes(model: type[OneTimeCode], count: int) -> list[str]:
    """``count`` fresh codes not yet stored in ``model``'s table, sorted.

    Codes have 50 random bits; a collision with an existing code is drawn again (the UNIQUE
    constraint on the code column would catch one that slipped through).
    """
    codes: set[str] = set()
    while len(codes) < count:
        batch = {new_code() for _ in range(count - len(codes))} - codes
        taken = set(db.session.scalars(select(model.code).where(model.code.in_(batch))))
        codes |= batch - taken
    return sorted(codes)


def create(campaign: Campaign, count: int) -> list[Invitation]:
    """Add ``count`` new invitations to the session and flush; the caller commits."""
    items = [Invitation(campaign=campaign, code=code) for code in unused_codes(Invitation, count)]
    db.session.add_all(items)
    db.session.flush()
    return items
