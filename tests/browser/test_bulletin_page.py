"""The monthly bulletin in a real browser: reached from the desk standard page, printed on
exactly one A4 page (long names and comments included), its PDF downloaded; axe-core finds no
serious or critical violation on the bulletin, the desk standard page and /admin/alerts."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from comments_support import desk_campaign, rate
from support import PASSWORD, make_user

from surveyapp.extensions import db
from surveyapp.models import AlertRecipient, RecipientScope, ServicePoint


def _axe(page: Any, artifacts: Path, name: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    (artifacts / f"axe-{name}.json").write_text(json.dumps(violations, indent=2))
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, serious


def _login(page: Any, live_server: str, username: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/(dashboard|admin)/.*"))


def test_bulletin_from_the_desk_page_prints_on_one_a4_page(
    live_server: str, page, app, artifacts: Path, tmp_path: Path
) -> None:
    ctx = desk_campaign()
    desk_a, _desk_b = ctx["desks"]
    unit = desk_a.unit
    unit.name = ("Phường Trấn Biên — Trung tâm Phục vụ hành chính công " * 5)[:200]
    for i in range(9):
        name = (f"Quầy {i + 1}: tiếp nhận và trả kết quả thủ tục hành chính " * 4)[:200]
        db.session.add(ServicePoint(unit=unit, name=name))
    db.session.commit()
    long_comment = ("Chờ quá lâu, phải đi lại nhiều lần, mong cán bộ hướng dẫn kỹ hơn. " * 30)[
        :1980
    ]
    for i in range(4):
        rate(ctx, desk_a, 2, 3, "1,2", long_comment + f" gọi 0912 345 67{i}")
    for _ in range(6):
        rate(ctx, desk_a, 5, 4)
    make_user("lan", "analyst")
    page.set_viewport_size({"width": 1280, "height": 900})
    _login(page, live_server, "lan")
    page.goto(f"{live_server}/dashboard/{ctx['campaign'].id}")
    page.get_by_role("link", name="Chuẩn chất lượng bộ phận một cửa").first.click()
    _axe(page, artifacts, "desk-standard")
    month = f"{date.today():%m/%Y}"
    # "/" would end the selector's pattern: any character stands for it.
    pattern = re.compile(f"Bản tin {month.replace('/', '.')}.*Phường Trấn Biên")
    page.get_by_role("link", name=pattern).click()
    page.wait_for_selector("main.sheet")
    assert "Phường Trấn Biên" in page.locator("h1").inner_text()
    assert "0912 345 67" not in page.content()
    _axe(page, artifacts, "bulletin")

    page.emulate_media(media="print")
    page.set_viewport_size({"width": 703, "height": 900})  # 186 mm: A4 inside its margins
    page.screenshot(path=str(artifacts / "bulletin-print.png"), full_page=True)  # for a look
    assert not page.locator("nav.toolbar").is_visible()
    printed = page.pdf(format="A4", print_background=False)
    (artifacts / "bulletin-print.pdf").write_bytes(printed)
    assert len(re.findall(rb"/Type\s*/Page(?![s\w])", printed)) == 1
    page.emulate_media(media="screen")

    with page.expect_download() as info:
        page.get_by_role("link", name="Tải bản PDF").click()
    saved = tmp_path / "bulletin.pdf"
    info.value.save_as(saved)
    data = saved.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page(?![s\w])", data)) == 1


def test_alert_recipients_page_has_no_serious_axe_violation(
    live_server: str, page, app, artifacts: Path
) -> None:
    ctx = desk_campaign()
    unit_a, _unit_b = ctx["units"]
    db.session.add(
        AlertRecipient(
            name="Nguyễn Văn Hùng",
            email="hung@dongnai.gov.vn",
            unit=unit_a,
            scope=RecipientScope.COMMUNE,
            quiet_start=21 * 60,
            quiet_end=7 * 60,
        )
    )
    db.session.commit()
    make_user("quan", "admin")
    page.set_viewport_size({"width": 1280, "height": 900})
    _login(page, live_server, "quan")
    page.goto(f"{live_server}/admin/alerts")
    assert "Nguyễn Văn Hùng" in page.locator("table.recipients").inner_text()
    _axe(page, artifacts, "admin-alerts")
