"""The officials' form (0–10 and yes/no items) in a real browser: answered with the mouse on a
phone, stored once with the official's respondent type, and free of serious axe findings."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from surveyapp.extensions import db


@pytest.fixture
def official_code(app):  # type: ignore[no-untyped-def]
    from surveyapp.services import officials

    item = officials.create_campaign(
        "Điều tra cán bộ 2026", date.today() - timedelta(days=1), date.today() + timedelta(days=9)
    )
    frame = (
        "agency_code,agency_name,staff_code,full_name\nSNV,Sở Nội vụ,CB01,Nguyễn Văn An\n"
    ).encode()
    officials.import_frame(item, frame, "frame.csv")
    officials.issue_codes(item)
    db.session.commit()
    return officials.code_list(item)[0].code.replace("-", "")


def test_an_official_answers_the_ten_point_form(
    page: Any, live_server: str, official_code: str, artifacts: Path
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    from surveyapp.models import Response

    page.goto(f"{live_server}/i/{official_code}")
    assert "Cán bộ, công chức lãnh đạo, quản lý" in page.inner_text(".respondent-type")
    assert "0 = rất kém, 10 = rất tốt." in page.inner_text(".survey-head")
    assert page.locator("input[name=f1a]").count() == 11
    violations = Axe().run(page).response["violations"]
    (artifacts / "axe-officials-form.json").write_text(json.dumps(violations, indent=2))
    assert not [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
    page.check("#f1a-8")
    page.check("#f1c-1")
    page.click("#submit")
    page.wait_for_url(f"**/i/{official_code}/thanks**")
    db.session.expire_all()
    stored = db.session.query(Response).one()
    assert stored.respondent_type == "official"
    assert {a.question.code: a.value for a in stored.answers} == {"f1a": 8, "f1c": 1}
