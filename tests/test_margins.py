"""Population margins: the all-or-nothing import (file, CLI, admin page) and what is stored."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from paper_support import build_units
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import AuditLog, MarginVariable, PopulationMargin
from surveyapp.services import margins
from surveyapp.services.frame import ImportProblems

SEX_AGE = {f"{s}-{a}": 1000 * s + 100 * a for s in (1, 2) for a in range(1, 6)}
TOTAL = sum(SEX_AGE.values())  # 18000


def _good_csv(total: int = TOTAL) -> bytes:
    lines = ["variable,category,population,source"]
    lines += [f"sex_age,{c},{n},Census" for c, n in SEX_AGE.items()]
    lines += [f"area,1,{total - 6500},", "area,2,6500,"]
    lines += [f"district,75-{d},{n}," for d, n in ((1, 5000), (2, 5000), (3, total - 10000))]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(autouse=True)
def request_context(app, request):  # type: ignore[no-untyped-def]
    """Services translate their messages (Vietnamese by default); CLI tests run without one."""
    if "runner" in request.fixturenames:
        yield
        return
    with app.test_request_context():
        yield


@pytest.fixture
def with_districts(campaign):  # type: ignore[no-untyped-def]
    build_units(campaign.units[0])  # districts 75-1, 75-2, 75-3 under the province
    db.session.commit()
    return campaign


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(PopulationMargin)) or 0


def test_categories_follow_the_instrument_and_the_campaign_units(with_districts) -> None:
    cats = margins.categories(with_districts)
    assert list(cats[MarginVariable.SEX_AGE]) == list(SEX_AGE)
    assert cats[MarginVariable.SEX_AGE]["2-3"] == "Nữ, Từ 40 đến 49 tuổi"
    assert cats[MarginVariable.AREA] == {"1": "Thành thị", "2": "Nông thôn"}
    assert list(cats[MarginVariable.DISTRICT]) == ["75-1", "75-2", "75-3"]


def test_import_stores_every_total_audited_and_replaces(with_districts) -> None:
    campaign = with_districts
    added = margins.import_margins(campaign, _good_csv(), "m.csv")
    db.session.commit()
    assert len(added) == 10 + 2 + 3 == _count()
    stored = dict(margins.for_analysis(campaign))
    assert dict(stored[MarginVariable.SEX_AGE]) == SEX_AGE
    groups = {g["variable"]: g for g in margins.overview(campaign)}
    assert all(g["total"] == TOTAL for g in groups.values())
    assert groups["sex_age"]["sources"] == ["Census"]
    assert groups["area"]["rows"][0]["share"] == pytest.approx((TOTAL - 6500) / TOTAL)
    # Thousands separators as Vietnamese writes them; the file replaces every earlier margin.
    margins.import_margins(
        campaign, b"variable,category,population\narea,1,10.000\narea,2,6.500\n", "a.csv", "GSO"
    )
    db.session.commit()
    assert [(v, dict(c)) for v, c in margins.for_analysis(campaign)] == [
        (MarginVariable.AREA, {"1": 10000.0, "2": 6500.0})
    ]
    entries = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "population_margins")
    ).all()
    assert len(entries) == 2
    assert entries[1].before["area"] == {"1": TOTAL - 6500, "2": 6500}
    assert entries[1].after["area"] == {"1": 10000.0, "2": 6500.0}
    assert margins.clear(campaign) == 2 and _count() == 0


def test_each_bad_cell_is_named_and_nothing_is_imported(with_districts) -> None:
    campaign = with_districts
    margins.import_margins(campaign, _good_csv(), "m.csv")
    db.session.commit()
    bad = (
        b"variable,category,population\n"
        b"sex_age,1-1,abc\n"  # row 2: not a number
        b"sex_age,1-1,5\n"  # row 3: repeats row 2
        b"planet,x,3\n"  # row 4: unknown variable
        b"area,9,4\n"  # row 5: unknown category
        b"area,1,-3\n"  # row 6: negative
    )
    with pytest.raises(ImportProblems) as info:
        margins.import_margins(campaign, bad, "bad.csv")
    db.session.rollback()
    problems = info.value.problems
    assert len(problems) == 5
    assert problems[0].startswith("Trang tính CSV, dòng 2, cột population (C)")
    assert "'abc' không phải là số" in problems[0]
    assert "dòng 3, cột category (B)" in problems[1] and "trùng với dòng 2" in problems[1]
    assert "dòng 4, cột variable (A)" in problems[2] and "'planet'" in problems[2]
    assert "dòng 5, cột category (B)" in problems[3] and "'9'" in problems[3]
    assert "dòng 6, cột population (C)" in problems[4] and "không được âm" in problems[4]
    assert _count() == 15  # the earlier margins are untouched


def test_totals_must_agree_and_variables_be_complete(with_districts) -> None:
    campaign = with_districts
    uneven = b"variable,category,population\narea,1,4\narea,2,5\ndistrict,75-1,3\n"
    with pytest.raises(ImportProblems) as info:
        margins.import_margins(campaign, uneven, "u.csv")
    text = "\n".join(info.value.problems)
    assert "Cột category: district thiếu dòng cho các nhóm 75-2, 75-3" in text
    assert "Cột population: tổng của district là 3 nhưng tổng của area là 9" in text
    with pytest.raises(ImportProblems, match="cùng tổng dân số"):
        margins.import_margins(campaign, _good_csv().replace(b"area,2,6500", b"area,2,6501"), "x")
    with pytest.raises(ImportProblems, match="variable, category"):
        margins.import_margins(campaign, b"a,b\n1,2\n", "x.csv")
    assert _count() == 0


def test_xlsx_template_round_trip(with_districts) -> None:
    campaign = with_districts
    wb = load_workbook(io.BytesIO(margins.template(campaign)))
    ws = wb.active
    assert [c.value for c in ws[1]] == ["variable", "category", "label", "population", "source"]
    rows = list(ws.iter_rows(min_row=2))
    assert len(rows) == 15 and rows[0][2].value == "Nam, Từ 18 đến 29 tuổi"
    good = {(v, c): n for v, c, n in _rows(_good_csv())}
    for row in rows:
        row[3].value = good[(row[0].value, row[1].value)]
    out = io.BytesIO()
    wb.save(out)
    assert len(margins.import_margins(campaign, out.getvalue(), "m.xlsx")) == 15
    again = load_workbook(io.BytesIO(margins.template(campaign))).active
    assert again["D2"].value == SEX_AGE["1-1"]  # the template shows the current totals


def _rows(data: bytes) -> list[tuple[str, str, float]]:
    lines = data.decode().splitlines()[1:]
    return [(v, c, float(n)) for v, c, n, *_rest in (line.split(",") for line in lines)]


def test_cli_import_show_and_template(runner, with_districts, tmp_path: Path) -> None:
    campaign_id = str(with_districts.id)
    path = tmp_path / "m.csv"
    path.write_bytes(_good_csv())
    result = runner.invoke(args=["margins", "import", "--campaign", campaign_id, str(path)])
    assert result.exit_code == 0, result.output
    assert "15" in result.output
    shown = runner.invoke(args=["margins", "show", "--campaign", campaign_id, "--format", "json"])
    groups = json.loads(shown.output)
    assert [g["variable"] for g in groups] == ["sex_age", "area", "district"]
    assert [g["total"] for g in groups] == [TOTAL] * 3
    table = runner.invoke(args=["margins", "show", "--campaign", campaign_id]).output
    assert "Nữ, Từ 60 tuổi trở lên" in table and "Σ" in table
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"variable,category,population\narea,1,x\narea,2,1\n")
    refused = runner.invoke(args=["margins", "import", "--campaign", campaign_id, str(bad)])
    assert refused.exit_code != 0
    assert "không có dữ liệu nào được nhập" in refused.output
    assert "dòng 2, cột population (C)" in refused.output
    assert _count() == 15
    out = tmp_path / "t.xlsx"
    result = runner.invoke(
        args=["margins", "template", "--campaign", campaign_id, "--output", str(out)]
    )
    assert result.exit_code == 0 and load_workbook(out).active.max_row == 16
    missing = runner.invoke(args=["margins", "show", "--campaign", "999"])
    assert missing.exit_code != 0


def test_admin_page_imports_shows_and_removes(login_as, with_districts) -> None:
    campaign = with_districts
    client = login_as("admin")
    base = f"/admin/campaigns/{campaign.id}/margins"
    page = client.get(base).get_data(as_text=True)
    assert "Chưa có biên dân số" in page
    assert f"/admin/campaigns/{campaign.id}/margins" in client.get(
        f"/admin/campaigns/{campaign.id}"
    ).get_data(as_text=True)
    response = client.post(
        f"{base}/import",
        data={"file": (io.BytesIO(_good_csv()), "m.csv"), "source": "Tổng điều tra 2019"},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Đã nhập 15 số liệu dân số" in page
    assert "18.000" in page and "giới tính × nhóm tuổi" in page and "Census" in page
    bad = client.post(
        f"{base}/import",
        data={"file": (io.BytesIO(b"variable,category,population\narea,3,1\n"), "b.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "dòng 2, cột category (B)" in bad and _count() == 15
    template = client.get(f"{base}/template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    client.post(f"{base}/clear", follow_redirects=True)
    assert _count() == 0


def test_analysts_cannot_change_margins(login_as, with_districts) -> None:
    client = login_as("analyst")
    base = f"/admin/campaigns/{with_districts.id}/margins"
    assert client.get(base).status_code == 403
    assert client.post(f"{base}/clear").status_code == 403
