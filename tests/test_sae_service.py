"""Small-area estimates in the app: covariate import, the service, dashboard page, API, report."""

from __future__ import annotations

import io
import math

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import AreaCovariate, AuditLog, Campaign, Unit, UnitLevel
from surveyapp.services import sae
from surveyapp.services.frame import ImportProblems


@pytest.fixture
def demo(app, demo_data):  # type: ignore[no-untyped-def]
    with app.test_request_context():
        yield db.session.get(Campaign, demo_data.campaign_id)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(AreaCovariate)) or 0


def _covariates_csv(campaign: Campaign, skip: int | None = None) -> bytes:
    lines = ["unit,on_time_rate,online_share,urban_share,source"]
    for i, u in enumerate(sae.units(campaign)):
        if i == skip:
            continue
        lines.append(f"{u.code},{0.80 + 0.015 * i:.3f},{(30 + 4 * i) % 70}%,{0.1 * (i % 9):.1f},Sở")
    return ("\n".join(lines) + "\n").encode()


def test_service_fits_the_model_per_unit_of_the_breakdown(demo: Campaign) -> None:
    result = sae.estimate(demo)
    units = sae.units(demo)
    assert [u.code for u in result.units] == [u.code for u in units]
    assert result.level == sae.breakdown(demo) == "district"  # the demo's breakdown level
    doc = result.to_dict()
    assert doc["label"] == "model-based"
    assert doc["model"]["method"] == "reml"
    # without imported covariates: the desk-rating share only, and the page says so
    assert doc["model"]["covariates"] == ["intercept", "desk_share"]
    assert any("Không có biến phụ trợ hành chính" in n for n in result.notes)
    beta = result.result.model.beta
    for u in result.units:
        assert u.direct is not None and u.gamma is not None and 0 <= u.gamma <= 1
        synthetic = beta[0] + beta[1] * u.covariates["desk_share"]
        # EBLUP = γ·direct + (1 − γ)·x'β̂
        assert u.estimate == pytest.approx(u.gamma * u.direct + (1 - u.gamma) * synthetic)
        assert u.ci[0] < u.estimate < u.ci[1]
        assert u.rmse == pytest.approx(
            math.sqrt(next(a.mse for a in result.result.areas if a.area == u.code))
        )
        # direct SE is the report's design SE, and the interval is built on it
        assert u.direct_ci is not None and u.direct_se is not None
        assert u.direct_ci[1] - u.direct_ci[0] == pytest.approx(2 * 1.959963984540054 * u.direct_se)
    assert len(result.qq) == len(result.units)


def test_unit_without_respondents_gets_the_synthetic_estimate(demo: Campaign) -> None:
    province = demo.units[0]
    empty = Unit(
        code="75-999", name="Đơn vị chưa khảo sát", level=UnitLevel.DISTRICT, parent=province
    )
    db.session.add(empty)
    db.session.commit()
    result = sae.estimate(demo, method="ml")
    row = next(u for u in result.units if u.code == "75-999")
    assert row.synthetic and row.direct is None and row.gamma is None and row.n == 0
    beta = result.result.model.beta
    assert row.estimate == pytest.approx(beta[0] + beta[1] * row.covariates["desk_share"])
    assert any("Đơn vị chưa khảo sát" in n for n in result.notes)  # province's desk share used


def test_import_covariates_all_or_nothing_audited_and_used(demo: Campaign) -> None:
    added = sae.import_covariates(demo, _covariates_csv(demo), "cov.csv")
    db.session.commit()
    assert len(added) == len(sae.units(demo)) == _count()
    assert added[0].online_share == pytest.approx(0.30)
    entry = db.session.scalars(select(AuditLog).where(AuditLog.entity == "area_covariates")).one()
    assert entry.after["file"] == "cov.csv"
    result = sae.estimate(demo, method="fh")
    assert result.covariates == ["desk_share", "on_time_rate", "online_share", "urban_share"]
    # a bad file names row and column in Vietnamese and changes nothing
    bad = (
        b"unit,on_time_rate,online_share\n"
        + f"{sae.units(demo)[0].code},abc,0.5\n".encode()
        + f"{sae.units(demo)[1].code},0.9,\n".encode()
        + b"zzz,0.9,0.5\n"
        + f"{sae.units(demo)[2].code},1.5,0.2\n".encode()
    )
    with pytest.raises(ImportProblems) as info:
        sae.import_covariates(demo, bad, "bad.csv")
    db.session.rollback()
    problems = info.value.problems
    assert problems[0].startswith("Trang tính CSV, dòng 2, cột on_time_rate (B)")
    assert "dòng 3, cột online_share (C)" in problems[1] and "để trống" in problems[1]
    assert "dòng 4, cột unit (A)" in problems[2] and "'zzz'" in problems[2]
    assert "dòng 5, cột on_time_rate (B)" in problems[3]
    assert _count() == len(sae.units(demo))
    with pytest.raises(ImportProblems) as info:
        sae.import_covariates(demo, _covariates_csv(demo, skip=0), "short.csv")
    assert sae.units(demo)[0].code in info.value.problems[0]
    # the template lists every unit with the stored values
    wb = load_workbook(io.BytesIO(sae.template(demo)))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][:5] == ("unit", "name", "on_time_rate", "online_share", "urban_share")
    assert len(rows) == 1 + len(sae.units(demo))
    assert sae.clear_covariates(demo) == len(sae.units(demo)) and _count() == 0


