"""The citizen form in a real browser (Debian Chromium): keyboard only on a 360 px phone,
no JavaScript, 320 px width, and an axe-core accessibility scan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from surveyapp.extensions import db


@pytest.fixture
def desk(app, campaign):  # type: ignore[no-untyped-def]
    from surveyapp.models import ServicePoint, Unit, UnitLevel

    district = Unit(
        code="75-731", name="Thành phố Biên Hòa", level=UnitLevel.DISTRICT, parent=campaign.units[0]
    )
    item = ServicePoint(unit=district, name="Bộ phận Một cửa UBND Biên Hòa")
    db.session.add_all([district, item])
    db.session.commit()
    return item


def _responses() -> list[Any]:
    from surveyapp.models import Response

    db.session.expire_all()
    return list(db.session.scalars(select(Response).order_by(Response.id)))


def _axe(page: Any, artifacts: Path, name: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response["violations"]
    (artifacts / f"axe-{name}.json").write_text(json.dumps(violations, indent=2))
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, serious


def _focused(page: Any) -> dict[str, str]:
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return {tag: e.tagName, name: e.name || '', value: e.value || '', id: e.id || ''}; }"
    )


def _tab_to(page: Any, predicate: Any, limit: int = 400) -> dict[str, str]:
    for _ in range(limit):
        page.keyboard.press("Tab")
        info = _focused(page)
        if predicate(info):
            return info
    raise AssertionError("never reached the element with the keyboard")


def test_citizen_completes_the_form_with_the_keyboard_only(
    live_server: str, page: Any, desk: Any, artifacts: Path
) -> None:
    page.goto(f"{live_server}/s/{desk.token}")
    assert page.locator("html").get_attribute("lang") == "vi"
    page.screenshot(path=str(artifacts / "citizen-form-360.png"), full_page=False)
    page.screenshot(path=str(artifacts / "citizen-form-360-full.png"), full_page=True)
    # No horizontal scrolling on a 360 px phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    chosen = {"q1": 4, "q2": 5, "q3": 3, "q4": 1, "q5": 2}
    for code, value in chosen.items():
        # Tab lands on the group's first radio; arrows move and select within the group.
        info = _tab_to(page, lambda i, c=code: i["name"] == c)
        assert info["value"] == "1"
        if value == 1:
            page.keyboard.press("Space")
        for _ in range(value - 1):
            page.keyboard.press("ArrowDown")
        assert _focused(page)["value"] == str(value)
    assert page.locator("#progress-count").inner_text() == str(len(chosen))
    # Sex: second option (Nữ) on the demographics group.
    _tab_to(page, lambda i: i["name"] == "sex")
    page.keyboard.press("ArrowDown")
    # Free text, then on to the Send button and Enter.
    _tab_to(page, lambda i: i["name"] == "comment")
    page.keyboard.type("Cán bộ nhiệt tình")
    _tab_to(page, lambda i: i["id"] == "submit")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/s/{desk.token}/thanks")
    assert "Cảm ơn" in page.inner_text("main")
    page.screenshot(path=str(artifacts / "citizen-thanks-360.png"), full_page=True)

    [stored] = _responses()
    got = {a.question.code: (a.value if a.value is not None else a.text) for a in stored.answers}
    assert got == {**chosen, "sex": 2, "comment": "Cán bộ nhiệt tình"}
    assert stored.channel.value == "qr" and stored.service_point_id == desk.id


def test_accessibility_scan_of_form_error_and_thank_you_pages(
    live_server: str, page: Any, desk: Any, artifacts: Path
) -> None:
    page.goto(f"{live_server}/s/{desk.token}")
    _axe(page, artifacts, "form")
    # The re-shown form with an error message beside the first item.
    with page.expect_navigation():
        page.click("#submit")
    assert page.locator("#q1-error").is_visible()
    _axe(page, artifacts, "form-error")
    page.check("#q1-5")
    with page.expect_navigation():
        page.click("#submit")
    assert "Cảm ơn" in page.inner_text("main")
    _axe(page, artifacts, "thanks")
    page.goto(f"{live_server}/s/no-such-token")
    _axe(page, artifacts, "404")
    page.goto(f"{live_server}/k/{desk.token}")
    _axe(page, artifacts, "kiosk")


def test_form_works_without_javascript_at_320px(
    live_server: str, browser: Any, desk: Any, artifacts: Path
) -> None:
    context = browser.new_context(
        viewport={"width": 320, "height": 640}, java_script_enabled=False, locale="vi-VN"
    )
    try:
        page = context.new_page()
        page.goto(f"{live_server}/s/{desk.token}")
        page.screenshot(path=str(artifacts / "citizen-form-320-nojs.png"))
        page.click("label[for=q1-5]")  # a tap on the label's text selects the answer
        page.click("label[for=q33-4]")
        with page.expect_navigation():
            page.click("#submit")
        assert "Cảm ơn" in page.inner_text("main")
    finally:
        context.close()
    [stored] = _responses()
    assert sorted((a.question.code, a.value) for a in stored.answers) == [("q1", 5), ("q33", 4)]


def test_double_click_on_send_stores_one(live_server: str, page: Any, desk: Any) -> None:
    page.goto(f"{live_server}/s/{desk.token}")
    page.check("#q1-4")
    with page.expect_navigation():
        page.dblclick("#submit")
    assert "Cảm ơn" in page.inner_text("main")
    page.go_back()  # back to the form the browser kept (same nonce), then send it again
    page.check("#q1-2")
    with page.expect_navigation():
        page.click("#submit")
    assert "Cảm ơn" in page.inner_text("main")
    [stored] = _responses()
    assert [(a.question.code, a.value) for a in stored.answers] == [("q1", 4)]


def test_invitation_and_not_open_pages_pass_the_scan(
    live_server: str, page: Any, desk: Any, campaign: Any, artifacts: Path
) -> None:
    from surveyapp.models import Invitation

    invitation = Invitation(campaign=campaign)
    db.session.add(invitation)
    db.session.commit()
    page.goto(f"{live_server}/i/{invitation.code}")
    _axe(page, artifacts, "invitation")
    page.check("#q10-4")
    with page.expect_navigation():
        page.click("#submit")
    assert "Cảm ơn" in page.inner_text("main")
    page.goto(f"{live_server}/i/{invitation.code}")
    assert "đã được sử dụng" in page.inner_text("main")
    _axe(page, artifacts, "invitation-used")
