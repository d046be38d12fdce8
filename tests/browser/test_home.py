from __future__ import annotations

from pathlib import Path


def test_home_page_is_vietnamese_and_switches_to_english(
    live_server: str, page, campaign, artifacts: Path
) -> None:
    page.goto(live_server + "/")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert "SIPAS thử nghiệm" in page.inner_text("main")
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    page.screenshot(path=str(artifacts / "home-360.png"), full_page=True)
