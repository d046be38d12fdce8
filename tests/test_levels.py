"""Issue 13 §1 and §4: the level of breakdowns and margins is data, and everything works at
commune level for a province of about a hundred communes directly under it (the two-tier
structure since 1 July 2025), as well as on a historical campaign (the demo's districts)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from level_support import SHARED, regions_csv, two_tier
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import AuditLog, Campaign, MarginVariable, Unit, UnitRegion
from surveyapp.services import (
    ServiceError,
    batches,
    exports,
    levels,
    margins,
    regions,
    reports,
    sae,
)
from surveyapp.services.frame import ImportProblems

COMMUNES = 100


@pytest.fixture(autouse=True)
def request_context(app, request):  # type: ignore[no-untyped-def]
    """Services translate their messages (Vietnamese by default); CLI tests run without one."""
    if "runner" in request.fixturenames or "login_as" in request.fixturenames:
        yield
        return
    with app.test_request_context():
        yield


@pytest.fixture
def communes(campaign):  # type: ignore[no-untyped-def]
    return two_tier(campaign, COMMUNES)


def _margins_csv(communes: list[Unit], level: str, categories: dict[str, float]) -> bytes:
    """sex_age and area margins adding up to the geographic level's total."""
    total = sum(categories.values())
    lines = ["variable,category,population"]
    sex_age = [f"{s}-{a}" for s in (1, 2) for a in range(1, 6)]
    lines += [f"sex_age,{c},{total / len(sex_age)!r}" for c in sex_age]
    # Every respondent of a commune has its area: by commune, the urban total is the urban
    # communes' (else raking chases two margins that disagree).
    urban = (
        sum(n for c, n in categories.items() if any(u.code == c and u.urban for u in communes))
        if level == "commune"
        else total * sum(1 for u in communes if u.urban) / len(communes)
    )
    lines += [f"area,1,{urban!r}", f"area,2,{total - urban!r}"]
    lines += [f"{level},{c},{n!r}" for c, n in categories.items()]
    return ("\n".join(lines) + "\n").encode()


# ---- the level is read from the units ---------------------------------------------------


def test_levels_come_from_the_campaigns_units(campaign, communes) -> None:
    assert levels.unit_levels(campaign) == ["commune"]
    assert levels.default(campaign) == levels.finest(campaign) == "commune"
    assert levels.choices(campaign) == ["commune", "desk", "channel"]
    with pytest.raises(ServiceError) as info:
        levels.check(campaign, "district")
    assert "commune, desk, channel" in str(info.value) and "district" in str(info.value)
    regions.import_regions(regions_csv(communes), "vung.csv")
    assert levels.choices(campaign) == ["commune", "region", "desk", "channel"]


def test_the_demo_is_historical_and_keeps_its_districts(app, demo_data) -> None:
    campaign = db.session.get(Campaign, demo_data.campaign_id)
    assert levels.unit_levels(campaign) == ["district", "commune"]
    assert levels.default(campaign) == "district"
    by_commune = reports.build(campaign, by="commune")
    by_district = reports.build(campaign, by="district")
    assert by_commune.by == "commune" and by_district.by == "district"
    # more communes than districts answered, and each commune lies in one district
    assert len(by_commune.domains()) > len(by_district.domains()) > 1
    rates = batches.response_rate_summary(campaign, by="commune")
    assert rates["by"] == "commune" and len(rates["rows"]) > len(
        batches.response_rate_summary(campaign)["rows"]
    )
    assert rates["total"]["selected"] == sum(r["selected"] for r in rates["rows"])
    header = exports.header(campaign)
    assert header[3:5] == ["district", "commune"]
    assert {"cal_district", "cal_commune"} <= set(header)


# ---- breakdowns, ranks, response rates and exports at commune level -----------------------


