"""The comments page (issue 14 §2): masking, accent-insensitive search, filters, pages,
reason counts, exports and moderation, through the routes an analyst and an admin use."""

from __future__ import annotations

import csv
import io

import pytest
from comments_support import desk_campaign, rate
from openpyxl import load_workbook
from sqlalchemy import select
from support import login, make_user

from surveyapp.extensions import db
from surveyapp.models import AuditLog
from surveyapp.services.comments import mask

PERSONAL = [
    ("Gọi lại cho tôi số 0912 345 678 nhé", "0912 345 678", "[số điện thoại]"),
    ("SĐT của tôi +84 912345678", "+84 912345678", "[số điện thoại]"),
    ("liên hệ 091.234.5678 buổi chiều", "091.234.5678", "[số điện thoại]"),
    ("máy bàn 0251 3822 123 không ai nghe", "0251 3822 123", "[số điện thoại]"),
    ("zalo 0987654321", "0987654321", "[số điện thoại]"),
    ("CCCD 075203001234 bị ghi sai ngày sinh", "075203001234", "[số giấy tờ]"),
    ("CMND cũ 271234567 chưa được cập nhật", "271234567", "[số giấy tờ]"),
    ("gửi về nguyen.van.an@gmail.com giúp tôi", "nguyen.van.an@gmail.com", "[thư điện tử]"),
    ("xe biển 60A-123.45 đậu chắn lối vào", "60A-123.45", "[biển số xe]"),
    ("xe máy 60B1-234.56 bị dắt đi", "60B1-234.56", "[biển số xe]"),
    ("xe 51F1-234.56 của tôi", "51F1-234.56", "[biển số xe]"),
    ("biển số 29-B1 123.45 bị giữ", "29-B1 123.45", "[biển số xe]"),
]

ORDINARY = [
    "chờ 3 ngày mới có kết quả",
    "năm 2025 làm nhanh hơn năm 2024",
    "hồ sơ số 12 bị trả lại 2 lần",
    "lệ phí 150.000 đồng, hẹn 10:30 ngày 12/03/2025",
    "quầy 5 đông, 45 phút mới tới lượt",
]


@pytest.mark.parametrize(("text", "personal", "label"), PERSONAL)
def test_personal_data_is_masked(app, text, personal, label):
    masked = mask(text)
    assert personal not in masked
    assert label in masked
    # The words around it stay.
    assert masked.split(label)[0] == text.split(personal)[0]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_numbers_are_kept(app, text):
    assert mask(text) == text


@pytest.fixture
def ctx(app):
    return desk_campaign()


def _analyst(client):
    make_user("analyst1", "analyst")
    assert login(client, "analyst1").status_code == 302
    return client


def test_page_masks_escapes_and_searches_without_accents(ctx, client):
    desk_a, desk_b = ctx["desks"]
    rate(ctx, desk_a, 2, 3, "1", "Chờ lâu quá, gọi 0912 345 678 <script>alert(1)</script>")
    rate(ctx, desk_b, 5, 5, None, "Cán bộ nhiệt tình")
    rate(ctx, desk_b, 3, 4, "2,3", None)
    _analyst(client)
    url = f"/dashboard/{ctx['campaign'].id}/comments"
    html = client.get(url).get_data(as_text=True)
    assert "0912 345 678" not in html
    assert "[phone number]" in html or "[số điện thoại]" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Cán bộ nhiệt tình" in html
    # A reasons-only response is listed too.
    assert html.count("<tr>") - 1 >= 3

    found = client.get(url, query_string={"q": "CHO LAU"}).get_data(as_text=True)
    assert "Chờ lâu quá" in found and "Cán bộ nhiệt tình" not in found
    found = client.get(url, query_string={"q": "nhiet tinh"}).get_data(as_text=True)
    assert "Cán bộ nhiệt tình" in found and "Chờ lâu quá" not in found
    # A LIKE wildcard typed by the analyst is a literal character.
    assert "Chờ lâu quá" not in client.get(url, query_string={"q": "%"}).get_data(as_text=True)


def test_filters_by_desk_unit_rating_and_reason(ctx, client):
    desk_a, desk_b = ctx["desks"]
    rate(ctx, desk_a, 2, 4, "1", "quầy A chậm")
    rate(ctx, desk_b, 4, 1, "2", "quầy B thái độ")
    _analyst(client)
    url = f"/dashboard/{ctx['campaign'].id}/comments"

    def shown(**args):
        html = client.get(url, query_string=args).get_data(as_text=True)
        return {t for t in ("quầy A chậm", "quầy B thái độ") if t in html}

    assert shown(desk=desk_a.id) == {"quầy A chậm"}
    assert shown(unit=ctx["units"][1].id) == {"quầy B thái độ"}
    assert shown(rating=1) == {"quầy B thái độ"}  # the lowest rating, not the overall
    assert shown(reason=1) == {"quầy A chậm"}
    assert shown(reason=3) == set()
    for bad in ({"desk": "999999"}, {"rating": "7"}, {"reason": "x"}, {"page": "-1"}):
        response = client.get(url, query_string=bad)
        assert response.status_code == 400, bad


