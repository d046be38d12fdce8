"""Issue 13 §4: a hundred communes on a phone. The commune breakdown, its chart and the
small-area page fit a 360 px screen without horizontal page scroll, and the tables sort by
click or keyboard (a plain table without the script)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from level_support import two_tier
from support import PASSWORD, make_user

WIDTH = 360


def _login(page: Any, live_server: str) -> None:
    make_user("lan", "analyst")
    page.goto(f"{live_server}/login")
    page.get_by_label("Tên đăng nhập").fill("lan")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/dashboard/")


def _no_page_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        f" > {WIDTH} + 0.5 && !(e.parentElement.closest('table, pre, .table-scroll')))"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className)"
    )
    assert width <= WIDTH, f"the page is {width} px wide on a {WIDTH} px screen: {wide}"


def _column(page: Any, table: str, index: int) -> list[str]:
    return page.eval_on_selector_all(
        f"{table} tbody tr", f"rows => rows.map(r => r.cells[{index}].dataset.sort)"
    )


def test_a_hundred_communes_on_a_phone(
    live_server: str, page: Any, campaign: Any, artifacts: Path
) -> None:
    two_tier(campaign, 100)
    _login(page, live_server)
    page.goto(f"{live_server}/dashboard/{campaign.id}")
    table = "section.sample-probability table.by-domain"
    assert page.locator(f"{table} tbody tr").count() == 100
    chart = page.locator("svg.domain-chart").first
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] <= WIDTH and box["height"] < 2 * 740
    _no_page_scroll(page)
    chart.screenshot(path=str(artifacts / "communes-chart-360.png"))
    # sort by estimate with the keyboard: the header is a button, Enter sorts ascending,
    # again descending, and aria-sort says which
    header = page.locator(f"{table} thead th").nth(1)
    button = header.locator("button.sort")
    button.focus()
    page.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "ascending"
    ascending = [float(v) for v in _column(page, table, 1)]
    assert ascending == sorted(ascending)
    page.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "descending"
    descending = [float(v) for v in _column(page, table, 1)]
    assert descending == sorted(ascending, reverse=True)
    # by mouse: n, then rank
    page.locator(f"{table} thead th").nth(4).locator("button").click()
    ranks = [int(v) for v in _column(page, table, 4)]
    assert ranks == list(range(1, 101))
    _no_page_scroll(page)
    page.goto(f"{live_server}/dashboard/{campaign.id}/sae")
    assert page.locator("table.sae tbody tr").count() == 100
    _no_page_scroll(page)


def test_without_the_script_the_table_is_plain(
    live_server: str, browser: Any, campaign: Any
) -> None:
    two_tier(campaign, 12, per_commune=3)
    context = browser.new_context(
        viewport={"width": WIDTH, "height": 740}, locale="vi-VN", java_script_enabled=False
    )
    page = context.new_page()
    try:
        _login(page, live_server)
        page.goto(f"{live_server}/dashboard/{campaign.id}")
        table = page.locator("section.sample-probability table.by-domain")
        assert table.locator("tbody tr").count() == 12
        assert table.locator("button.sort").count() == 0
        _no_page_scroll(page)
    finally:
        context.close()
