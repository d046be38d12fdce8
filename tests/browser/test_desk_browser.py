"""The desk questionnaire in a real browser (issue 14 §1): the phone's tap count and time to
finish on a 360×740 screen, the kiosk's faces with a low rating and one reason, and axe-core
on every new page."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from surveyapp.extensions import db

MAX_TAPS = 8


@pytest.fixture
def app_config():  # type: ignore[no-untyped-def]
    return {"KIOSK_DESK_THANKS_SECONDS": 4}


@pytest.fixture
def desk(app, campaign):  # type: ignore[no-untyped-def]
    from surveyapp.models import Channel, ServicePoint, Unit, UnitLevel
    from surveyapp.services import campaigns, instruments

    qn = instruments.desk()
    campaigns.set_channel_questionnaires(campaign, {Channel.QR: qn.id, Channel.KIOSK: qn.id})
    district = Unit(
        code="75-731", name="Thành phố Biên Hòa", level=UnitLevel.DISTRICT, parent=campaign.units[0]
    )
    item = ServicePoint(unit=district, name="Bộ phận Một cửa UBND Biên Hòa")
    db.session.add_all([district, item])
    db.session.commit()
    return item


def _answers() -> list[dict[str, Any]]:
    from surveyapp.models import Response

    db.session.expire_all()
    return [
        {a.question.code: (a.value if a.value is not None else a.text) for a in r.answers}
        for r in db.session.scalars(select(Response).order_by(Response.id))
    ]


def _axe(page: Any, artifacts: Path, name: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    (artifacts / f"axe-desk-{name}.json").write_text(json.dumps(violations, indent=2))
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, serious


@pytest.fixture
def phone(browser: Any) -> Any:
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="vi-VN", has_touch=True, is_mobile=True
    )
    yield context.new_page()
    context.close()


def test_phone_rating_reason_and_send_in_at_most_eight_taps(
    live_server: str, phone: Any, desk: Any, artifacts: Path
) -> None:
    page = phone
    page.goto(f"{live_server}/s/{desk.token}")
    page.wait_for_selector("#submit")
    page.screenshot(path=str(artifacts / "desk-phone-360.png"), full_page=True)
    assert not page.locator("#d_reasons-1").is_visible()  # the "why?" waits for a low rating
    taps = 0
    started = time.perf_counter()

    def tap(selector: str) -> None:
        nonlocal taps
        page.tap(selector)
        taps += 1

    chosen = {
        "d_access": 4,
        "d_procedures": 4,
        "d_staff": 2,
        "d_results": 5,
        "d_complaints": 4,
        "d_overall": 3,
    }
    for code, value in chosen.items():
        tap(f"label[for='{code}-{value}']")
    # The low ratings show the reasons in place, with no page load.
    page.wait_for_selector("#d_reasons-3", state="visible")
    tap("label[for='d_reasons-3']")
    with page.expect_navigation():
        tap("#submit")
    page.wait_for_selector(".thanks")
    seconds = time.perf_counter() - started
    assert "Cảm ơn" in page.inner_text("main")
    assert taps <= MAX_TAPS
    (artifacts / "desk-phone-taps.json").write_text(
        json.dumps({"taps": taps, "seconds": round(seconds, 3), "viewport": "360x740"})
    )
    print(f"desk form on a 360x740 phone: {taps} taps, {seconds:.2f} s to the thank-you page")
    [stored] = _answers()
    assert stored == {**chosen, "d_reasons": "3"}
    # The thank-you page offers the full survey; axe on both.
    _axe(page, artifacts, "thanks")
    page.click("#full-survey")
    page.wait_for_selector("input[name=q1]")
    _axe(page, artifacts, "full-survey")


def test_phone_pages_pass_axe_with_the_reasons_shown_and_on_the_second_step(
    live_server: str, phone: Any, desk: Any, artifacts: Path
) -> None:
    page = phone
    page.goto(f"{live_server}/s/{desk.token}")
    _axe(page, artifacts, "form")
    page.tap("label[for='d_overall-1']")
    page.wait_for_selector("#d_why", state="visible")
    _axe(page, artifacts, "form-why-shown")
    # As a browser without JavaScript sends it: the server asks why on a second page.
    page.evaluate("document.getElementById('step').value = '1'")
    with page.expect_navigation():
        page.tap("#submit")
    assert page.locator("input[name=step][value='2']").count() == 1
    _axe(page, artifacts, "second-step")
    page.tap("label[for='d_reasons-6']")
    page.fill("#d_why", "Trễ hẹn hai lần")
    with page.expect_navigation():
        page.tap("#submit")
    assert _answers() == [{"d_overall": 1, "d_reasons": "6", "d_why": "Trễ hẹn hai lần"}]


def test_kiosk_low_rating_one_reason_thanks_and_back_within_five_seconds(
    live_server: str, browser: Any, desk: Any, artifacts: Path
) -> None:
    context = browser.new_context(
        viewport={"width": 1024, "height": 768}, locale="vi-VN", has_touch=True
    )
    page = context.new_page()
    try:
        start = f"{live_server}/k/{desk.token}"
        page.goto(start)
        assert page.locator("button.face").count() == 5
        page.screenshot(path=str(artifacts / "desk-kiosk-faces.png"))
        _axe(page, artifacts, "kiosk-faces")
        with page.expect_navigation():
            page.tap("#face-2")
        page.wait_for_selector("#reason-1")
        page.screenshot(path=str(artifacts / "desk-kiosk-reason.png"))
        _axe(page, artifacts, "kiosk-reason")
        assert _answers() == []  # nothing stored before the reason screen is answered
        with page.expect_navigation():
            page.tap("#reason-1")
        thanked = time.perf_counter()
        assert "Cảm ơn" in page.inner_text("main")
        _axe(page, artifacts, "kiosk-thanks")
        page.wait_for_url(start, timeout=8_000)
        page.wait_for_selector("#face-5")
        back_after = time.perf_counter() - thanked
        assert back_after <= 5.0 + 1.0  # the page says 4 s; a second for the page load
        (artifacts / "desk-kiosk-reset.json").write_text(
            json.dumps({"reset_seconds": round(back_after, 3)})
        )
        print(f"kiosk back at its start {back_after:.2f} s after the thank-you page")
        assert _answers() == [{"d_overall": 2, "d_reasons": "1"}]
    finally:
        context.close()


def test_desk_indices_and_channel_questionnaires_pass_axe(
    live_server: str, page: Any, demo_data: Any, artifacts: Path
) -> None:
    from support import PASSWORD, make_user

    make_user("lan-admin", "admin")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.get_by_label("Tên đăng nhập").fill("lan-admin")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/admin/**")
    page.goto(f"{live_server}/dashboard/{demo_data.current_campaign_id}/desks")
    table = page.locator("table.desk-index-table")
    assert table.locator("thead th").count() == 7  # desk, 2.1–2.5, overall
    page.screenshot(path=str(artifacts / "desk-indices-1280.png"), full_page=True)
    _axe(page, artifacts, "desk-indices")
    page.goto(f"{live_server}/admin/campaigns/{demo_data.current_campaign_id}")
    assert page.locator("#qn_qr").count() == 1
    _axe(page, artifacts, "admin-channels")
