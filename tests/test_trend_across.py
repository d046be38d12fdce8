"""A campaign on the old administrative structure beside one on the new (issue 13 §1): the
trend says which comparisons are approximate, and per unit of today's structure the earlier
estimate goes through the crosswalk."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from surveyapp.data import queries
from surveyapp.data.queries import Filters
from surveyapp.extensions import db
from surveyapp.models import Campaign, MarginVariable, Unit
from surveyapp.services import campaigns, crosswalk, levels, margins, reports
from surveyapp.services.reports import across


def _unit(code: str) -> Unit:
    found = db.session.scalar(select(Unit).where(Unit.code == code))
    assert found is not None
    return found


def _overall(campaign: Campaign, unit: Unit) -> dict[str, float]:
    """The report's own estimate for the territory of ``unit`` (a dashboard unit filter)."""
    report = reports.build(campaign, filters=Filters(unit_ids=queries.unit_subtree(unit.id)))
    row = next(r for r in report.rows() if r["code"] == "overall")
    return {"estimate": row["estimate"], "se": row["se"]}


def _campaigns(demo_data) -> tuple[Campaign, Campaign]:  # type: ignore[no-untyped-def]
    return (
        db.session.get_one(Campaign, demo_data.campaign_id),
        db.session.get_one(Campaign, demo_data.current_campaign_id),
    )


def test_the_demo_trend_crosses_the_change_and_says_so(demo_data) -> None:
    older, newer = _campaigns(demo_data)
    assert across.different_structures(older, newer)
    result = reports.trend(newer)
    assert [c["id"] for c in result.campaigns] == [older.id, newer.id]
    assert result.across is not None
    assert (result.across["older"], result.across["newer"]) == (older.id, newer.id)
    # Bình Phước joined from outside the 2024 campaign: the province totals differ in scope.
    assert [u["name"] for u in result.across["territory_added"]] == ["Tỉnh Bình Phước"]
    changes = [r["change"] for r in result.rows if r["change"] is not None]
    assert changes and all(c["approximate"] for c in changes)
    units = result.across["units"]
    today = [c for c in _unit("75").children if c.valid_on(newer.starts)]
    assert [u["unit"]["code"] for u in units] == sorted(c.code for c in today)
    # Each unit's estimate this year is the report's own for its territory.
    sample = next(u for u in units if u["newer"] is not None)
    mine = _overall(newer, _unit(sample["unit"]["code"]))
    assert sample["newer"]["estimate"] == pytest.approx(mine["estimate"], rel=1e-6)
    assert sample["newer"]["se"] == pytest.approx(mine["se"], rel=1e-6)
    # In the 2024 design a sampled commune is one PSU (no variance of its own): its old
    # district's estimate stands in, and such a comparison is approximate.
    compared = [u for u in units if u["older"] is not None]
    assert compared and not any(u["exact"] for u in compared)
    assert all(any(o["estimated_by"] for o in u["old_units"]) for u in compared)
    # A unit none of whose old units had a usable estimate has no earlier figure.
    bare = [u for u in units if not u["old_units"]]
    assert bare and all(u["older"] is None and u["change"] is None for u in bare)
    # The trend of the 2024 campaign alone has nothing across a change.
    assert reports.trend(older).across is None


CROSSWALK = (
    "old_code,new_code,share,population\n"
    "75-731,26041,1,1000\n"  # a district merged whole into Phường Trấn Biên: exact
    "75-732,26080,0.6,600\n"  # a district split in two: approximate
    "75-732,26089,0.4,400\n"
    "75-734,26116,1,100\n"  # two whole districts into Xã Tân Phú: exact, weighted 1:3
    "75-735,26116,1,300\n"
    "70,25195,1,500\n"  # half of Phường Bình Phước had no 2024 respondents
    "75-736,25195,1,500\n"
)


