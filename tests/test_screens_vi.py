"""Screens of enumerators, supervisors, analysts and admins speak Vietnamese: no variable
codes, row codes, frame levels or raw audit JSON where a person reads them."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select
from support import login, make_config

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models.sampling import Batch, Form
from surveyapp.services import demo, entry

DEMOGRAPHIC_CODES = ("age_group", "ethnicity", "education", "occupation")


def _visible(html: str) -> str:
    """The page's text outside <details>, <script> and <code> (raw forms a person asks for)."""
    html = re.sub(r"<(details|script|code|textarea)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_staff_screens_show_vietnamese_instead_of_codes(client, demo_data) -> None:
    assert login(client, "admin", demo.DEMO_PASSWORD).status_code == 302
    # The demo's imports (published results) fill the newest pages: read each kind's own.
    audit = client.get("/admin/audit?entity=batch").get_data(as_text=True)
    text = _visible(audit)
    # One sentence per change, fields before → after; the stored record on demand.
    newest = db.session.scalar(select(func.max(Batch.id)))
    assert f"Hệ thống đã giao lô phiếu số {newest}." in text
    assert re.search(r"Điều tra viên</span>: \(trống\) → <strong>enumerator\d", audit)
    # The demo's other imports (published results) fill the first pages: filter by kind.
    targets = client.get("/admin/audit?entity=target").get_data(as_text=True)
    assert "Hệ thống đã nhập chỉ tiêu số 1." in _visible(targets)
    assert "Kết quả kỳ trước</span>: (trống) → <strong>80,23" in targets
    older = client.get("/admin/audit?page=2").get_data(as_text=True)
    assert "Hệ thống đã" in _visible(older) and "/admin/audit?page=1" in older
    assert client.get("/admin/audit?entity=nope").status_code == 400
    assert client.get("/admin/audit?page=x").status_code == 400
    assert '<details class="audit-raw"><summary>Bản ghi gốc</summary>' in audit
    assert "&#34;enumerator&#34;: null" in audit  # the raw record is still there, folded
    for raw in ("assign", f"batch {newest}", '{"enumerator"'):
        assert raw not in text
    # The filter names each kind of record, not a sentence with its number cut out.
    options = re.findall(r'<option value="[a-z_]+"[^>]*>([^<]+)</option>', audit)
    assert "Người dùng" in options and "Lô phiếu" in options and len(options) >= 10
    # ("dân số", population, is a word; "người dùng số" is "user no." without its number)
    cut = [o for o in options if o.endswith((" số", "%(id)s")) and not o.endswith("dân số")]
    assert not cut
    users = client.get("/admin/users").get_data(as_text=True)
    assert "/admin/users/new" in users and "surveyapp users create" not in users
    client.post("/logout")

    assert login(client, "supervisor", demo.DEMO_PASSWORD).status_code == 302
    frame = _visible(client.get("/entry/frame").get_data(as_text=True))
    assert "Huyện" in frame and "Xã/phường" in frame
    for level in ("province", "district", "commune", "village"):
        assert not re.search(rf"\b{level}\b", frame)
    draws = client.get("/entry/draws").get_data(as_text=True)
    assert "Số khởi tạo ngẫu nhiên (seed)" in draws and "Hạt giống" not in draws
    assert "chọn với xác suất tỷ lệ với quy mô" in draws
    assert "all, srs, systematic" not in _visible(draws)
    client.post("/logout")

    assert login(client, "enumerator1", demo.DEMO_PASSWORD).status_code == 302
    form = next(
        f
        for f in db.session.scalars(select(Form).order_by(Form.id))
        if entry.state(f) == entry.EntryState.OPEN
        and (f.invitation is None or f.invitation.used_at is None)
    )
    page = client.get(f"/entry/key/{form.serial}").get_data(as_text=True)
    assert page.count('data-label="Câu ') == 33 and 'data-label="Độ tuổi"' in page
    assert not any(code in _visible(page) for code in DEMOGRAPHIC_CODES)
    digits = {q.code: "1" for q in entry.keyed_questions(form.campaign.questionnaire)}
    review = client.post(f"/entry/key/{form.serial}", data={**digits, "step": "review"})
    shown = _visible(review.get_data(as_text=True))
    assert "Câu 5" in shown and "Dân tộc" in shown
    assert not any(code in shown for code in DEMOGRAPHIC_CODES)
    client.post("/logout")

    assert login(client, "analyst", demo.DEMO_PASSWORD).status_code == 302
    board = _visible(client.get(f"/dashboard/{demo_data.campaign_id}").get_data(as_text=True))
    assert "Chỉ số chung" in board and not re.search(r"\boverall\b", board)
    # One campaign: nothing to compare yet, and no one-point "trend" is drawn.
    trend = client.get(f"/dashboard/{demo_data.campaign_id}/trend").get_data(as_text=True)
    assert "chưa có gì để so sánh" in trend and "<svg" not in trend


def test_init_db_says_what_it_did(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app(make_config(tmp_path, None))
    first = app.test_cli_runner().invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    assert re.search(r"Đã tạo cơ sở dữ liệu: chạy \d+ bước nâng cấp", first.output)
    with app.app_context():
        again = app.test_cli_runner().invoke(args=["init-db"])
        assert "đã ở phiên bản lược đồ mới nhất" in again.output
        assert "Đã tạo" not in again.output
        db.engine.dispose()
