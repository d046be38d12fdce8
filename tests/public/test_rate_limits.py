"""Flask-Limiter on the citizen pages: per address and per desk, a Vietnamese 429."""

from __future__ import annotations

import pytest

from surveyapp.extensions import db


def _post(client, url: str, fresh_nonce, address: str = "198.51.100.20", **answers: str):  # type: ignore[no-untyped-def]
    data = {"nonce": fresh_nonce(url), **answers}
    return client.post(url, data=data, environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def app_config():  # type: ignore[no-untyped-def]
    """The limiter on, with tiny limits (the shared test config turns it off)."""
    return {
        "RATELIMIT_ENABLED": True,
        "SUBMIT_RATE_LIMIT_IP": "3 per minute",
        "SUBMIT_RATE_LIMIT_DESK": "2 per minute",
        "FORM_RATE_LIMIT_IP": "1000 per minute",
    }


def test_rate_limit_per_desk_gives_a_vietnamese_429(client, desk, fresh_nonce, responses) -> None:
    url = f"/s/{desk.token}"
    assert _post(client, url, fresh_nonce, address="192.0.2.10", q1="4").status_code == 303
    assert _post(client, url, fresh_nonce, address="192.0.2.11", q1="4").status_code == 303
    refused = _post(client, url, fresh_nonce, address="192.0.2.12", q1="4")
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    assert "Quá nhiều lần thử" in html and "Traceback" not in html
    # The kiosk at the same desk shares that desk's budget.
    assert (
        _post(client, f"/k/{desk.token}", fresh_nonce, address="192.0.2.13", q1="4").status_code
        == 429
    )
    assert len(responses()) == 2


def test_rate_limit_per_address_across_desks(client, desk, fresh_nonce, responses) -> None:
    from surveyapp.models import ServicePoint

    others = [ServicePoint(unit=desk.unit, name=f"Quầy {i}") for i in range(3)]
    db.session.add_all(others)
    db.session.commit()
    codes = [
        _post(client, f"/s/{d.token}", fresh_nonce, q1="4").status_code for d in [desk, *others]
    ]
    assert codes == [303, 303, 303, 429]
    assert len(responses()) == 3