def test_estimates_through_the_crosswalk_are_population_weighted(demo_data) -> None:
    older, newer = _campaigns(demo_data)
    crosswalk.remove_all()
    crosswalk.import_crosswalk(CROSSWALK.encode(), "districts.csv")
    db.session.commit()
    rows = {u["unit"]["code"]: u for u in across.compare_units(older, newer)}
    district = {code: _overall(older, _unit(code)) for code in ("75-731", "75-732", "75-734")}
    district["75-735"] = _overall(older, _unit("75-735"))
    district["75-736"] = _overall(older, _unit("75-736"))

    whole = rows["26041"]
    assert whole["exact"] and whole["method"] == "crosswalk_population"
    assert whole["older"]["estimate"] == pytest.approx(district["75-731"]["estimate"], rel=1e-6)
    assert whole["older"]["se"] == pytest.approx(district["75-731"]["se"], rel=1e-6)
    z = 1.959963984540054
    change = whole["newer"]["estimate"] - whole["older"]["estimate"]
    spread = z * math.hypot(whole["newer"]["se"], whole["older"]["se"])
    assert whole["change"]["estimate"] == pytest.approx(change)
    assert whole["change"]["ci_high"] - whole["change"]["ci_low"] == pytest.approx(2 * spread)

    for code in ("26080", "26089"):
        split = rows[code]
        assert not split["exact"] and split["old_units"][0]["split"]
        assert split["older"]["estimate"] == pytest.approx(district["75-732"]["estimate"], rel=1e-6)

    pooled = rows["26116"]
    expected = (district["75-734"]["estimate"] + 3 * district["75-735"]["estimate"]) / 4
    se = math.sqrt((district["75-734"]["se"] / 4) ** 2 + (3 * district["75-735"]["se"] / 4) ** 2)
    assert pooled["exact"] and pooled["coverage"] == pytest.approx(1.0)
    assert pooled["older"]["estimate"] == pytest.approx(expected, rel=1e-6)
    assert pooled["older"]["se"] == pytest.approx(se, rel=1e-6)

    partial = rows["25195"]
    assert not partial["exact"] and partial["coverage"] == pytest.approx(0.5)
    assert partial["older"]["estimate"] == pytest.approx(district["75-736"]["estimate"], rel=1e-6)
    # Without populations the old units are weighted by their share.
    crosswalk.remove_all()
    crosswalk.import_crosswalk(
        b"old_code,new_code,share\n75-734,26116,1\n75-735,26116,1\n", "s.csv"
    )
    db.session.commit()
    by_share = {u["unit"]["code"]: u for u in across.compare_units(older, newer)}["26116"]
    assert by_share["method"] == "crosswalk_share"
    mean = (district["75-734"]["estimate"] + district["75-735"]["estimate"]) / 2
    assert by_share["older"]["estimate"] == pytest.approx(mean, rel=1e-6)


def test_trend_page_and_api_say_which_comparisons_are_approximate(login_as, demo_data) -> None:
    client = login_as("analyst")
    page = client.get(f"/dashboard/{demo_data.current_campaign_id}/trend").get_data(as_text=True)
    assert "Địa giới hành chính đã thay đổi giữa" in page
    assert "gần đúng: địa giới hành chính đã thay đổi" in page
    assert "Được hợp nhất từ ngoài phạm vi của đợt trước: Tỉnh Bình Phước." in page
    assert "Chỉ số chung theo đơn vị hành chính cấp xã, qua thay đổi địa giới" in page
    assert "Phường Trấn Biên" in page and "không có số liệu đợt trước" in page
    english = client.get(
        f"/dashboard/{demo_data.current_campaign_id}/trend", headers={"Accept-Language": "en"}
    )
    assert english.status_code == 200
    api = client.get(f"/api/v1/campaigns/{demo_data.current_campaign_id}/trend").json
    assert api["across"]["older"] == demo_data.campaign_id
    assert len(api["across"]["units"]) == len(
        [c for c in _unit("75").children if c.valid_to is None]
    )
    old_page = client.get(f"/dashboard/{demo_data.campaign_id}/trend").get_data(as_text=True)
    assert "Địa giới hành chính đã thay đổi" not in old_page


def test_a_campaign_after_the_change_offers_no_old_district(demo_data) -> None:
    older, newer = _campaigns(demo_data)
    old_districts = {u.code for u in levels.units_at(older, "district")}
    assert old_districts and all(code.startswith("75-") for code in old_districts)
    assert levels.units_at(newer, "district") == []
    # the level is data (issue 13 §4): the new campaign has communes only, no district margin
    assert levels.unit_levels(newer) == ["commune"]
    assert MarginVariable.DISTRICT not in margins.categories(newer)
    communes = {u.code for u in levels.units_at(newer, "commune")}
    assert {u.code for u in campaigns.filter_units(newer)} == {"75"} | communes
    assert {u.code for u in campaigns.filter_units(older)} == {"75"} | old_districts
