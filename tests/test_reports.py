from __future__ import annotations

import io
import json
import shlex
from pathlib import Path

import numpy as np
from openpyxl import load_workbook

from surveyapp.analysis.cli import analyze
from surveyapp.extensions import db
from surveyapp.models import Campaign
from surveyapp.services import reports

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
    assert payload["design"]["strata"] == 11 and payload["design"]["psu"] == 22


def test_report_equals_analyze_on_the_same_rows(runner, demo_data, tmp_path: Path) -> None:
    """The report's numbers are what `surveyapp analyze` gives with the printed arguments."""
    campaign = _campaign(demo_data)
    frame = reports.frame_for(campaign, reports.SAMPLES["probability"])
    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False)
    shown = runner.invoke(args=["report", "--campaign", str(campaign.id), "--show-analyze-command"])
    args = shlex.split(shown.output.strip())
    assert args[:3] == ["surveyapp", "analyze", "EXPORT.csv"]
    from click.testing import CliRunner

    out = CliRunner().invoke(analyze, [str(path), *args[3:], "--format", "json"])
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
    assert len(report.domains()) == 11
    assert "Thành phố Biên Hòa" in report.domains()
    assert len(report.rows("Thành phố Biên Hòa")) == 46


def test_convenience_sample_is_weighted_to_desk_volume(demo_data) -> None:
    campaign = _campaign(demo_data)
    frame = reports.frame_for(campaign, reports.SAMPLES["convenience"])
    assert set(frame["channel"]) == {"qr", "kiosk"}
    from surveyapp.dashboard import queries

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
    assert [r[0] for r in rows[:13]] == [*CODES, "overall"]
    first = rows[0]
    assert first[1].startswith("Mức độ hài lòng của người dân")
    assert first[3] == 0.8325 and ws["D3"].number_format == "0.00%"
    assert {r[7] for r in rows[:12]} <= {"Đạt", "Không đạt", "Chưa đủ căn cứ"}
    by = wb["Mẫu xác suất theo huyện"]
    assert by["A2"].value == "Đơn vị" and by.max_row == 2 + 11 * 13


def test_html_report_is_self_contained(runner, demo_data) -> None:
    result = runner.invoke(
        args=["report", "--campaign", str(demo_data.campaign_id), "--format", "html"]
    )
    page = result.output
    assert "<style>" in page and "@page { size: A4" in page
    assert "Không đạt" in page or "Đạt" in page
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


def test_report_equals_export_responses_then_analyze(runner, demo_data, tmp_path: Path) -> None:
    """DESIGN's consistency rule: `report` == `export-responses` + `analyze`, to 1e-9."""
    from click.testing import CliRunner

    campaign_id = str(demo_data.campaign_id)
    for sample in ("probability", "convenience"):
        path = tmp_path / f"{sample}.csv"
        exported = runner.invoke(
            args=[
                "export-responses",
                "--campaign",
                campaign_id,
                "--sample",
                sample,
                "--output",
                str(path),
            ]
        )
        assert exported.exit_code == 0, exported.output
        shown = runner.invoke(
            args=["report", "--campaign", campaign_id, "--sample", sample, "--show-analyze-command"]
        )
        args = shlex.split(shown.output.strip())[3:]
        out = CliRunner().invoke(analyze, [str(path), *args, "--format", "json"])
        assert out.exit_code == 0, out.output
        by_cli = {r["variable"]: r for r in json.loads(out.output)["estimates"]}
        report = json.loads(
            runner.invoke(args=["report", "--campaign", campaign_id, "--sample", sample]).output
        )
        assert len(report["estimates"]) == len(by_cli) == 46
        for row in report["estimates"]:
            other = by_cli[row["variable"]]
            for key in ("estimate", "se", "ci_low", "ci_high"):
                assert np.isclose(row[key], other[key], rtol=1e-9, atol=0), (sample, key)
            assert row["verdict"] == other["verdict"]


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
    assert len(rows) == 440 and {r["channel"] for r in rows} == {"paper"}
    csv_text = client.get(f"{base}/responses?format=csv", headers=headers).get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("response_id,channel")
    assert len(csv_text.splitlines()) == demo_data.responses + 1
    assert client.get(f"{base}/results").status_code == 401
