"""The comments page in a real browser: masked personal data, an escaped <script>, the
accent-free search, and axe-core with no serious or critical violation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from comments_support import desk_campaign, rate
from support import PASSWORD, make_user


def _axe(page: Any, artifacts: Path) -> None:
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    (artifacts / "axe-comments.json").write_text(json.dumps(violations, indent=2))
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, serious


def test_comments_page_masks_and_searches(live_server: str, page, app, artifacts: Path) -> None:
    ctx = desk_campaign()
    desk_a, desk_b = ctx["desks"]
    rate(
        ctx,
        desk_a,
        2,
        3,
        "1",
        "Chờ lâu quá, gọi 0912 345 678 hoặc an@gmail.com <script>x=1</script>",
    )
    rate(ctx, desk_b, 1, 2, "2", "Xe 60A-123.45 chắn cửa, CCCD 075203001234")
    rate(ctx, desk_b, 5, 5, None, "Cán bộ nhiệt tình")
    make_user("lan", "analyst")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.get_by_label("Tên đăng nhập").fill("lan")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/dashboard/")
    page.goto(f"{live_server}/dashboard/{ctx['campaign'].id}")
    page.get_by_role("link", name="Góp ý và lý do").first.click()
    table = page.locator("table.comments")
    text = table.inner_text()
    for personal in ("0912 345 678", "an@gmail.com", "60A-123.45", "075203001234"):
        assert personal not in text
    for label in ("[số điện thoại]", "[thư điện tử]", "[biển số xe]", "[số giấy tờ]"):
        assert label in text
    assert "<script>x=1</script>" in text  # shown as text, never run
    assert page.locator("table.comments script").count() == 0
    _axe(page, artifacts)
    page.get_by_label("Tìm trong góp ý").fill("cho lau")
    page.get_by_role("button", name="Áp dụng").click()
    rows = page.locator("table.comments tbody tr")
    assert rows.count() == 1
    assert "Chờ lâu quá" in rows.first.inner_text()
