"""Excel template, atomic import with located errors, export for `surveyapp analyze`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook
from paper_support import answers, frame_csv, make_user
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Household, Response
from surveyapp.services import entry, frame, imports, sampling


def _main_forms(draw):  # type: ignore[no-untyped-def]
    return [f for f in sampling.forms_of(draw.id) if not f.reserve]


def _workbook(campaign, rows: list[dict[str, object]]) -> bytes:  # type: ignore[no-untyped-def]
    wb = Workbook()
    ws = wb.active
    ws.title = "Phieu"
    header = imports.columns(campaign)
    ws.append(header)
    for row in rows:
        ws.append([row.get(c) for c in header])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Response)) or 0


def test_template_has_header_validation_lists_and_vietnamese_text(paper, runner, tmp_path) -> None:
    campaign, _draw = paper
    path = tmp_path / "template.xlsx"
    result = runner.invoke(
        args=["import-responses", "--template", str(path), "--campaign", str(campaign.id)]
    )
    assert result.exit_code == 0, result.output
    wb = load_workbook(path)
    ws = wb["Phieu"]
    header = [c.value for c in ws[1]]
    assert header == [
        "serial",
        *[f"q{i}" for i in range(1, 34)],
        "sex",
        "age_group",
        "ethnicity",
        "education",
        "occupation",
        "area",
    ]
    rules = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert rules["B2:B2000"] == '"0,1,2,3,4,5"'
    assert '"0,1,2,3,4,5,6,7"' in rules.values()  # occupation
    assert "Thông tin về chính sách" in ws["B1"].comment.text
    assert "Câu hỏi" in [c.value for c in wb["Huong dan"][1]]


def test_import_is_all_or_nothing_with_sheet_row_column_reasons(paper, runner, tmp_path) -> None:
    campaign, draw = paper
    forms = _main_forms(draw)
    good = {"serial": forms[0].serial, **answers(campaign.questionnaire)}
    rows = [
        good,
        {**good, "serial": forms[1].serial, "q5": 7},  # out of range
        {**good, "serial": forms[2].serial[:-1] + str((int(forms[2].serial[-1]) + 1) % 10)},
        {**good, "serial": forms[0].serial},  # repeats row 2
    ]
    path = tmp_path / "bad.xlsx"
    path.write_bytes(_workbook(campaign, rows))
    before = _count()
    result = runner.invoke(args=["import-responses", str(path), "--campaign", str(campaign.id)])
    assert result.exit_code != 0
    assert _count() == before
    out = result.output
    assert "Trang tính Phieu, dòng 3, cột q5 (F)" in out
    assert "Trang tính Phieu, dòng 4, cột serial (A)" in out
    assert "Trang tính Phieu, dòng 5, cột serial (A)" in out and "dòng 2" in out


def test_import_then_the_same_file_again_is_refused(paper, runner, tmp_path) -> None:
    campaign, draw = paper
    forms = _main_forms(draw)
    rows = []
    for i, f in enumerate(forms[:5]):
        values = answers(campaign.questionnaire, 1 + i % 5)
        values["q2"] = None if i == 0 else values["q2"]
        rows.append({"serial": f.serial, **values})
    path = tmp_path / "ok.xlsx"
    path.write_bytes(_workbook(campaign, rows))
    result = runner.invoke(args=["import-responses", str(path), "--campaign", str(campaign.id)])
    assert result.exit_code == 0, result.output
    assert _count() == 5
    blank = db.session.scalar(select(Response).where(Response.serial == forms[0].serial))
    assert "q2" not in {a.question.code for a in blank.answers}
    assert blank.nonce == f"paper-{forms[0].serial}" and blank.weight == pytest.approx(
        forms[0].weight
    )
    again = runner.invoke(args=["import-responses", str(path), "--campaign", str(campaign.id)])
    assert again.exit_code != 0 and "đã được nhập" in again.output
    assert _count() == 5


def test_import_refuses_unknown_and_missing_columns(paper) -> None:
    campaign, _draw = paper
    data = b"serial,q1,extra\n0000010,1,2\n"
    with pytest.raises(frame.ImportProblems) as info:
        imports.import_responses(campaign, data, "x.csv")
    assert len(info.value.problems) == 2


def test_export_csv_to_stdout_and_xlsx_parquet_files(paper, runner, tmp_path) -> None:
    campaign, draw = paper
    forms = _main_forms(draw)
    a, b = make_user("keyer-a", "enumerator"), make_user("keyer-b", "enumerator")
    values = answers(campaign.questionnaire)
    values["q9"] = None
    for f in forms[:3]:
        entry.save_keying(f, a, values, 40)
        entry.save_keying(f, b, values, 40)
    db.session.commit()
    result = runner.invoke(args=["export-responses", "--campaign", str(campaign.id)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == 3
    # one column per level the data has: the historical districts and their communes
    assert list(rows[0])[:7] == [
        "response_id",
        "channel",
        "serial",
        "district",
        "commune",
        "unit",
        "desk",
    ]
    row = rows[0]
    assert row["channel"] == "paper" and row["q9"] == "" and row["q1"] == "4"
    for column in (
        "stratum",
        "psu",
        "ssu",
        "weight",
        "fate",
        "nr_class",
        "nr_factor",
        "weight_nr",
        "cal_sex_age",
        "cal_area",
        "cal_district",
    ):
        assert row[column] != "", column
    # PLAN draws communes with PPS: analysed with replacement, so no fpc (services.sampling).
    assert row["fpc1"] == row["fpc2"] == ""
    assert row["fate"] == "returned"
    assert float(row["weight_nr"]) == pytest.approx(float(row["weight"]) * float(row["nr_factor"]))
    assert row["cal_district"] == row["district"] and row["cal_sex_age"].count("-") == 1
    # nr_factor: selected over responding weight in the village (4 selected, 3 or fewer keyed).
    assert float(row["nr_factor"]) >= 1
    for fmt in ("xlsx", "parquet"):
        path = tmp_path / f"out.{fmt}"
        result = runner.invoke(
            args=[
                "export-responses",
                "--campaign",
                str(campaign.id),
                "--format",
                fmt,
                "--output",
                str(path),
            ]
        )
        assert result.exit_code == 0, result.output
        frame_ = pd.read_excel(path) if fmt == "xlsx" else pd.read_parquet(path)
        assert len(frame_) == 3 and frame_["weight"].notna().all()
        assert frame_["q9"].isna().all()


def test_horvitz_thompson_totals_of_the_export_equal_the_frame(
    campaign, frame_units, runner, tmp_path
) -> None:
    """Draw from a generated frame, simulate full returns, export, and check Σ weight.

    With districts as strata, PPS (size = households) for communes and villages and a fixed
    take of households, π = n_c·n_v·m / M_district, so the weights of each district's sample
    add up to its household count exactly. ``surveyapp analyze`` is built in parallel, so
    the check runs on the export's weight column with numpy.
    """
    frame.import_frame(frame_csv(frame_units, seed=5, low=10, high=60), "f.csv")
    plan = tmp_path / "plan.toml"
    plan.write_text(
        'seed = 99\n[[stages]]\nlevel = "district"\nmethod = "all"\n'
        '[[stages]]\nlevel = "commune"\nmethod = "pps"\nn = 2\n'
        '[[stages]]\nlevel = "village"\nmethod = "pps"\nn = 2\n'
        '[[stages]]\nlevel = "household"\nmethod = "srs"\nn = 6\nreserve = 2\n'
    )
    db.session.commit()
    result = runner.invoke(
        args=["sample", "draw", "--campaign", str(campaign.id), "--plan", str(plan)]
    )
    assert result.exit_code == 0, result.output
    draw = db.session.scalar(select(sampling.SampleDraw))
    forms = _main_forms(draw)
    rng = np.random.default_rng(1)
    rows = [
        {"serial": f.serial, **answers(campaign.questionnaire, int(rng.integers(1, 6)))}
        for f in forms
    ]
    path = tmp_path / "returns.xlsx"
    path.write_bytes(_workbook(campaign, rows))
    result = runner.invoke(args=["import-responses", str(path), "--campaign", str(campaign.id)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "export.csv"
    result = runner.invoke(
        args=["export-responses", "--campaign", str(campaign.id), "--output", str(out)]
    )
    assert result.exit_code == 0
    data = pd.read_csv(out, dtype={"stratum": str})
    assert len(data) == len(forms)
    frame_total = db.session.scalar(select(func.count()).select_from(Household))
    weights = data["weight"].to_numpy()
    assert np.sum(weights) == pytest.approx(frame_total, rel=1e-9)
    sizes = {r["code"]: r["households"] for r in frame.sizes()}
    for stratum, group in data.groupby("stratum"):
        assert group["weight"].sum() == pytest.approx(sizes[stratum], rel=1e-9)
    # Weighted share satisfied (q1 in 4, 5) is a proper HT ratio estimate in [0, 1].
    share = np.sum(weights * data["q1"].isin([4, 5])) / np.sum(weights)
    assert 0 <= share <= 1


def test_forms_print_writes_a4_pages_with_serial_code_and_qr(paper, runner, tmp_path) -> None:
    _campaign, draw = paper
    batch = _main_forms(draw)[0].batch
    out = tmp_path / "forms.html"
    result = runner.invoke(args=["forms", "print", "--batch", str(batch.id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "size: A4" in html and html.count('class="sheet"') == len(batch.forms)
    for form in batch.forms:
        assert form.serial in html and form.invitation.printed in html
        assert f"/i/{form.invitation.code}" in html
    assert "data:image/svg+xml" in html
    assert "Phần A. Đánh giá về việc xây dựng" in html and "Rất hài lòng" in html
    assert Path(out).stat().st_size > 1000
    other = tmp_path / "again.html"
    runner.invoke(args=["forms", "print", "--batch", str(batch.id), "--output", str(other)])
    assert other.exists()


def test_online_answers_get_the_forms_design_and_all_selected_adds_nonrespondents(
    paper, runner
) -> None:
    from surveyapp.models import Channel, ResponseStatus
    from surveyapp.models.base import utcnow

    campaign, draw = paper
    forms = _main_forms(draw)
    web = Response(
        campaign=campaign,
        questionnaire=campaign.questionnaire,
        channel=Channel.WEB_INVITE,
        status=ResponseStatus.FINAL,
        nonce="web-1",
        flags=[],
    )
    db.session.add(web)
    db.session.flush()
    forms[0].invitation.used_at = utcnow()
    forms[0].invitation.response_id = web.id
    db.session.commit()
    result = runner.invoke(args=["export-responses", "--campaign", str(campaign.id)])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == 1
    row = rows[0]
    assert row["channel"] == "web_invite" and row["serial"] == forms[0].serial
    assert row["fate"] == "answered_online" and row["psu"] == forms[0].psu
    assert float(row["weight"]) == pytest.approx(forms[0].weight)
    assert row["district"] == forms[0].stratum
    result = runner.invoke(
        args=["export-responses", "--campaign", str(campaign.id), "--all-selected"]
    )
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == len(forms)
    fates = {r["serial"]: r["fate"] for r in rows}
    assert fates[forms[0].serial] == "answered_online"
    assert fates[forms[1].serial] == "handed_out" or fates[forms[1].serial] == "printed"
    assert sum(r["response_id"] == "" for r in rows) == len(forms) - 1
