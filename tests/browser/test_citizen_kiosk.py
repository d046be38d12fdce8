"""The kiosk in a real browser: back to a fresh start after sending and after idling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from surveyapp.extensions import db


@pytest.fixture
def app_config():  # type: ignore[no-untyped-def]
    return {"KIOSK_IDLE_SECONDS": 2, "KIOSK_THANKS_SECONDS": 1}


@pytest.fixture
def desk(app, campaign):  # type: ignore[no-untyped-def]
    from surveyapp.models import ServicePoint

    item = ServicePoint(unit=campaign.units[0], name="Quầy tiếp dân số 1")
    db.session.add(item)
    db.session.commit()
    return item


def _count() -> int:
    from surveyapp.models import Response

    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Response)) or 0


def test_kiosk_resets_after_submit_and_after_idle(
    live_server: str, page: Any, desk: Any, artifacts: Path
) -> None:
    start = f"{live_server}/k/{desk.token}"
    page.goto(start)
    page.screenshot(path=str(artifacts / "citizen-kiosk-360.png"))
    first_nonce = page.locator("input[name=nonce]").input_value()
    page.check("#q1-5")
    page.check("#sex-2")
    page.fill("#comment", "Riêng tư")
    with page.expect_navigation():
        page.click("#submit")
    assert "Cảm ơn" in page.inner_text("main")
    # The thank-you page returns to a fresh, empty form by itself.
    page.wait_for_url(start, timeout=10_000)
    page.wait_for_selector("#submit")
    assert page.locator("input[type=radio]:checked").count() == 0
    assert page.locator("#comment").input_value() == ""
    assert page.locator("input[name=nonce]").input_value() != first_nonce
    assert page.context.cookies() == []
    assert _count() == 1

    # Someone starts, then walks away: after the idle time the answers are gone.
    page.check("#q2-3")
    page.fill("#comment", "bỏ dở")
    nonce = page.locator("input[name=nonce]").input_value()
    page.wait_for_function(
        "n => document.querySelector('input[name=nonce]') &&"
        " document.querySelector('input[name=nonce]').value !== n",
        arg=nonce,
        timeout=10_000,
    )
    assert page.locator("input[type=radio]:checked").count() == 0
    assert page.locator("#comment").input_value() == ""
    # Back does not bring the previous person's answers back either.
    page.go_back()
    page.wait_for_selector("#submit")
    assert page.locator("input[type=radio]:checked").count() == 0
    assert _count() == 1
