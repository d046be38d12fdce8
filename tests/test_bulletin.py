"""Issue 14 §4: the monthly desk bulletin of a commune centre, from the command line and the
dashboard, in HTML and as a one-page A4 PDF."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from comments_support import desk_campaign, rate

from surveyapp.extensions import db
from surveyapp.models import Response, ServicePoint

PHONE = "0912 345 678"


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def _month_ago(months: int) -> datetime:
    today = date.today()
    index = today.year * 12 + today.month - 1 - months
    return datetime(index // 12, index % 12 + 1, 15, 3, 0, tzinfo=UTC)


def _move(response_ids: list[int], moment: datetime) -> None:
    for rid in response_ids:
        item = db.session.get(Response, rid)
        assert item is not None
        item.submitted_at = moment
    db.session.commit()


@pytest.fixture
def ctx(app):  # type: ignore[no-untyped-def]
    return desk_campaign()


@pytest.fixture
def rated(ctx):  # type: ignore[no-untyped-def]
    """This month at Phường Trấn Biên: 6 ratings, 4 good, 2 low with reasons and comments;
    two months ago: 3 ratings, 1 good. The other commune's ratings must not show."""
    desk_a, desk_b = ctx["desks"]
    now = datetime.now(UTC).replace(day=1, hour=5)
    ids = [rate(ctx, desk_a, 5, 5) for _ in range(3)]
    ids.append(rate(ctx, desk_a, 4, 4, None, "Cán bộ nhiệt tình, hướng dẫn rõ ràng"))
    ids.append(rate(ctx, desk_a, 2, 2, "1", f"Chờ lâu quá, gọi {PHONE} giúp tôi"))
    ids.append(rate(ctx, desk_a, 3, 2, "1,2", "Phải chờ gần hai tiếng"))
    for i, rid in enumerate(ids):
        _move([rid], now + timedelta(hours=i))
    old = [rate(ctx, desk_a, 5, 5), rate(ctx, desk_a, 1, 1, "3"), rate(ctx, desk_a, 2, 2)]
    _move(old, _month_ago(2))
    other = [rate(ctx, desk_b, 1, 1, "2", "Xã khác, không được in ở đây") for _ in range(4)]
    _move(other, now)
    return ctx


def _this_month() -> str:
    return f"{date.today():%Y-%m}"


