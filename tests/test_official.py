"""The registry of published results, the own survey beside it, and the forecast (issue 15)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import AuditLog
from surveyapp.models.official import OfficialIndex, OfficialResult, ResultKind
from surveyapp.services import official

HEADER = (
    "index,kind,year,province_code,province_name,node,node_name,score,max_score,rank,rank_of,"
    "se,source\n"
)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(OfficialResult)) or 0


def test_the_demo_history_holds_every_table_of_the_plan(app) -> None:
    loaded = official.load_demo_history()
    db.session.commit()
    assert loaded == _count()
    mine = official.listing(province_code="75")
    par = {r.node: r for r in mine if r.index_code == OfficialIndex.PAR_INDEX}
    assert [par[str(k)].max_score for k in range(1, 9)] == [9.5, 10, 13, 10.5, 15, 12, 13.5, 16.5]
    assert par["1"].percent == pytest.approx(95.47, abs=0.01)  # the plan prints 95.47
    papi = [r for r in mine if r.index_code == OfficialIndex.PAPI and r.node != "total"]
    assert len(papi) == 8 and all(r.max_score == 10 for r in papi)
    pci = [r for r in mine if r.index_code == OfficialIndex.PCI and r.node != "total"]
    assert len(pci) == 10
    sipas = {
        r.node: r
        for r in mine
        if r.index_code == OfficialIndex.SIPAS and r.kind == ResultKind.PUBLISHED
    }
    assert (sipas["1"].score, sipas["1"].rank, sipas["1"].rank_of) == (80.23, 45, 63)
    quang_tri = [r for r in official.listing(OfficialIndex.SIPAS, "45")]
    assert [(r.year, r.rank, r.rank_of) for r in quang_tri] == [
        (2022, 55, 63),
        (2021, 46, 63),
        (2020, 34, 63),
    ]


def test_every_bad_cell_is_named_and_nothing_is_imported(app) -> None:
    data = (
        HEADER
        + "SIPAS,published,2023,75,Đồng Nai,1,,80.23,,45/63,,,\n"
        + "PISA,published,2023,75,Đồng Nai,1,,80,,,,,\n"
        + "PAR INDEX,published,2023,75,Đồng Nai,1,,9.07,10,,,,\n"
        + "SIPAS,published,20x3,75,Đồng Nai,1.1,,79.21,,,,,\n"
        + "SIPAS,published,2023,75,Đồng Nai,2,,80.74,,70/63,,,\n"
        + "SIPAS,published,2023,75,Đồng Nai,1,,80.23,,,,,\n"
        + "PCI,published,2023,75,Đồng Nai,1,,12,10,,,,\n"
    ).encode()
    with pytest.raises(official.OfficialImportError) as caught:
        official.import_results(data, "bad.csv")
    problems = caught.value.problems
    assert any("3" in p and "index" in p for p in problems)
    assert any("4" in p and "max_score" in p for p in problems)  # PAR INDEX field 1 is /9.5
    assert any("5" in p and "year" in p for p in problems)
    assert any("6" in p and "rank" in p for p in problems)  # 70 of 63
    assert any("7" in p and "2" in p for p in problems)  # repeats row 2
    assert any("8" in p and "score" in p for p in problems)  # 12 of 10
    assert len(problems) == 6
    db.session.rollback()
    assert _count() == 0


def test_xlsx_import_replaces_by_key_and_is_audited(app) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(
        ["SIPAS", "published", 2024, "75", "Tỉnh Đồng Nai", "total", "SIPAS", 81.5, None, "30/63"]
    )
    out = io.BytesIO()
    book.save(out)
    assert len(official.import_results(out.getvalue(), "r.xlsx")) == 1
    db.session.commit()
    again = HEADER + "SIPAS,published,2024,75,Tỉnh Đồng Nai,total,SIPAS,82.0,,31,63,,\n"
    official.import_results(again.encode(), "r.csv")
    db.session.commit()
    (row,) = official.listing(OfficialIndex.SIPAS)
    assert (row.score, row.rank, row.rank_of) == (82.0, 31, 63)
    entries = db.session.scalars(select(AuditLog).where(AuditLog.entity == "official_result")).all()
    assert [e.action for e in entries] == ["import", "import"]
    assert entries[1].before["score"] == 81.5 and entries[1].after["score"] == 82.0


def test_cli_import_list_and_template(runner, tmp_path: Path) -> None:
    template = tmp_path / "t.csv"
    assert runner.invoke(args=["official", "template", "--output", str(template)]).exit_code == 0
    result = runner.invoke(args=["official", "import", str(template)])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["official", "list", "--format", "json"])
    assert {r["index"] for r in json.loads(listed.output)} == {"SIPAS", "PAR INDEX", "PAPI", "PCI"}
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "SIPAS,published,2023,75,X,1,,180,,,,,\n", encoding="utf-8")
    refused = runner.invoke(args=["official", "import", str(bad)])
    assert refused.exit_code != 0 and "score" in refused.output
    assert "Traceback" not in refused.output


def test_admin_imports_enters_and_removes_audited(login_as, app) -> None:
    client = login_as("admin")
    page = client.get("/admin/official")
    assert page.status_code == 200
    upload = (HEADER + "PAPI,published,2023,75,Tỉnh Đồng Nai,total,PAPI,39.92,80,,,,\n").encode()
    client.post(
        "/admin/official/import",
        data={"file": (io.BytesIO(upload), "papi.csv")},
        content_type="multipart/form-data",
    )
    assert _count() == 1
    bad = client.post(
        "/admin/official/enter",
        data={"index": "pci", "kind": "published", "year": "2023", "province_code": "75",
              "province_name": "Đồng Nai", "node": "1", "score": "11", "max_score": "10"},
    )  # fmt: skip
    assert bad.status_code == 400 and _count() == 1
    good = client.post(
        "/admin/official/enter",
        data={"index": "pci", "kind": "published", "year": "2023", "province_code": "75",
              "province_name": "Đồng Nai", "node": "1", "score": "6.85", "max_score": "10"},
    )  # fmt: skip
    assert good.status_code == 302 and _count() == 2
    result = db.session.scalars(
        select(OfficialResult).where(OfficialResult.index_code == OfficialIndex.PCI)
    ).one()
    assert client.post(f"/admin/official/{result.id}/delete").status_code == 302
    assert _count() == 1
    actions = db.session.scalars(
        select(AuditLog.action).where(AuditLog.entity == "official_result")
    ).all()
    assert sorted(actions) == ["delete", "enter", "import"]
    assert client.get("/admin/official/999999/delete").status_code == 405


def test_analyst_sees_the_forecast_beside_the_published_figures(
    login_as, demo_data, runner
) -> None:
    client = login_as("analyst")
    page = client.get(f"/dashboard/{demo_data.campaign_id}/forecast")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "80,23" in text  # the published 2023 field 1, beside the own estimate
    out = runner.invoke(args=["forecast", "--campaign", str(demo_data.campaign_id)])
    assert out.exit_code == 0, out.output
    built = json.loads(out.output)
    field1 = next(n for n in built["nodes"] if n["code"] == "1")
    fc = field1["forecast"]
    # One past year with both figures: the stated fallback, shifted by that year's difference.
    assert fc["method"] == "one_difference" and fc["n_history"] == 1
    past = next(p for p in field1["history"] if p["year"] == 2023)
    assert fc["estimate"] == pytest.approx(field1["own"] + past["published"] - past["own"])
    assert fc["pi_low"] < fc["estimate"] < fc["pi_high"]
    band = field1["rank_band"]
    assert band["band"] == "20–30/63" and band["of"] == 63 and 0 <= band["probability"] <= 1
    xlsx = client.get(f"/dashboard/{demo_data.campaign_id}/forecast.xlsx")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.data))
    assert all(c.data_type != "f" for s in book.worksheets for r in s.iter_rows() for c in r)
    assert client.get(f"/dashboard/{demo_data.campaign_id}/forecast?level=2").status_code == 400


def test_a_band_out_of_another_total_is_rescaled_and_said(login_as, demo_data, runner) -> None:
    # After the 2025 merger 34 provinces are ranked: a 2025 table of 33 others.
    rows = "".join(
        f"SIPAS,published,2025,P{i:02d},Tỉnh {i},1,,{70 + i * 0.5:.2f},,,,,\n" for i in range(33)
    )
    official.import_results((HEADER + rows).encode(), "2025.csv")
    db.session.commit()
    out = runner.invoke(args=["forecast", "--campaign", str(demo_data.campaign_id), "--lang", "en"])
    field1 = next(n for n in json.loads(out.output)["nodes"] if n["code"] == "1")
    band = field1["rank_band"]
    assert band["of"] == 34 and band["band"] == "20–30/63"
    assert "out of 63" in band["note"] and "34" in band["note"]
    assert (band["low"], band["high"]) == (11, 16)
