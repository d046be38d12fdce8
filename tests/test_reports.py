from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from support import analyze_args_shown, run_shown, shown_lines

from surveyapp.analysis.cli import analyze
from surveyapp.extensions import db
from surveyapp.models import Campaign, Channel, Form, Response, Unit, UnitLevel
from surveyapp.services import campaigns, reports
from surveyapp.services.reports.common import spec_for

CODES = ["1", "1.1", "1.2", "1.3", "1.4", "2", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6"]


def _campaign(demo_data) -> Campaign:
    return db.session.get(Campaign, demo_data.campaign_id)


def test_report_json_has_every_node_with_target_and_verdict(runner, demo_data) -> None:
    result = runner.invoke(args=["report", "--campaign", str(demo_data.campaign_id)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["campaign"]["id"] == demo_data.campaign_id
    rows = {r["code"]: r for r in payload["estimates"]}
    assert [r["code"] for r in payload["estimates"][:13]] == [*CODES, "overall"]
    assert len(payload["estimates"]) == 13 + 33
    for code in CODES:
        row = rows[code]
        assert 0 < row["ci_low"] < row["estimate"] < row["ci_high"] < 1
        assert row["verdict"] in {"met", "not_met", "inconclusive"}
        if row["verdict"] == "met":
            assert row["ci_low"] >= row["target"]
        elif row["verdict"] == "not_met":
            assert row["ci_high"] < row["target"]
        else:
            assert row["ci_low"] < row["target"] <= row["ci_high"]
    assert rows["2.5"]["target"] == 0.92 and rows["1"]["previous"] == 0.8023
    # Field 2 is designated to criterion 2.6 and the overall index is the mean of the fields.
    assert rows["2"]["estimate"] == rows["2.6"]["estimate"]
    assert np.isclose(
        rows["overall"]["estimate"], (rows["1"]["estimate"] + rows["2"]["estimate"]) / 2
    )
    forms = db.session.scalars(select(Form).where(Form.campaign_id == demo_data.campaign_id)).all()
    assert payload["design"]["strata"] == len({f.stratum for f in forms})
    assert payload["design"]["psu"] == len({f.psu for f in forms})


def test_report_equals_analyze_on_the_same_rows(runner, demo_data, tmp_path: Path) -> None:
    """The report's numbers are what `surveyapp analyze` gives with the printed arguments."""
    campaign = _campaign(demo_data)
    frame = reports.frame_for(campaign, reports.SAMPLES["probability"])
    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False)
    shown = runner.invoke(args=["report", "--campaign", str(campaign.id), "--show-analyze-command"])
    args = analyze_args_shown(shown.output)
    from click.testing import CliRunner

    out = CliRunner().invoke(analyze, [str(path), *args, "--format", "json"])
    assert out.exit_code == 0, out.output
    by_cli = {r["variable"]: r for r in json.loads(out.output)["estimates"]}
    report = reports.build(campaign)
    assert len(report.estimates) == len(by_cli)
    for row in report.estimates:
        other = by_cli[row["variable"]]
        for key in ("estimate", "se", "ci_low", "ci_high", "deff"):
            assert np.isclose(row[key], other[key], rtol=1e-9, atol=0), (row["variable"], key)
        assert row["verdict"] == other["verdict"] and row["n"] == other["n"]


def test_report_by_district_gives_every_district(demo_data) -> None:
    report = reports.build(_campaign(demo_data), by="district")
    assert len(report.domains()) == _districts()
    assert "Thành phố Biên Hòa" in report.domains()
    assert len(report.rows("Thành phố Biên Hòa")) == 46


def test_convenience_sample_is_weighted_to_desk_volume(demo_data) -> None:
    campaign = _campaign(demo_data)
    frame = reports.frame_for(campaign, reports.SAMPLES["convenience"])
    assert set(frame["channel"]) == {"qr", "kiosk"}
    from surveyapp.data import queries

    volumes = queries.desk_volumes(campaign)
    totals = frame.groupby("service_point_id")["weight"].sum()
    for desk, total in totals.items():
        assert np.isclose(total, volumes[int(desk)])
    report = reports.build(campaign, sample="convenience")
    assert report.sample == "convenience" and report.estimates


def test_xlsx_follows_the_plans_layout(runner, demo_data, tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    result = runner.invoke(
        args=[
            "report",
            "--campaign",
            str(demo_data.campaign_id),
            "--format",
            "xlsx",
            "--by",
            "district",
            "--output",
            str(path),
        ]
    )
    assert result.exit_code == 0, result.output
    wb = load_workbook(path)
    assert wb.sheetnames == [
        "Mẫu xác suất",
        "Mẫu xác suất theo huyện",
        "QR – phi xác suất",
        "QR – phi xác suất theo huyện",
        "Ước lượng địa bàn nhỏ",  # model-based, its own sheet (issue 13 §3)
    ]
    ws = wb["Mẫu xác suất"]
    assert ws.freeze_panes == "A3"
    header = [c.value for c in ws[2]]
    assert header[:8] == [
        "STT",
        "Lĩnh vực/Tiêu chí",
        "Kết quả kỳ trước",
        "Chỉ tiêu",
        "Kết quả ước lượng",
        "KTC 95% – cận dưới",
        "KTC 95% – cận trên",
        "Đánh giá",
    ]
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    # STT is a number where the plans number a field, and the overall index goes by its name.
    assert [r[0] for r in rows[:13]] == [1, *CODES[1:5], 2, *CODES[6:], None]
    assert ws["A3"].number_format == "0" and ws["J3"].number_format == "0.00"
    assert rows[12][1] and rows[12][1] != "overall"
    first = rows[0]
    assert first[1].startswith("Mức độ hài lòng của người dân")
    assert first[3] == 0.8325 and ws["D3"].number_format == "0.00%"
    # The stored 79.21 reads back as 0.7921, not 79.21 / 100 = 0.7920999999999999.
    assert rows[1][2] == 0.7921 and ws["C4"].number_format == "0.00%"
    assert all(isinstance(r[8], int) and isinstance(r[9], float) for r in rows[:13])
    assert {r[7] for r in rows[:12]} <= {"Đạt", "Không đạt", "Chưa đủ căn cứ"}
    by = wb["Mẫu xác suất theo huyện"]
    cells = [[c.value for c in line] for line in by.iter_rows()]
    header_at = next(i for i, line in enumerate(cells) if line[0] == "Đơn vị")
    header = cells[header_at]
    # The province's previous result and target stand once, above the by-unit table.
    assert "Kết quả kỳ trước" not in header and "Chỉ tiêu" not in header
    block = cells[1:header_at]
    assert block[1][3:5] == ["Kết quả kỳ trước", "Chỉ tiêu"]
    assert [line[3] for line in block[2:15]][:2] == [0.8023, 0.7921]
    assert by.max_row == header_at + 1 + _districts() * 13


def test_html_report_is_self_contained(runner, demo_data) -> None:
    result = runner.invoke(
        args=["report", "--campaign", str(demo_data.campaign_id), "--format", "html"]
    )
    page = result.output
    assert "<style>" in page and "@page { size: A4" in page
    assert "Không đạt" in page or "Đạt" in page
    # the verdict cell's class comes from the same labels the cell shows
    assert 'verdict-met">Đạt<' in page or 'verdict-not-met">Không đạt<' in page
    assert "Mức độ hài lòng của người dân đối với tiếp cận dịch vụ" in page


def test_dashboard_shows_targets_verdicts_and_charts(login_as, demo_data) -> None:
    client = login_as("analyst")
    page = client.get(f"/dashboard/{demo_data.campaign_id}").get_data(as_text=True)
    assert page.count('class="verdict verdict-') >= 12
    assert "<svg" in page and "<title" in page and "<desc" in page
    assert "không phải là mẫu ngẫu nhiên" in page  # the QR sample is labelled as such
    download = client.get(f"/dashboard/{demo_data.campaign_id}/report.xlsx")
    assert download.status_code == 200
    wb = load_workbook(io.BytesIO(download.data))
    assert "Mẫu xác suất" in wb.sheetnames
    assert client.get(f"/dashboard/{demo_data.campaign_id}/report.json").json["estimates"]
    assert client.get(f"/dashboard/{demo_data.campaign_id}/report.pdf").status_code == 404


def test_dashboard_of_a_campaign_without_responses(login_as, campaign) -> None:
    client = login_as("analyst")
    page = client.get(f"/dashboard/{campaign.id}").get_data(as_text=True)
    assert "Chưa có phiếu trả lời nào" in page


def test_sql_cell_sums_give_the_same_estimates_as_rows(demo_data) -> None:
    """The database's GROUP BY (cells) and the unit-level rows agree to 1e-9."""
    campaign = _campaign(demo_data)
    for key in ("probability", "convenience"):
        sample = reports.SAMPLES[key]
        frame = reports.frame_for(campaign, sample)
        for by in (None, "district"):
            from_rows = reports.run(campaign, frame, sample, by).estimates
            from_cells = reports.run_cells(campaign, sample, by).estimates
            assert len(from_rows) == len(from_cells) >= 46
            for a, b in zip(from_rows, from_cells, strict=True):
                assert (a.variable, a.domain) == (b.variable, b.domain)
                assert np.isclose(a.estimate, b.estimate, rtol=1e-9, atol=1e-12)
                assert np.isclose(a.se, b.se, rtol=1e-9, atol=1e-12), (key, by, a.variable)


def test_report_equals_export_responses_then_analyze(
    runner, demo_data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DESIGN's consistency rule: `report` == `export-responses` + `analyze`, to 1e-9, with
    the two lines `report --show-analyze-command` prints, run as printed."""
    monkeypatch.chdir(tmp_path)
    campaign_id = str(demo_data.campaign_id)
    for sample in ("probability", "convenience"):
        shown = runner.invoke(
            args=["report", "--campaign", campaign_id, "--sample", sample, "--show-analyze-command"]
        )
        assert shown.exit_code == 0, shown.output
        export_line, analyze_line = shown_lines(shown.output)
        assert export_line[:2] == ["surveyapp", "export-responses"]
        assert analyze_line[:2] == ["surveyapp", "analyze"]
        by_cli = {r["variable"]: r for r in run_shown(runner, shown.output)[0]["estimates"]}
        report = json.loads(
            runner.invoke(args=["report", "--campaign", campaign_id, "--sample", sample]).output
        )
        assert len(report["estimates"]) == len(by_cli) == 46
        for row in report["estimates"]:
            other = by_cli[row["variable"]]
            for key in ("estimate", "se", "ci_low", "ci_high"):
                assert np.isclose(row[key], other[key], rtol=1e-9, atol=0), (sample, key)
            assert row["verdict"] == other["verdict"]
    # Both samples: two lines each, each analysis reading its own export.
    both = runner.invoke(
        args=["report", "--campaign", campaign_id, "--format", "xlsx", "--show-analyze-command"]
    )
    lines = shown_lines(both.output)
    assert [line[1] for line in lines] == ["export-responses", "analyze"] * 2
    assert lines[1][2] == lines[0][-1] and lines[3][2] == lines[2][-1] != lines[0][-1]


def test_api_results_and_responses(app, client, demo_data) -> None:
    from support import make_user

    from surveyapp.services import users

    token = users.create_token(make_user("etl", "analyst"), "etl")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    base = f"/api/v1/campaigns/{demo_data.campaign_id}"
    results = client.get(f"{base}/results", headers=headers).json
    assert results["sample"] == "probability"
    assert {r["code"] for r in results["estimates"] if r["verdict"]} >= set(CODES)
    by = client.get(f"{base}/results?by=district&sample=convenience", headers=headers).json
    assert by["by"] == "district" and any(r["domain"] for r in by["estimates"])
    assert client.get(f"{base}/results?by=planet", headers=headers).status_code == 400
    rows = client.get(f"{base}/responses?sample=probability", headers=headers).json
    paper = db.session.scalar(
        select(func.count())
        .select_from(Response)
        .where(Response.channel == Channel.PAPER, Response.campaign_id == demo_data.campaign_id)
    )
    assert len(rows) == paper and {r["channel"] for r in rows} == {"paper"}
    csv_text = client.get(f"{base}/responses?format=csv", headers=headers).get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("response_id,channel")
    final = campaigns.final_counts()[demo_data.campaign_id]
    assert len(csv_text.splitlines()) == final + 1
    assert client.get(f"{base}/results").status_code == 401


def _export_frame(campaign: Campaign):  # type: ignore[no-untyped-def]
    import pandas as pd

    from surveyapp.services import exports

    return pd.DataFrame(exports.rows(campaign, sample="probability"))


def test_calibrated_report_equals_row_level_analyze_with_the_margins(demo_data) -> None:
    """The report rakes to the imported margins: the same as ``analyze(..., Spec(margins=...))``
    on the export's rows with the stored totals, to 1e-9; and the raked weights meet them."""
    import dataclasses

    from surveyapp.analysis import Spec, analyze
    from surveyapp.services import margins

    campaign = _campaign(demo_data)
    report = reports.build(campaign)
    assert report.design["adjustments"] == ["design_weight", "nonresponse", "raking"]
    assert report.design["weighting"] == (
        "Quyền số thiết kế × điều chỉnh không trả lời (lớp điều chỉnh: thôn, ấp, khu phố) × "
        "hiệu chỉnh lặp (raking) theo biên giới tính × nhóm tuổi, thành thị/nông thôn, huyện"
    )
    stored = tuple((margins.COLUMNS[v], cats) for v, cats in margins.for_analysis(campaign))
    assert [c for c, _ in stored] == ["cal_sex_age", "cal_area", "cal_district"]
    frame = _export_frame(campaign)
    # The demo's draw is PPS: its stages are analysed with replacement, with no fpc.
    design = dict(weight="weight_nr", strata="stratum", cluster=("psu", "ssu"), lonely_psu="adjust")
    if frame["fpc1"].notna().all():
        design["fpc"] = ("fpc1", "fpc2")
    spec = spec_for(campaign, None, "logit")
    by_rows = analyze(frame, dataclasses.replace(spec, margins=stored), **design).estimates
    plain = analyze(frame, spec, **design).estimates
    assert len(by_rows) == len(report.estimates) == 46
    rows = {r["variable"]: r for r in report.estimates}
    moved = 0
    for est, unweighted in zip(by_rows, plain, strict=True):
        row = rows[est.variable]
        for key in ("estimate", "se", "ci_low", "ci_high"):
            assert np.isclose(row[key], getattr(est, key), rtol=1e-9, atol=0), (est.variable, key)
        moved += abs(est.estimate - unweighted.estimate) > 1e-4
    assert moved > 20  # calibration changes the results, it is not a no-op
    frame["one"] = 1.0
    for column, cats in stored:
        counted = analyze(frame, Spec(totals=("one",), by=column, margins=stored), **design)
        got = {e.domain[1]: e.estimate for e in counted.estimates}
        assert got == pytest.approx(dict(cats), rel=1e-8), column
    qr = reports.build(campaign, sample="convenience").design
    assert qr["adjustments"] == ["desk_volume"] and "không phải mẫu xác suất" in qr["weighting"]


def test_a_margin_the_sample_cannot_meet_is_left_out_and_said(runner, demo_data) -> None:
    """Everyone answers 'urban': the rural total has no respondent, so the report rakes to
    the other two margins and says why the third is not used."""
    from sqlalchemy import select, update

    from surveyapp.models import Answer, Question

    campaign = _campaign(demo_data)
    area = db.session.scalar(
        select(Question).where(
            Question.questionnaire_id == campaign.questionnaire_id, Question.code == "area"
        )
    )
    db.session.execute(update(Answer).where(Answer.question_id == area.id).values(value=1))
    db.session.commit()
    report = reports.build(campaign)
    assert report.design["margins"] == ["sex_age", "district"]
    assert "area" in report.design["margins_skipped"]
    assert (
        "Không dùng biên thành thị/nông thôn: không có người trả lời thuộc 2"
        in (report.design["weighting"])
    )
    args = reports.analyze_args(campaign, reports.SAMPLES["probability"])
    assert [a.split(":")[0] for a in args if a.startswith("cal_")] == [
        "cal_sex_age",
        "cal_district",
    ]
    page = runner.invoke(args=["report", "--campaign", str(campaign.id), "--format", "html"]).output
    assert "Không dùng biên thành thị/nông thôn" in page


def _districts() -> int:
    return int(
        db.session.scalar(
            select(func.count()).select_from(Unit).where(Unit.level == UnitLevel.DISTRICT)
        )
        or 0
    )
