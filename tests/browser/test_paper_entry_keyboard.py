"""Heads-down keying in Chromium, keyboard only: a whole SIPAS form in 40 keystrokes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from paper_support import login_to_entry, one_village_draw, plan_toml
from sqlalchemy import select
from support import PASSWORD

from surveyapp.extensions import db
from surveyapp.models import Keying, Role
from surveyapp.services import entry, sampling, users

PLAN = plan_toml(seed=5, communes=("srs", 1), villages=("srs", 1), households=3, reserve=None)


def _setup(campaign) -> list[str]:  # type: ignore[no-untyped-def]
    draw_id = one_village_draw(campaign, PLAN, households=10)
    users.create_user("keyer", Role.ENUMERATOR, PASSWORD)
    db.session.commit()
    return [f.serial for f in sampling.forms_of(draw_id)]


def _login_and_open(page, live_server: str, serial: str, js: bool = True) -> None:  # type: ignore[no-untyped-def]
    login_to_entry(page, live_server, "keyer")
    page.goto(live_server + "/entry/key")
    page.wait_for_selector("#serial:focus")  # autofocus: no mouse needed
    page.keyboard.type(serial)
    page.keyboard.press("Enter")
    page.wait_for_selector("#keyform.js-keying" if js else "#keyform")  # handlers attached


def test_a_whole_form_is_keyed_in_40_keystrokes(
    live_server: str, page, campaign, artifacts: Path
) -> None:
    serials = _setup(campaign)
    page.set_viewport_size({"width": 1280, "height": 900})
    _login_and_open(page, live_server, serials[0])
    questions = entry.keyed_questions(campaign.questionnaire)
    assert len(questions) == 39
    rng = np.random.default_rng(3)
    digits = [str(int(rng.integers(0, max(q.values) + 1))) for q in questions]
    assert page.evaluate("document.activeElement.id") == "q1"

    keystrokes = 0
    for digit in digits:
        page.keyboard.press(digit)
        keystrokes += 1
    assert page.locator("#js-review").is_visible()
    assert page.evaluate("document.activeElement.id") == "save-button"
    page.screenshot(path=str(artifacts / "paper-entry-review.png"), full_page=True)
    page.keyboard.press("Enter")
    keystrokes += 1
    page.wait_for_url("**/entry/key?saved=*")
    assert keystrokes == 40
    print(f"\nKeystrokes after the serial for a full SIPAS form: {keystrokes}")

    db.session.expire_all()
    keying = db.session.scalar(select(Keying))
    assert keying is not None and keying.keystrokes == 40  # what the page itself counted
    expected = {q.code: (int(d) or None) for q, d in zip(questions, digits, strict=True)}
    assert keying.values == expected


def test_refused_keys_backspace_and_draft_survive_a_reload(
    live_server: str, page, campaign
) -> None:
    serials = _setup(campaign)
    _login_and_open(page, live_server, serials[1])
    page.keyboard.press("7")  # out of range for q1: refused on the spot
    assert page.input_value("#q1") == ""
    assert page.evaluate("document.activeElement.id") == "q1"
    assert "7" in page.inner_text("#key-status")
    page.keyboard.press("a")
    assert page.input_value("#q1") == ""
    page.keyboard.press("4")
    page.keyboard.press("5")
    assert page.evaluate("document.activeElement.id") == "q3"
    page.keyboard.press("Backspace")  # steps back to q2 and clears it
    assert page.evaluate("document.activeElement.id") == "q2"
    assert page.input_value("#q2") == ""
    page.keyboard.press("3")
    page.reload()  # e.g. the browser tab was reloaded: the draft comes back
    page.wait_for_selector("#keyform.js-keying")
    assert page.input_value("#q1") == "4" and page.input_value("#q2") == "3"
    assert page.evaluate("document.activeElement.id") == "q3"


def test_the_form_works_without_javascript(live_server: str, browser, campaign) -> None:
    serials = _setup(campaign)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        _login_and_open(page, live_server, serials[2], js=False)
        for q in entry.keyed_questions(campaign.questionnaire):
            page.fill(f"#{q.code}", "1")
        page.click("#review-button")
        page.wait_for_selector("#reviewform")
        page.click("#reviewform button[value=save]")
        page.wait_for_url("**/entry/key?saved=*")
    finally:
        context.close()
    db.session.expire_all()
    assert db.session.scalar(select(Keying)) is not None


def test_a_correction_from_the_review_returns_to_the_review(
    live_server: str, page, campaign
) -> None:
    serials = _setup(campaign)
    _login_and_open(page, live_server, serials[0])
    for _ in entry.keyed_questions(campaign.questionnaire):
        page.keyboard.press("1")
    assert page.locator("#js-review").is_visible()
    page.keyboard.press("Backspace")  # from the review: back to the last item
    assert page.evaluate("document.activeElement.id") == "area"
    page.keyboard.press("2")
    assert page.locator("#js-review").is_visible()
    page.click("#review-grid li:nth-child(5)")  # q5, with the mouse this time
    assert page.evaluate("document.activeElement.id") == "q5"
    page.keyboard.press("5")
    assert page.evaluate("document.activeElement.id") == "save-button"
    page.keyboard.press("Enter")
    page.wait_for_url("**/entry/key?saved=*")
    db.session.expire_all()
    keying = db.session.scalar(select(Keying))
    assert keying.values["q5"] == 5 and keying.values["area"] == 2 and keying.values["q4"] == 1
