"""A desk that handled no transactions in a period can be recorded as such (a NEW defect found
by the messy-campaign test: the page refused 0 with "This field is required.", so a closed desk
could only be left without any volume, which the report cannot tell from a missing figure)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from support import login, make_user

from surveyapp.extensions import db
from surveyapp.models import ServicePoint, TransactionVolume, Unit, UnitLevel


def test_a_zero_transaction_volume_is_recorded(app, client) -> None:  # type: ignore[no-untyped-def]
    province = Unit(code="75", name="Tỉnh Đồng Nai", level=UnitLevel.PROVINCE)
    db.session.add(province)
    db.session.commit()
    make_user("admin-user", "admin")
    assert login(client, "admin-user").status_code == 302
    client.post("/admin/desks/new", data={"name": "Quầy đóng cửa", "unit_id": province.id})
    desk = db.session.scalar(select(ServicePoint))
    response = client.post(
        f"/admin/desks/{desk.id}",
        data={"period_start": "2025-01-01", "period_end": "2025-03-31", "transactions": "0"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    volume = db.session.scalar(select(TransactionVolume))
    assert volume.transactions == 0 and volume.period_start == date(2025, 1, 1)
    # An empty field is still refused, and a negative number too; neither is stored.
    for text in ("", "-1"):
        refused = client.post(
            f"/admin/desks/{desk.id}",
            data={"period_start": "2025-04-01", "period_end": "2025-04-30", "transactions": text},
        )
        assert refused.status_code == 200
    assert db.session.query(TransactionVolume).count() == 1