def test_command_writes_the_html_bulletin_with_counts_reasons_masked_comments_and_trend(
    rated, runner, tmp_path
) -> None:
    out = tmp_path / "ban-tin.html"
    result = runner.invoke(
        args=[
            "bulletin",
            "--unit",
            "26041",
            "--month",
            _this_month(),
            "--format",
            "html",
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert '<html lang="vi">' in html and "<style>" in html  # standalone: its own style sheet
    assert "Phường Trấn Biên" in html and "Một cửa Trấn Biên" in html
    figures = html.split('class="figures"', 1)[1].split("</dl>", 1)[0]
    assert "<dd>6</dd>" in figures  # 6 ratings this month, not the other commune's 4
    assert "66,7\u00a0%" in figures  # 4 of 6 good
    assert "Chưa đạt chuẩn" in html
    reasons = html.split('class="reasons"', 1)[1].split("</ul>", 1)[0]
    # "Chờ lâu" was given by both low ratings (2 of 2), staff by one; the old month's reason
    # "Hồ sơ phải bổ sung nhiều lần" is not this month's.
    assert reasons.index("Chờ lâu") < reasons.index("Thái độ của cán bộ chưa tốt")
    assert "2 (100\u00a0%)" in reasons and "1 (50\u00a0%)" in reasons
    assert "Hồ sơ phải bổ sung" not in reasons
    comments = html.split('class="comments"', 1)[1].split("</ul>", 1)[0]
    assert comments.count("<li>") == 3
    assert PHONE not in html and "[số điện thoại]" in comments
    assert "Phải chờ gần hai tiếng" in comments  # the newest comment first
    assert comments.index("Phải chờ gần hai tiếng") < comments.index("Cán bộ nhiệt tình")
    assert "Xã khác" not in html
    trend = html.split('class="trend-table"', 1)[1].split("</table>", 1)[0]
    assert trend.count("<td>") == 36  # 12 months × (month, ratings, share)
    two_ago = _month_ago(2)
    assert f"{two_ago.month:02d}/{two_ago.year % 100:02d}" in trend
    assert "<svg" in html and 'role="img"' in html


def test_pdf_is_one_a4_page_even_with_long_names_and_comments(ctx, runner, tmp_path) -> None:
    desk_a, _desk_b = ctx["desks"]
    unit = desk_a.unit
    # The longest names the database holds (200 characters).
    unit.name = ("Trung tâm Phục vụ hành chính công " + "Phường Trấn Biên mở rộng " * 8)[:200]
    for i in range(11):
        name = (f"Quầy số {i} " + "tiếp nhận và trả kết quả hồ sơ " * 8)[:200]
        db.session.add(ServicePoint(unit=unit, name=name))
    db.session.commit()
    long_text = (
        "Tôi phải chờ rất lâu, cán bộ hướng dẫn chưa rõ ràng, hồ sơ phải bổ sung "
        "nhiều lần, đề nghị cải thiện. "
    ) * 25
    for _ in range(4):
        # The longest comment the form keeps (2,000 characters), ending with a phone number.
        rate(ctx, desk_a, 2, 1, "1,2,3", long_text[:1989] + " 0987654321")
    out = tmp_path / "ban-tin.pdf"
    result = runner.invoke(
        args=["bulletin", "--unit", "26041", "--month", _this_month(), "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF")
    assert _pages(pdf) == 1
    assert b"/MediaBox [0 0 595.28 841.89]" in pdf  # A4 in points


def test_a_month_without_ratings_is_a_bulletin_that_says_so(rated, runner, tmp_path) -> None:
    out = tmp_path / "empty.html"
    result = runner.invoke(
        args=[
            "bulletin",
            "--unit",
            "26041",
            "--month",
            "2024-02",
            "--format",
            "html",
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Không có người dân nào đánh giá" in html
    assert "Không có góp ý nào" in html
    pdf_out = tmp_path / "empty.pdf"
    result = runner.invoke(
        args=["bulletin", "--unit", "26041", "--month", "2024-02", "--output", str(pdf_out)]
    )
    assert result.exit_code == 0, result.output
    assert _pages(pdf_out.read_bytes()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--unit", "99999", "--month", "2026-11"], "Không có đơn vị nào mang mã 99999"),
        (["--unit", "75", "--month", "2026-11"], "không có bộ phận một cửa nào"),
        (["--unit", "26041", "--month", "2026-13"], "YYYY-MM"),
        (["--unit", "26041", "--month", "tháng 11"], "YYYY-MM"),
        (["--unit", "26041", "--month", "9999-12"], "YYYY-MM"),
    ],
)
def test_bad_input_is_one_clear_vietnamese_line(ctx, runner, tmp_path, args, message) -> None:
    out = tmp_path / "x.pdf"
    result = runner.invoke(args=["bulletin", *args, "--output", str(out)])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_english_bulletin(rated, runner, tmp_path) -> None:
    out = tmp_path / "en.html"
    result = runner.invoke(
        args=[
            "bulletin",
            "--unit",
            "26041",
            "--month",
            _this_month(),
            "--format",
            "html",
            "--lang",
            "en",
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Monthly bulletin of citizen ratings" in html and "66.7%" in html
    assert "Long wait" in html and "[phone number]" in html


def test_dashboard_links_the_bulletin_from_the_desk_standard_page(rated, login_as) -> None:
    campaign = rated["campaign"]
    unit_a, _unit_b = rated["units"]
    client = login_as("analyst")
    desks = client.get(f"/dashboard/{campaign.id}/desks").get_data(as_text=True)
    link = f"/dashboard/{campaign.id}/bulletin?unit={unit_a.id}&amp;month="
    assert link in desks
    page = client.get(
        f"/dashboard/{campaign.id}/bulletin",
        query_string={"unit": unit_a.id, "month": _this_month()},
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "css/bulletin.css" in html and "<style>" not in html  # the CSP allows no inline style
    assert "<dd>6</dd>" in html and PHONE not in html
    pdf_link = re.search(r'href="([^"]*bulletin\.pdf[^"]*)"', html)
    assert pdf_link is not None
    pdf = client.get(pdf_link.group(1).replace("&amp;", "&"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "ban-tin-26041-" in pdf.headers["Content-Disposition"]
    assert _pages(pdf.data) == 1
    english = client.get(
        f"/dashboard/{campaign.id}/bulletin",
        query_string={"unit": unit_a.id, "month": _this_month(), "lang": "en"},
    ).get_data(as_text=True)
    assert "Monthly bulletin of citizen ratings" in english


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"unit": "abc", "month": "2026-11"}, "unknown unit"),
        ({"unit": "999999", "month": "2026-11"}, "unknown unit"),
        ({"month": "2026-11"}, "unknown unit"),
        ({"unit": "UNIT", "month": "11-2026"}, "YYYY-MM"),
        ({"unit": "UNIT", "month": "9999-12"}, "YYYY-MM"),
        ({"unit": "PROVINCE", "month": "2026-11"}, "has no desk"),
    ],
)
def test_dashboard_bad_query_is_a_clear_400(rated, login_as, query, message) -> None:
    campaign = rated["campaign"]
    unit_a, _unit_b = rated["units"]
    query = dict(query)
    if query.get("unit") == "UNIT":
        query["unit"] = str(unit_a.id)
    elif query.get("unit") == "PROVINCE":
        query["unit"] = str(unit_a.parent_id)
    client = login_as("analyst")
    for path in ("bulletin", "bulletin.pdf"):
        response = client.get(
            f"/dashboard/{campaign.id}/{path}", query_string={**query, "lang": "en"}
        )
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)


def test_only_dashboard_roles_see_the_bulletin(rated, client, login_as) -> None:
    campaign = rated["campaign"]
    unit_a, _unit_b = rated["units"]
    url = f"/dashboard/{campaign.id}/bulletin?unit={unit_a.id}&month={_this_month()}"
    anonymous = client.get(url)
    assert anonymous.status_code in (302, 401)
    enumerator = login_as("enumerator")
    assert enumerator.get(url).status_code == 403
    assert enumerator.get(url.replace("bulletin?", "bulletin.pdf?")).status_code == 403


def test_share_matches_the_desk_standard_page(rated) -> None:
    """The bulletin and the desk standard page count good ratings with the same function."""
    from surveyapp.services import bulletin, desk_standard

    unit_a, _unit_b = rated["units"]
    month = bulletin.parse_month(_this_month())
    built = bulletin.build(unit_a, month, rated["campaign"])
    table = desk_standard.desk_standard(rated["campaign"], 365, date.today())
    row = next(r for r in table.units if r.unit_id == unit_a.id)
    assert (built.total.ratings, built.total.good) == (6, 4)
    assert (row.ratings, row.good) == (9, 5)  # this month and two months ago
    trend = {p.month: (p.ratings, p.good) for p in built.trend}
    assert sum(n for n, _g in trend.values()) == row.ratings
    assert sum(g for _n, g in trend.values()) == row.good