def test_benchmarking_is_stated_and_meets_the_province(demo: Campaign, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # units with fewer respondents than MIN_N get the GVF variance d·p(1 − p)/n in the model;
    # the page still shows the design SE and interval
    monkeypatch.setattr(sae, "MIN_N", 41)
    smoothed = sae.estimate(demo)
    d, p = smoothed.gvf["d"], smoothed.gvf["p"]
    assert smoothed.gvf["smoothed_units"] == len(smoothed.units)
    for u in smoothed.units:
        assert u.smoothed and u.model_se == pytest.approx(math.sqrt(d * p * (1 - p) / u.n))
        assert u.direct_se is not None and u.direct_se != pytest.approx(u.model_se)
    monkeypatch.undo()
    result = sae.estimate(demo, bench="ratio")
    # only units below MIN_N (or with a zero design SE) are smoothed, however many the demo has
    assert result.gvf["smoothed_units"] == sum(u.smoothed for u in result.units)
    assert all(u.smoothed == (u.n < sae.MIN_N or not u.direct_se) for u in result.units)
    bench = result.result.benchmark
    assert bench is not None and bench.kind == "ratio"
    assert bench.target == pytest.approx(result.province["estimate"])
    assert any("ratio" in n for n in result.notes)
    assert result.to_dict()["benchmark"]["kind"] == "ratio"


def test_dashboard_page_api_and_openapi(demo: Campaign, login_as) -> None:  # type: ignore[no-untyped-def]
    client = login_as("admin")
    page = client.get(f"/dashboard/{demo.id}/sae")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "ước lượng dựa trên mô hình" in html.lower()
    assert "<svg" in html and "qq-point" in html and "sae-chart" in html
    for u in sae.units(demo):
        assert u.name in html
    assert client.get(f"/dashboard/{demo.id}/sae?method=bayes").status_code == 400
    assert f"/dashboard/{demo.id}/sae" in client.get(f"/dashboard/{demo.id}").get_data(as_text=True)
    api = client.get(f"/api/v1/campaigns/{demo.id}/sae?method=ml")
    assert api.status_code == 200, api.data
    doc = api.get_json()
    assert doc["label"] == "model-based" and doc["model"]["method"] == "ml"
    assert len(doc["units"]) == len(sae.units(demo))
    assert client.get(f"/api/v1/campaigns/{demo.id}/sae?method=x").status_code == 400
    assert client.get(f"/api/v1/campaigns/{demo.id}/sae?metod=ml").status_code == 400
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/campaigns/{campaign_id}/sae" in spec["paths"]
    assert "SmallArea" in spec["components"]["schemas"]


def test_report_files_have_the_small_area_section(demo: Campaign, login_as) -> None:  # type: ignore[no-untyped-def]
    client = login_as("admin")
    xlsx = client.get(f"/dashboard/{demo.id}/report.xlsx")
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.data))
    ws = wb[sae.SHEET_TITLE]
    assert "ước lượng dựa trên mô hình" in ws["A1"].value
    rows = list(ws.iter_rows(min_row=3, max_row=2 + len(sae.units(demo)), values_only=True))
    assert [r[0] for r in rows] == [u.code for u in sae.units(demo)]
    expected = {u.code: u for u in sae.estimate(demo).units}
    for r in rows:
        assert r[6] == pytest.approx(expected[r[0]].estimate)
        assert r[9] == pytest.approx(expected[r[0]].gamma)
    html = client.get(f"/dashboard/{demo.id}/report.html").get_data(as_text=True)
    assert "small-area" in html and "Ước lượng dựa trên mô hình" in html
    assert sae.units(demo)[0].name in html.split("small-area", 1)[1]


@pytest.fixture
def with_units(campaign):  # type: ignore[no-untyped-def]
    from paper_support import build_units

    build_units(campaign.units[0])
    db.session.commit()
    return campaign


def test_admin_page_imports_and_removes_covariates(login_as, with_units) -> None:  # type: ignore[no-untyped-def]
    campaign = with_units
    client = login_as("admin")
    base = f"/admin/campaigns/{campaign.id}/covariates"
    assert base in client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Chưa có biến phụ trợ hành chính" in client.get(base).get_data(as_text=True)
    good = b"unit,urban_share,on_time_rate\n75-1,0.5,90%\n75-2,0.2,0.8\n75-3,0.1,0.75\n"
    page = client.post(
        f"{base}/import",
        data={"file": (io.BytesIO(good), "c.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Đã nhập biến phụ trợ cho 3 đơn vị" in page and "90,00\u00a0%" in page
    rows = {r.unit.code: r for r in sae.stored(campaign)}
    assert rows["75-1"].on_time_rate == pytest.approx(0.9) and rows["75-1"].online_share is None
    bad = client.post(
        f"{base}/import",
        data={"file": (io.BytesIO(b"unit,urban_share\n75-1,1.2\n"), "b.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "dòng 2, cột urban_share (B)" in bad
    assert "thiếu dòng cho các đơn vị" not in bad  # named once the rows themselves are right
    assert _count() == 3
    template = client.get(f"{base}/template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    client.post(f"{base}/clear", follow_redirects=True)
    assert _count() == 0


def test_analysts_cannot_change_covariates(login_as, with_units) -> None:  # type: ignore[no-untyped-def]
    client = login_as("analyst")
    base = f"/admin/campaigns/{with_units.id}/covariates"
    assert client.get(base).status_code == 403
    assert client.post(f"{base}/clear").status_code == 403
    # but the analyst sees the small-area page
    assert client.get(f"/dashboard/{with_units.id}/sae").status_code == 200


def test_without_responses_the_page_explains_and_the_api_refuses(login_as, with_units) -> None:  # type: ignore[no-untyped-def]
    client = login_as("admin")
    page = client.get(f"/dashboard/{with_units.id}/sae")
    assert page.status_code == 200
    assert "Mẫu xác suất chưa có phiếu trả lời nào" in page.get_data(as_text=True)
    api = client.get(f"/api/v1/campaigns/{with_units.id}/sae")
    assert api.status_code == 400
