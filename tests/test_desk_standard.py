"""Issue 14 §3: the desk standard page (share good or very good over a rolling window)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from desk_support import commune, desk, rate

from surveyapp.extensions import db
from surveyapp.services import desks as desk_service


def test_desk_page_shows_share_good_ratings_and_rate_per_transactions(campaign, login_as) -> None:
    today = date.today()
    unit = commune(campaign)
    a = desk(unit, "Quầy tư pháp")
    b = desk(unit, "Quầy đất đai")
    noon = datetime.combine(today, datetime.min.time()) + timedelta(hours=5)
    # Desk A: 3 good (5, 4, 4) of 4 inside the window, and a good one 40 days ago (outside).
    rate(campaign, a, [5, 4, 4, 2], [noon - timedelta(days=d) for d in (1, 2, 3, 4)])
    rate(campaign, a, [5], [noon - timedelta(days=40)])
    # Desk B: one neutral rating (3 is not "good").
    rate(campaign, b, [3], [noon])
    # 200 transactions over 60 days, half of them in the 30-day window.
    desk_service.record_volume(a, today - timedelta(days=59), today, 200)
    db.session.commit()

    client = login_as("analyst")
    page = client.get(f"/dashboard/{campaign.id}/desks?end={today.isoformat()}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    row_a = html.split("Quầy tư pháp", 1)[1].split("</tr>", 1)[0]
    assert ">4<" in row_a  # ratings in 30 days
    assert "75,00" in row_a  # 3 of 4 good
    assert "−5,00" in row_a  # 5 points below the 80 % standard
    assert ">100<" in row_a  # transactions pro rata: 30 of 60 days
    assert "4,0" in row_a  # 4 ratings per 100 transactions
    row_b = html.split("Quầy đất đai", 1)[1].split("</tr>", 1)[0]
    assert "0,00" in row_b
    centre = html.split('class="results desk-units"', 1)[1].split("Xã Phú Hòa", 1)[1]
    centre = centre.split("</tr>", 1)[0]
    assert ">5<" in centre and "60,00" in centre  # 3 good of 5 at the centre
    assert "tin cậy" not in html.lower() and "Đạt" not in html  # descriptive: no verdict

    # A 90-day window takes in the old rating.
    wide = client.get(f"/dashboard/{campaign.id}/desks?days=90&end={today.isoformat()}")
    row = wide.get_data(as_text=True).split("Quầy tư pháp", 1)[1].split("</tr>", 1)[0]
    assert ">5<" in row and "80,00" in row


def test_bad_window_is_a_clear_400(campaign, login_as) -> None:
    client = login_as("analyst")
    for query in ("days=11", "days=abc", "end=31-12-2026"):
        page = client.get(f"/dashboard/{campaign.id}/desks?{query}")
        assert page.status_code == 400, query
        assert "Window" in page.get_data(as_text=True) or "Khoảng" in page.get_data(as_text=True)
