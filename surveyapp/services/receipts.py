"""Receipt codes: printed by a desk's queue system, one per transaction; each rates once.

The QR on the receipt opens ``/s/<desk token>?r=<code>``. A code belongs to one desk; it is
claimed in the same transaction that stores the rating, by a conditional UPDATE (so two
forms sent with one code store one rating, whatever the timing).
"""

from __future__ import annotations

from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models.invitations import normalise_code
from surveyapp.models.receipts import ReceiptCode
from surveyapp.models.units import ServicePoint
from surveyapp.services import links
from surveyapp.services.invitations import unused_codes

PARAM = "r"  # query parameter on the desk URL


def create(desk: ServicePoint, count: int) -> list[ReceiptCode]:
    """Add ``count`` codes for ``desk`` and flush; the caller commits."""
    codes = unused_codes(ReceiptCode, count)
    items = [ReceiptCode(service_point=desk, code=code) for code in codes]
    db.session.add_all(items)
    db.session.flush()
    return items


def url_for_code(desk: ServicePoint, receipt: ReceiptCode) -> str:
    return f"{links.desk_url(desk.token)}?{PARAM}={receipt.code}"


def find(desk_id: int, text: str) -> ReceiptCode | None:
    """The desk's receipt with this code (as typed or scanned), or None."""
    code = normalise_code(text or "")
    if not code or len(code) > 16:
        return None
    return db.session.scalar(
        select(ReceiptCode).where(ReceiptCode.code == code, ReceiptCode.service_point_id == desk_id)
    )