def test_pages(ctx, client):
    desk_a, _b = ctx["desks"]
    for i in range(55):
        rate(ctx, desk_a, 2, 2, None, f"góp ý số {i}")
    _analyst(client)
    url = f"/dashboard/{ctx['campaign'].id}/comments"
    first = client.get(url).get_data(as_text=True)
    second = client.get(url, query_string={"page": 2}).get_data(as_text=True)
    assert "góp ý số 54<" in first and "góp ý số 0<" not in first
    assert "góp ý số 0<" in second and "góp ý số 54<" not in second
    assert 'rel="next"' in first and 'rel="prev"' in second


def test_reason_counts_per_desk_and_unit(ctx):
    from surveyapp.services import comments

    desk_a, desk_b = ctx["desks"]
    rate(ctx, desk_a, 2, 4, "1,2")
    rate(ctx, desk_a, 4, 3, "1")
    rate(ctx, desk_a, 3, 3, None)  # low, no reason ticked: in the base only
    rate(ctx, desk_a, 5, 5, None)  # not low: not counted
    rate(ctx, desk_b, 1, 1, "3")
    counts = comments.reason_counts(ctx["campaign"], comments.CommentFilters(), "vi")
    assert counts is not None
    assert [label for _v, label in counts.reasons][:2] == ["Chờ lâu", "Thái độ của cán bộ chưa tốt"]
    by_desk = {g.group: g for g in counts.by_desk}
    a = by_desk["Một cửa Trấn Biên"]
    assert (a.low, a.counts) == (3, {1: 2, 2: 1})
    assert a.share(1) == pytest.approx(2 / 3)
    by_unit = {g.group: g for g in counts.by_unit}
    assert (by_unit["Xã Long Thành"].low, by_unit["Xã Long Thành"].counts) == (1, {3: 1})
    assert counts.total.low == 4


def test_exports_are_masked_strings(ctx, client):
    desk_a, _b = ctx["desks"]
    rate(ctx, desk_a, 2, 2, "1", '=HYPERLINK("http://x") email an@vnpt.vn')
    _analyst(client)
    base = f"/dashboard/{ctx['campaign'].id}/comments"
    data = client.get(base + ".csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))
    assert rows[0][-1] == "comment"
    assert "an@vnpt.vn" not in data and "[thư điện tử]" in rows[1][-1]
    book = load_workbook(io.BytesIO(client.get(base + ".xlsx").data))
    cell = book.active.cell(2, 8)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    assert "an@vnpt.vn" not in cell.value
    assert all(c.data_type == "s" for c in book.active[2])


def test_admin_sees_raw_hides_and_shows_audited(ctx, app, client):
    desk_a, _b = ctx["desks"]
    rate(ctx, desk_a, 1, 1, None, "Đồ tồi! gọi 0912345678")
    rate(ctx, desk_a, 2, 2, None, "góp ý bình thường")
    campaign_id = ctx["campaign"].id
    base = f"/dashboard/{campaign_id}/comments"
    make_user("admin1", "admin")
    make_user("analyst1", "analyst")
    assert login(client, "analyst1").status_code == 302
    html = client.get(base).get_data(as_text=True)
    assert "Đồ tồi!" in html
    from surveyapp.models import CommentState

    answer_id = db.session.scalar(
        select(CommentState.answer_id).where(CommentState.folded.like("do toi%"))
    )
    # Analysts neither read the raw text nor moderate.
    assert client.get(f"{base}/{answer_id}").status_code == 403
    assert client.post(f"{base}/{answer_id}/hide").status_code in (400, 403)
    client = app.test_client()
    assert login(client, "admin1").status_code == 302
    raw = client.get(f"{base}/{answer_id}").get_data(as_text=True)
    assert "0912345678" in raw

    response = client.post(f"{base}/{answer_id}/hide", data=_csrf(client, f"{base}/{answer_id}"))
    assert response.status_code == 302
    html = client.get(base).get_data(as_text=True)
    assert "Đồ tồi!" not in html.split("Góp ý đã ẩn")[0]
    assert "góp ý bình thường" in html
    assert "Đồ tồi!" not in client.get(base + ".csv").get_data(as_text=True)
    client.post(f"{base}/{answer_id}/show", data=_csrf(client, f"{base}/{answer_id}"))
    assert "Đồ tồi!" in client.get(base + ".csv").get_data(as_text=True)
    actions = [
        (e.action, e.entity, e.entity_id)
        for e in db.session.scalars(select(AuditLog).where(AuditLog.entity == "comment"))
    ]
    assert actions == [("hide", "comment", str(answer_id)), ("unhide", "comment", str(answer_id))]
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert f"comment {answer_id}" in audit or f"góp ý {answer_id}" in audit


def _csrf(client, url):
    import re

    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    return {"csrf_token": match.group(1)} if match else {}