def test_report_by_commune_for_a_hundred_communes(campaign, communes) -> None:
    report = reports.build(campaign, by="commune")
    domains = report.domains()
    assert len(domains) == COMMUNES
    # two communes called "Xã Tân Phú" stay two domains, told apart by their codes
    assert f"{SHARED} (20000)" in domains and f"{SHARED} (20001)" in domains
    overall = [r for r in report.estimates if r["code"] == "overall" and r["domain"]]
    assert len(overall) == COMMUNES and all(r["n"] == 6 for r in overall)
    assert all(set(r["domain"]) == {"commune"} for r in overall)
    ranking = reports.rank_intervals(campaign, report)
    assert len(ranking.ranks) == COMMUNES
    assert sorted(r["rank"] for r in ranking.ranks.values()) == list(range(1, COMMUNES + 1))
    # six respondents a commune cannot order a hundred communes: the intervals are wide
    widths = [r["high"] - r["low"] for r in ranking.ranks.values()]
    assert sorted(widths)[COMMUNES // 2] > 10
    with pytest.raises(ServiceError):
        reports.build(campaign, by="district")
    # the desks' ratings break down by commune too
    qr = reports.build(campaign, sample="convenience", by="commune")
    assert len(qr.domains()) == 5


def test_the_unit_filter_offers_the_communes_under_the_province(campaign, communes) -> None:
    from surveyapp.services import campaigns

    units = campaigns.filter_units(campaign)
    assert units[0] == campaign.units[0] and len(units) == 1 + COMMUNES


def test_exports_have_a_column_per_level_the_data_has(campaign, communes) -> None:
    text = exports.to_csv(campaign)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert "district" not in rows[0] and "region" not in rows[0]
    assert rows[0]["commune"] == rows[0]["unit"] and rows[0]["cal_commune"] == rows[0]["unit"]
    regions.import_regions(regions_csv(communes), "vung.csv")
    rows = list(csv.DictReader(io.StringIO(exports.to_csv(campaign))))
    first = next(r for r in rows if r["unit"] == communes[0].code)
    assert first["region"] == first["cal_region"] == "Vùng 1"
    parquet = exports.export(campaign, "parquet")
    assert parquet[:4] == b"PAR1"


def test_cli_report_by_commune_and_a_level_the_campaign_lacks(runner, campaign, communes) -> None:
    cid = str(campaign.id)
    result = runner.invoke(args=["report", "--campaign", cid, "--by", "commune"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["by"] == "commune"
    assert len({r["domain"]["commune"] for r in doc["estimates"] if r["domain"]}) == COMMUNES
    shown = runner.invoke(
        args=["report", "--campaign", cid, "--by", "commune", "--show-analyze-command"]
    )
    assert "--by commune" in shown.output
    xlsx = runner.invoke(args=["report", "--campaign", cid, "--by", "commune", "--format", "xlsx"])
    assert xlsx.exit_code == 0, xlsx.output
    from openpyxl import load_workbook

    sheets = load_workbook(io.BytesIO(xlsx.stdout_bytes)).sheetnames
    assert any(name.endswith("theo xã") for name in sheets)
    wrong = runner.invoke(args=["report", "--campaign", cid, "--by", "district"])
    assert wrong.exit_code != 0 and "commune" in wrong.output
    html = runner.invoke(args=["report", "--campaign", cid, "--format", "html"])
    assert html.exit_code == 0 and SHARED in html.output


# ---- regions: import, breakdown, margins ----------------------------------------------


def test_region_import_is_all_or_nothing_named_and_audited(campaign, communes) -> None:
    added = regions.import_regions(regions_csv(communes), "vung.csv")
    db.session.commit()
    assert len(added) == COMMUNES
    entry = db.session.scalars(select(AuditLog).where(AuditLog.entity == "unit_regions")).one()
    assert entry.after["file"] == "vung.csv" and entry.after[communes[0].code] == "Vùng 1"
    bad = (
        "commune_code,region\n"
        f"{communes[0].code},Bắc\n"
        "zzz,Bắc\n"
        f"{communes[0].code},Nam\n"
        f"{communes[2].code},\n"
        f"{campaign.units[0].code},Bắc\n"
        f"{communes[3].code},{'x' * 60}\n"
    ).encode()
    with pytest.raises(ImportProblems) as info:
        regions.import_regions(bad, "bad.csv")
    db.session.rollback()
    problems = info.value.problems
    assert (
        problems[0]
        == "Trang tính CSV, dòng 3, cột commune_code (A): 'zzz' không phải là mã đơn vị."
    )
    assert "dòng 4, cột commune_code (A)" in problems[1] and "trùng với dòng 2" in problems[1]
    assert "dòng 5, cột region (B)" in problems[2] and "để trống" in problems[2]
    assert "dòng 6, cột commune_code (A)" in problems[3] and "cấp xã" in problems[3]
    assert "dòng 7, cột region (B)" in problems[4] and "50 ký tự" in problems[4]
    assert db.session.scalar(select(func.count()).select_from(UnitRegion)) == COMMUNES
    assert regions.clear() == COMMUNES


def test_breakdown_and_margins_by_region(campaign, communes) -> None:
    regions.import_regions(regions_csv(communes), "vung.csv")
    db.session.commit()
    by_region = reports.build(campaign, by="region")
    assert by_region.domains() == ["Vùng 1", "Vùng 2", "Vùng 3", "Vùng 4"]
    population = {f"Vùng {k}": 100_000.0 * k for k in range(1, 5)}
    margins.import_margins(campaign, _margins_csv(communes, "region", population), "m.csv")
    db.session.commit()
    report = reports.build(campaign)
    assert report.design["margins"] == ["sex_age", "area", "region"]
    assert report.design["weighting"].endswith("thành thị/nông thôn, vùng")
    # the calibrated weights meet the region totals: each region's estimated population
    frame = reports.frame_for(campaign, reports.PROBABILITY)
    assert set(frame["cal_region"]) == set(population)
    args = reports.analyze_args(campaign, reports.PROBABILITY)
    assert any(a.startswith("cal_region:Vùng 1=100000.0") for a in args)


def test_margins_by_commune_and_one_level_per_file(campaign, communes) -> None:
    cats = margins.categories(campaign)
    assert MarginVariable.DISTRICT not in cats and len(cats[MarginVariable.COMMUNE]) == COMMUNES
    population = {u.code: 10_000.0 + 100 * i for i, u in enumerate(communes)}
    margins.import_margins(campaign, _margins_csv(communes, "commune", population), "m.csv")
    db.session.commit()
    report = reports.build(campaign, by="commune")
    assert report.design["margins"] == ["sex_age", "area", "commune"]
    assert report.design["weighting"].endswith("thành thị/nông thôn, xã")
    # a region margin beside the commune margin is refused, naming the column
    regions.import_regions(regions_csv(communes), "vung.csv")
    db.session.commit()
    both = _margins_csv(communes, "commune", population).decode()
    total = sum(population.values())
    both += "".join(f"region,Vùng {k},{total / 4!r}\n" for k in range(1, 5))
    with pytest.raises(ImportProblems) as info:
        margins.import_margins(campaign, both.encode(), "both.csv")
    assert info.value.problems == [
        "Cột variable: tệp có biên theo commune, region; chỉ hiệu chỉnh theo một cấp (hiệu "
        "chỉnh đồng thời theo một cấp và theo các nhóm của chính cấp đó không thêm được gì)."
    ]
    db.session.rollback()
    # the template lists the level asked for, with the current totals of the stored one
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(margins.template(campaign)))
    listed = {r[0] for r in wb.active.iter_rows(min_row=2, values_only=True)}
    assert listed == {"sex_age", "area", "commune"}
    wb = load_workbook(io.BytesIO(margins.template(campaign, "region")))
    listed = {r[0] for r in wb.active.iter_rows(min_row=2, values_only=True)}
    assert listed == {"sex_age", "area", "region"}


# ---- small areas at commune level --------------------------------------------------------


def test_small_areas_at_commune_level(campaign, communes) -> None:
    result = sae.estimate(campaign)
    assert result.level == "commune" and len(result.units) == COMMUNES
    assert {u.name for u in result.units if u.name == SHARED} == {SHARED}
    # every commune has fewer than MIN_N respondents: the model uses the smoothed variance,
    # and its estimates are more precise than the direct ones under that variance
    in_sample = [u for u in result.units if u.model_se is not None]
    assert len(in_sample) == COMMUNES and all(u.smoothed for u in in_sample)
    assert sorted(u.rmse for u in in_sample)[50] < sorted(u.model_se for u in in_sample)[50]
    assert result.median_ci_width()["direct"] is not None
    with pytest.raises(ServiceError):
        sae.estimate(campaign, level="district")


def test_small_areas_at_commune_level_on_a_historical_campaign(app, demo_data) -> None:
    campaign = db.session.get(Campaign, demo_data.campaign_id)
    result = sae.estimate(campaign, level="commune")
    assert result.level == "commune"
    assert [u.code for u in result.units] == [u.code for u in sae.units(campaign, "commune")]
    with_respondents = [u for u in result.units if u.n > 0]
    assert with_respondents and any(u.synthetic for u in result.units)
    assert all(u.synthetic == (u.n == 0) for u in result.units)
    # the demo draws communes as PSUs: a commune's design SE cannot be estimated, so its
    # direct interval and the model use the GVF fitted on the province's design effect
    assert result.gvf["fitted_on"] == 0
    assert any("một đơn vị mẫu cấp 1 (PSU)" in n for n in result.notes)
    z = 1.959963984540054
    for u in with_respondents:
        assert u.smoothed and u.direct_se == pytest.approx(u.model_se)
        assert u.direct_ci[1] - u.direct_ci[0] == pytest.approx(2 * z * u.model_se)
    assert (
        sorted(u.rmse for u in with_respondents)[len(with_respondents) // 2]
        < sorted(u.model_se for u in with_respondents)[len(with_respondents) // 2]
    )


# ---- the pages ---------------------------------------------------------------------------


def test_dashboard_by_commune_stays_readable(login_as, campaign, communes) -> None:
    client = login_as("analyst")
    page = client.get(f"/dashboard/{campaign.id}").get_data(as_text=True)
    assert "Chỉ số chung theo xã" in page and 'class="results by-domain" data-sortable' in page
    assert "js/sortable.js" in page
    chart = re.search(r"<svg[^>]*domain-chart.*?</svg>", page, re.S)
    assert chart is not None
    # a hundred rows drawn, ten named: the five highest and the five lowest
    assert chart.group(0).count('<g class="domain">') == COMMUNES
    assert chart.group(0).count('class="label"') == 10
    assert '<option value="commune" selected' not in page  # the default, not chosen
    wrong = client.get(f"/dashboard/{campaign.id}?by=district")
    assert wrong.status_code == 400 and "commune" in wrong.get_data(as_text=True)
    differences = client.get(f"/dashboard/{campaign.id}/differences?by=commune&variable=1")
    assert differences.status_code == 200
    assert "Chênh lệch giữa các đơn vị (xã)" in differences.get_data(as_text=True)
    small = client.get(f"/dashboard/{campaign.id}/sae").get_data(as_text=True)
    assert "data-sortable" in small and small.count('<g class="unit">') == COMMUNES
    api = client.get(f"/api/v1/campaigns/{campaign.id}/results?by=commune")
    assert api.status_code == 200 and api.json["by"] == "commune"
    assert client.get(f"/api/v1/campaigns/{campaign.id}/results?by=district").status_code == 400


def test_regions_admin_page_and_cli(login_as, runner, campaign, communes, tmp_path) -> None:
    client = login_as("admin")
    page = client.get("/admin/regions").get_data(as_text=True)
    assert "Chưa có vùng nào" in page
    path = tmp_path / "vung.csv"
    path.write_bytes(regions_csv(communes))
    result = runner.invoke(args=["regions", "import", str(path)])
    assert result.exit_code == 0 and "100 xã" in result.output
    shown = runner.invoke(args=["regions", "show", "--format", "json"])
    assert len(json.loads(shown.output)) == COMMUNES
    page = client.get("/admin/regions").get_data(as_text=True)
    assert "Vùng 1 – 25 xã" in page
    margins_page = client.get(f"/admin/campaigns/{campaign.id}/margins").get_data(as_text=True)
    assert "level=region" in margins_page and "level=commune" in margins_page
    assert runner.invoke(args=["regions", "clear"]).exit_code == 0
