"""Invitation codes: create them in bulk, unique and unguessable."""

from __future__ import annotations

import hmac

from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.invitations import Invitation, OneTimeCode, new_code, normalise_code
from surveyapp.models.responses import Response

# Longer than any code we issue: refused before it reaches the database.
MAX_CODE = 16


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


def find(text: str) -> Invitation | None:
    """The invitation a person typed (dashes, spaces, O for 0 forgiven), or None."""
    code = normalise_code(text)
    if not code or len(code) > MAX_CODE:
        return None
    return db.session.scalar(select(Invitation).where(Invitation.code == code))


def answered_with(invitation: Invitation, nonce: str) -> bool:
    """Whether the invitation's stored answer came from the form with ``nonce``: a second
    tap on the same form, whose answer is safe, not someone else using the code."""
    if invitation.response_id is None or not nonce:
        return False
    stored = db.session.scalar(select(Response.nonce).where(Response.id == invitation.response_id))
    return stored is not None and hmac.compare_digest(stored, nonce)
