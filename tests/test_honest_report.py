"""Issue 12 on the report side: the analysis' reasons reach the report, and one estimate is
never judged against two targets without the report saying so."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from surveyapp.extensions import db
from surveyapp.models import Campaign
from surveyapp.services import report_files, reports


def _campaign(demo_data) -> Campaign:
    return db.session.get(Campaign, demo_data.campaign_id)


def test_field_2_says_it_is_judged_against_its_own_target(demo_data) -> None:
    report = reports.build(_campaign(demo_data))
    rows = {r["code"]: r for r in report.rows()}
    field, crit = rows["2"], rows["2.6"]
    # the same number, two targets (89.5 % and 90 % in the Đồng Nai plan)
    assert field["estimate"] == crit["estimate"] and field["target"] != crit["target"]
    assert field["same_estimate_as"] == "2.6"
    assert "2.6" in field["note"] and "89,50%" in field["note"] and "90,00%" in field["note"]
    assert "note" not in rows["1"] or rows["1"]["note"] is None
    english = {r["code"]: r for r in reports.build(_campaign(demo_data), lang="en").rows()}
    assert "89.50%" in english["2"]["note"]
    # the report file carries the note in its last column
    wb = load_workbook(io.BytesIO(report_files.to_xlsx([("SIPAS", report)])))
    ws = wb.worksheets[0]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    header = next(v for v in values if v and "Ghi chú" in v)
    line = next(v for v in values if v and v[0] == "2")
    assert "2.6" in line[header.index("Ghi chú")]


def test_rows_carry_the_verdict_reason_and_n_to_decide_reason(demo_data) -> None:
    report = reports.build(_campaign(demo_data))
    for row in report.rows():
        assert "verdict_reason" in row and "reason" in row and "n_to_decide_reason" in row
        if row["verdict"] in ("met", "not_met"):
            assert row["verdict_reason"] is None and row["n_to_decide"] is None
            assert row["n_to_decide_reason"] == "decided"
        elif row["verdict"] == "inconclusive":
            assert row["verdict_reason"] is not None
