"""Local days and months (issue 14): a rating given at 06:30 on 1 December in Đồng Nai is
23:30 UTC on 30 November and is December's, in every desk feature. Ratings sit seconds before
and after local midnight at month ends; SQLite stores the UTC digits without a zone,
PostgreSQL a timestamptz, and both must cut the same way."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from comments_support import desk_campaign, rate
from support import login, make_user

from surveyapp import formatting, localtime
from surveyapp.data import ratings
from surveyapp.extensions import db
from surveyapp.models import Response
from surveyapp.services import bulletin, comments, desk_standard

# Local midnight starting 1 December 2026 in Asia/Ho_Chi_Minh (UTC+7) is 17:00 UTC on 30 Nov.
DEC_1 = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
JAN_1 = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def _at(response_id: int, moment: datetime, *, held: bool = False) -> int:
    item = db.session.get(Response, response_id)
    assert item is not None
    item.submitted_at = moment
    item.held = held
    db.session.commit()
    return response_id


def test_month_and_day_bounds_are_local_midnights_in_utc(app) -> None:
    assert localtime.month(date(2026, 12, 1)) == (DEC_1, JAN_1)
    assert localtime.month(date(2026, 12, 17)) == (DEC_1, JAN_1)
    assert localtime.days(date(2026, 12, 1), date(2026, 12, 31)) == (DEC_1, JAN_1)
    assert localtime.day_start(date(2026, 12, 1)) == DEC_1
    # A naive moment (as SQLite returns it) is UTC.
    assert localtime.local_date(datetime(2026, 11, 30, 23, 30)) == date(2026, 12, 1)
    assert localtime.local_date(DEC_1 - SECOND) == date(2026, 11, 30)
    assert formatting.date(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), lang="vi") == "01/12/2026"


def test_the_configured_zone_is_the_one_used(app) -> None:
    app.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
    try:
        assert localtime.month(date(2026, 12, 1))[0] == datetime(2026, 12, 1, tzinfo=UTC)
        assert localtime.local_date(datetime(2026, 11, 30, 23, 30)) == date(2026, 11, 30)
    finally:
        app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Ho_Chi_Minh"


@pytest.fixture
def edges(app):  # type: ignore[no-untyped-def]
    """Desk A of Phường Trấn Biên: ratings just before and just after the local midnights
    that open and close December 2026."""
    ctx = desk_campaign()
    desk_a, _desk_b = ctx["desks"]
    # 23:59:59 on 30 November, local: November's (a good one).
    _at(rate(ctx, desk_a, 5, 5), DEC_1 - SECOND)
    # 00:00:00 and 06:30 on 1 December, local: December's (one good, one low with a reason).
    _at(rate(ctx, desk_a, 4, 4), DEC_1)
    _at(rate(ctx, desk_a, 2, 2, "1", "Chờ lâu quá"), datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    # 23:59:59 on 31 December, local: December's (good).
    _at(rate(ctx, desk_a, 5, 4), JAN_1 - SECOND)
    # 00:00:00 on 1 January 2027, local: January's (low).
    _at(rate(ctx, desk_a, 1, 1, "2", "Năm mới vẫn chờ"), JAN_1)
    return ctx


def test_bulletin_months_are_local_months(edges) -> None:
    unit = edges["units"][0]
    december = bulletin.build(unit, date(2026, 12, 1))
    assert (december.total.ratings, december.total.good) == (3, 2)
    assert december.low == 1
    assert [(r.label, r.count) for r in december.reasons] == [("Chờ lâu", 1)]
    assert [c.text for c in december.comments] == ["Chờ lâu quá"]
    trend = {p.month: (p.ratings, p.good) for p in december.trend}
    assert trend[date(2026, 11, 1)] == (1, 1)
    assert trend[date(2026, 12, 1)] == (3, 2)
    january = bulletin.build(unit, date(2027, 1, 1))
    assert (january.total.ratings, january.low) == (1, 1)
    assert [c.text for c in january.comments] == ["Năm mới vẫn chờ"]


def test_bulletin_leaves_held_ratings_out_of_every_number(edges) -> None:
    desk_a, _desk_b = edges["desks"]
    # A burst held back by abuse detection: low ratings with a reason and a comment.
    for _ in range(3):
        _at(
            rate(edges, desk_a, 1, 1, "2", "Bình chọn hàng loạt"),
            DEC_1 + timedelta(hours=3),
            held=True,
        )
    december = bulletin.build(edges["units"][0], date(2026, 12, 1))
    assert (december.total.ratings, december.low) == (3, 1)
    assert [(r.label, r.count) for r in december.reasons] == [("Chờ lâu", 1)]
    assert all("hàng loạt" not in c.text for c in december.comments)
    # The comments page's reason counts leave them out too; its list still shows them.
    page_counts = comments.reason_counts(edges["campaign"], comments.CommentFilters(), "vi")
    assert page_counts is not None and page_counts.total.low == 2  # 1 Dec and 1 Jan
    listed = comments.page(edges["campaign"], comments.CommentFilters(), 1, "vi")
    assert sum("hàng loạt" in r.comment for r in listed.rows) == 3
    # Released, they count everywhere.
    db.session.execute(db.update(Response).where(Response.held.is_(True)).values(held=False))
    db.session.commit()
    released = bulletin.build(edges["units"][0], date(2026, 12, 1))
    assert (released.total.ratings, released.low) == (6, 4)
    assert ("Thái độ của cán bộ chưa tốt", 3) in [(r.label, r.count) for r in released.reasons]


def test_desk_standard_window_is_local_days(edges) -> None:
    desk_a, _desk_b = edges["desks"]
    # The 7 local days 25 November – 1 December.
    _at(rate(edges, desk_a, 3, 3), datetime(2026, 11, 24, 16, 59, 59, tzinfo=UTC))  # 24 Nov
    _at(rate(edges, desk_a, 3, 3), datetime(2026, 11, 24, 17, 0, tzinfo=UTC))  # 25 Nov 00:00
    table = desk_standard.desk_standard(edges["campaign"], days=7, end=date(2026, 12, 1))
    row = next(r for r in table.desks if r.name == desk_a.name)
    # 30 Nov 23:59:59 (good), 1 Dec 00:00 (good), 1 Dec 06:30 (low), 25 Nov 00:00 (neutral).
    assert (row.ratings, row.good) == (4, 2)
    assert ratings.last_rating_day(edges["campaign"]) == date(2027, 1, 1)


def test_comment_export_writes_the_local_clock(edges, client) -> None:
    make_user("analyst1", "analyst")
    assert login(client, "analyst1").status_code == 302
    data = client.get(f"/dashboard/{edges['campaign'].id}/comments.csv").get_data(as_text=True)
    rows = {r[-1]: r[1] for r in csv.reader(io.StringIO(data.lstrip("\ufeff")))}
    assert rows["Chờ lâu quá"] == "2026-12-01 06:30"
    assert rows["Năm mới vẫn chờ"] == "2027-01-01 00:00"


def _token() -> dict[str, str]:
    from surveyapp.services import users

    token = users.create_token(make_user("etl", "analyst"), "bulletin")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_bulletin_api_gives_the_local_month_s_numbers(edges, client) -> None:
    desk_a, _desk_b = edges["desks"]
    _at(rate(edges, desk_a, 1, 1, "3", "gọi 0912345678"), DEC_1 + timedelta(hours=2), held=True)
    headers = _token()
    base = f"/api/v1/campaigns/{edges['campaign'].id}/bulletin"
    body = client.get(f"{base}?unit=26041&month=2026-12", headers=headers).json
    assert body["month"] == "2026-12" and body["time_zone"] == "Asia/Ho_Chi_Minh"
    assert body["from"] == "2026-11-30T17:00:00+00:00"
    assert (body["total"]["ratings"], body["total"]["good"], body["low"]) == (3, 2, 1)
    assert body["total"]["share"] == pytest.approx(2 / 3) and body["above_standard"] is False
    assert body["reasons"] == [{"label": "Chờ lâu", "count": 1, "share": 1.0}]
    assert [(c["submitted_at"], c["text"]) for c in body["comments"]] == [
        ("2026-12-01T06:30:00+07:00", "Chờ lâu quá")
    ]
    trend = {p["month"]: p["ratings"] for p in body["trend"]}
    assert (len(trend), trend["2026-11"], trend["2026-12"]) == (12, 1, 3)
    for query in ("unit=99999&month=2026-12", "unit=26041&month=2026-13", "unit=26041&month="):
        bad = client.get(f"{base}?{query}", headers=headers)
        assert bad.status_code == 400 and bad.json["message"], query
    assert client.get(f"{base}?unit=26041&month=2026-12").status_code == 401


def test_periodic_api_gives_the_report_s_numbers(campaign, client) -> None:
    from surveyapp.services import periodic

    headers = _token()
    base = f"/api/v1/campaigns/{campaign.id}/periodic"
    quarter = periodic.Period.containing(campaign.starts, "quarter")
    body = client.get(f"{base}?period={quarter.code}", headers=headers).json
    assert body["period"] == quarter.code and body["n"] == 0
    assert body["previous_period"] == quarter.previous().code
    assert body["rows"] == [] and body["source"]  # no response yet: an empty report
    assert client.get(f"{base}?period=2026-Q5", headers=headers).status_code == 400
    assert client.get(f"{base}?period=1999", headers=headers).status_code == 400
