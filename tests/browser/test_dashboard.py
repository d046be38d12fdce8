from __future__ import annotations

import re
from pathlib import Path

from openpyxl import load_workbook
from support import PASSWORD, make_user


def test_analyst_sees_twelve_verdicts_and_downloads_excel(
    live_server: str, page, demo_data, artifacts: Path, tmp_path: Path
) -> None:
    make_user("lan", "analyst")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.get_by_label("Tên đăng nhập").fill("lan")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/dashboard/")
    # This year's campaign (the 2024 one's name says it was on the old structure).
    name = re.compile(r"^Khảo sát SIPAS \d{4} tỉnh Đồng Nai \(dữ liệu mô phỏng\)$")
    page.get_by_role("link", name=name).click()
    table = page.locator("section.sample-probability table.results").first
    rows = table.locator("tbody tr")
    assert rows.count() == 13
    with_target = [rows.nth(i) for i in range(13) if rows.nth(i).locator(".verdict").count()]
    assert len(with_target) == 12
    for row in with_target:
        assert row.locator(".verdict").inner_text() in {"Đạt", "Không đạt", "Chưa đủ căn cứ"}
    page.screenshot(path=str(artifacts / "dashboard-1280.png"), full_page=True)
    with page.expect_download() as info:
        page.get_by_role("link", name="Tải tệp Excel").click()
    path = tmp_path / "report.xlsx"
    info.value.save_as(path)
    wb = load_workbook(path)
    codes = [r[0] for r in wb["Mẫu xác suất"].iter_rows(min_row=3, max_row=14, values_only=True)]
    assert codes == [1, "1.1", "1.2", "1.3", "1.4", 2, "2.1", "2.2", "2.3", "2.4", "2.5", "2.6"]
