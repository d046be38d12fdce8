"""Fixtures for the citizen channel: a desk under the open campaign's province."""

from __future__ import annotations

from typing import Any

import pytest
from support import nonce_of

from surveyapp.extensions import db


@pytest.fixture
def desk(app, campaign):  # type: ignore[no-untyped-def]
    from surveyapp.models import ServicePoint, Unit, UnitLevel

    province = campaign.units[0]
    district = Unit(
        code="75-731", name="Thành phố Biên Hòa", level=UnitLevel.DISTRICT, parent=province
    )
    item = ServicePoint(unit=district, name="Bộ phận Một cửa UBND Biên Hòa")
    db.session.add_all([district, item])
    db.session.commit()
    return item


@pytest.fixture
def fresh_nonce(client):  # type: ignore[no-untyped-def]
    """``fresh_nonce(url)``: open the form at ``url`` and return its nonce."""

    def _fresh(url: str) -> str:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return nonce_of(response.get_data(as_text=True))

    return _fresh


@pytest.fixture
def responses():  # type: ignore[no-untyped-def]
    """``responses()``: every stored response, oldest first."""
    from sqlalchemy import select

    from surveyapp.models import Response

    def _all() -> list[Any]:
        db.session.expire_all()
        return list(db.session.scalars(select(Response).order_by(Response.id)))

    return _all
