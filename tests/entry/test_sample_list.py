"""The Ministry's list of sampled households (``surveyapp sample export --layout moha``)."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Form
from surveyapp.services import sample_lists


def test_moha_list_has_one_row_per_drawn_household(paper, runner, tmp_path) -> None:
    campaign, _draw = paper
    out = tmp_path / "moha.xlsx"
    result = runner.invoke(
        args=["sample", "export", "--campaign", str(campaign.id), "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[1]) == sample_lists.MOHA_HEADERS
    body = rows[2:]
    forms = {f.serial: f for f in db.session.scalars(select(Form))}
    assert sorted(r[7] for r in body) == sorted(forms)
    assert [r[0] for r in body] == list(range(1, len(forms) + 1))
    for row in body:
        form = forms[row[7]]
        village = form.household.village
        assert (row[1], row[2], row[3]) == (village.parent.code, village.parent.name, village.name)
        assert (row[4], row[5], row[6]) == (
            form.household.code,
            form.household.head_name,
            form.household.address,
        )
        assert row[8] == ("x" if form.reserve else None)
    assert any(r[8] == "x" for r in body)  # the plan keeps one reserve per village
    assert all(c.data_type != "f" for r in sheet.iter_rows() for c in r)


def test_moha_list_as_csv_and_without_a_draw(paper, campaign, runner) -> None:
    result = runner.invoke(
        args=["sample", "export", "--campaign", str(campaign.id), "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output.lstrip("\ufeff"))))
    assert rows[0] == sample_lists.MOHA_HEADERS and len(rows) > 1


def test_no_draw_is_one_clear_line(campaign, runner) -> None:
    result = runner.invoke(args=["sample", "export", "--campaign", str(campaign.id)])
    assert result.exit_code != 0
    assert "sample draw" in result.output and "Traceback" not in result.output
