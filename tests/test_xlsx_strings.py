"""Issue 12, defect 5: no text the product writes to XLSX is ever a formula.

Desk, unit and campaign names and a citizen's comment that start with ``=``, ``+``, ``-``,
``@`` (also after a tab or CR) go into every workbook the product writes: the report, the
response export, the margins and paper-import templates and ``analyze --format xlsx``. Each
workbook is opened and no cell may have data type ``f``; the names come back exactly.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from surveyapp.extensions import db

HOSTILE = [
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]

# Unit codes (at most 20 characters) are written as they are into the response export.
CODES = ["=1+1", "+731", "-732", "@733", "\t=734"]


def _cells(data: bytes) -> list[tuple[str, object, str]]:
    workbook = load_workbook(io.BytesIO(data))
    return [
        (ws.title, c.value, c.data_type)
        for ws in workbook.worksheets
        for row in ws.iter_rows()
        for c in row
    ]


def _no_formula(data: bytes) -> list[object]:
    cells = _cells(data)
    formulas = [(sheet, value) for sheet, value, kind in cells if kind == "f"]
    assert formulas == []
    return [value for _sheet, value, _kind in cells]


def _hostile_names(demo_data) -> None:  # type: ignore[no-untyped-def]
    from surveyapp.models import Campaign, ServicePoint, Unit, UnitLevel

    campaign = db.session.get(Campaign, demo_data.campaign_id)
    campaign.name = HOSTILE[0]
    districts = db.session.scalars(
        select(Unit).where(Unit.level == UnitLevel.DISTRICT).order_by(Unit.id)
    ).all()
    for unit, name, code in zip(districts, HOSTILE[1:], CODES, strict=False):
        unit.name = name
        unit.code = code
    desks = db.session.scalars(select(ServicePoint).order_by(ServicePoint.id)).all()
    for desk, name in zip(desks, reversed(HOSTILE), strict=False):
        desk.name = name
    db.session.commit()


def test_every_product_workbook_is_formula_free(
    app, demo_data, login_as, runner, tmp_path: Path
) -> None:
    _hostile_names(demo_data)
    cid = demo_data.campaign_id
    admin = login_as("admin")

    report = admin.get(f"/dashboard/{cid}/report.xlsx")
    assert report.status_code == 200
    values = _no_formula(report.data)
    assert any(isinstance(v, str) and v.startswith(HOSTILE[0]) for v in values)
    assert set(HOSTILE[1:]) & set(values)  # district or desk names, kept exactly

    margins = admin.get(f"/admin/campaigns/{cid}/margins/template.xlsx")
    assert margins.status_code == 200
    assert set(HOSTILE[1:]) & set(_no_formula(margins.data))

    out = tmp_path / "export.xlsx"
    result = runner.invoke(
        args=["export-responses", "--campaign", str(cid), "--format", "xlsx", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert set(CODES) & set(_no_formula(out.read_bytes()))

    template = tmp_path / "template.xlsx"
    result = runner.invoke(
        args=["import-responses", "--campaign", str(cid), "--template", str(template)]
    )
    assert result.exit_code == 0, result.output
    _no_formula(template.read_bytes())

    report_file = tmp_path / "report.xlsx"
    result = runner.invoke(
        args=["report", "--campaign", str(cid), "--format", "xlsx", "--output", str(report_file)]
    )
    assert result.exit_code == 0, result.output
    _no_formula(report_file.read_bytes())


def test_analyze_xlsx_is_formula_free(tmp_path: Path) -> None:
    from surveyapp.analysis.cli import analyze

    frame = pd.DataFrame(
        {
            "q1": [4, 5, 3, 4, 2, 5, 4, 1],
            "=group": [HOSTILE[0], HOSTILE[1], HOSTILE[2], HOSTILE[3]] * 2,
        }
    ).rename(columns={"q1": "@q1"})
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "out.xlsx"
    result = CliRunner().invoke(
        analyze,
        [
            str(data),
            "--prop",
            "@q1=4,5",
            "--by",
            "=group",
            "--format",
            "xlsx",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    values = _no_formula(out.read_bytes())
    # The variable and domain columns start with "@" and "="; both come back as typed.
    assert "@q1" in values
    assert f"=group={HOSTILE[0]}" in values
