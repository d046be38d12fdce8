"""Three samples, never pooled (DESIGN §4): probability, convenience (desk ratings) and invited
(answers to a standalone invitation code, which carry no design)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from support import analyze_args_shown

from surveyapp.extensions import db
from surveyapp.models import Campaign, Channel, Response

NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def _answer_standalone_code(runner, client, campaign_id: int, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """What issue 12 defect 1 did: one code from the CLI, answered at ``/i/<code>``."""
    out = tmp_path / "inv.csv"
    create = ["invitations", "create", "--campaign", str(campaign_id), "--count", "1"]
    made = runner.invoke(args=[*create, "--out", str(out)])
    assert made.exit_code == 0, made.output
    with out.open(encoding="utf-8") as fh:
        code = next(csv.DictReader(fh))["code"]
    url = f"/i/{code}"
    nonce = NONCE.search(client.get(url).get_data(as_text=True))
    assert nonce is not None
    answers = {"nonce": nonce.group(1), **{f"q{i}": "5" for i in range(1, 34)}}
    assert client.post(url, data=answers).status_code == 303
    return code


def test_a_standalone_invitation_is_the_invited_sample_and_breaks_nothing(
    runner, client, login_as, demo_data, tmp_path: Path
) -> None:
    cid = demo_data.current_campaign_id  # invitations are answered in an open campaign
    before = json.loads(runner.invoke(args=["report", "--campaign", str(cid)]).output)
    _answer_standalone_code(runner, client, cid, tmp_path)
    stored = db.session.scalars(select(Response).where(Response.channel == Channel.WEB_INVITE))
    assert [r.stratum for r in stored] == [None]

    client = login_as("analyst")
    for url in (
        f"/dashboard/{cid}",
        f"/dashboard/{cid}/trend",
        f"/dashboard/{cid}/report.xlsx",
        f"/dashboard/{cid}/report.html",
        f"/dashboard/{cid}/report.json",
        f"/api/v1/campaigns/{cid}/results",
        f"/api/v1/campaigns/{cid}/results?by=commune",  # the open campaign is on communes
        f"/api/v1/campaigns/{cid}/trend",
    ):
        assert client.get(url).status_code == 200, url

    # The probability sample is what it was: the answer carries no design.
    result = runner.invoke(args=["report", "--campaign", str(cid)])
    assert result.exit_code == 0, result.output
    after = json.loads(result.output)
    assert after["design"] == before["design"]
    assert after["estimates"] == before["estimates"]

    # The invited sample is reported apart, descriptive only, everywhere.
    invited = client.get(f"/api/v1/campaigns/{cid}/results?sample=invited").json
    assert invited["sample"] == "invited" and invited["design"]["n"] == 1
    assert invited["descriptive"] is True
    assert invited["estimates"] and all(r["verdict"] is None for r in invited["estimates"])
    overall = next(r for r in invited["estimates"] if r["code"] == "overall")
    assert overall["estimate"] == pytest.approx(1.0)  # every answer was 5
    assert client.get(f"/api/v1/campaigns/{cid}/results").json["descriptive"] is False

    page = client.get(f"/dashboard/{cid}").get_data(as_text=True)
    section = page.split('class="sample sample-invited"', 1)[1].split("</section>", 1)[0]
    assert "Mẫu mời trả lời (mã mời độc lập)" in section
    assert "verdict-" not in section

    wb = load_workbook(io.BytesIO(client.get(f"/dashboard/{cid}/report.xlsx").data))
    sheet = next(ws for ws in wb.worksheets if ws.title.startswith("Mẫu mời"))
    header = [c.value for c in sheet[2]]
    assert "Đánh giá" not in header
    html = client.get(f"/dashboard/{cid}/report.html").get_data(as_text=True)
    assert "Mẫu mời trả lời (mã mời độc lập)" in html

    exported = runner.invoke(
        args=["export-responses", "--campaign", str(cid), "--sample", "invited"]
    )
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    assert [r["channel"] for r in rows] == ["web_invite"] and rows[0]["stratum"] == ""
    api_rows = client.get(f"/api/v1/campaigns/{cid}/responses?sample=invited").json
    assert len(api_rows) == 1
    probability = client.get(f"/api/v1/campaigns/{cid}/responses?sample=probability").json
    assert all(r["weight"] is not None for r in probability)

    # The invited report is what `analyze` gives on its export with the printed arguments.
    from click.testing import CliRunner

    from surveyapp.analysis.cli import analyze

    path = tmp_path / "invited.csv"
    export = ["export-responses", "--campaign", str(cid), "--sample", "invited"]
    runner.invoke(args=[*export, "--output", str(path)])
    shown = runner.invoke(
        args=["report", "--campaign", str(cid), "--sample", "invited", "--show-analyze-command"]
    )
    args = analyze_args_shown(shown.output)
    assert "--weight" not in args and "--target" not in args
    out = CliRunner().invoke(analyze, [str(path), *args, "--format", "json"])
    assert out.exit_code == 0, out.output
    by_cli = {r["variable"]: r for r in json.loads(out.output)["estimates"]}
    for row in invited["estimates"]:
        assert row["estimate"] == pytest.approx(by_cli[row["variable"]]["estimate"], rel=1e-9)
        assert by_cli[row["variable"]]["verdict"] is None

    # Any period filter of the page keeps the invited section working, also one that holds
    # no invited answer.
    from datetime import timedelta

    from surveyapp.models.campaigns import CampaignPeriod

    item = db.session.get(Campaign, cid)
    later = item.ends + timedelta(days=1)
    db.session.add(
        CampaignPeriod(campaign=item, name="Sau", starts=later, ends=later + timedelta(days=9))
    )
    db.session.commit()
    for period in item.periods:
        assert client.get(f"/dashboard/{cid}?period={period.id}").status_code == 200

    alone = json.loads(
        runner.invoke(args=["report", "--campaign", str(cid), "--sample", "invited"]).output
    )
    assert alone["design"]["n"] == 1 and alone["descriptive"] is True
    every = runner.invoke(args=["report", "--campaign", str(cid), "--sample", "both"])
    assert every.exit_code == 0, every.output
    assert set(json.loads(every.output)) == {"probability", "convenience", "invited"}
    printed = runner.invoke(args=["report", "--campaign", str(cid), "--format", "html"])
    assert printed.exit_code == 0 and "Mẫu mời trả lời (mã mời độc lập)" in printed.output


def test_desk_ratings_carry_no_verdict_and_say_what_their_intervals_assume(
    login_as, demo_data
) -> None:
    from sqlalchemy import delete

    from surveyapp.models import ServicePoint
    from surveyapp.models.units import TransactionVolume
    from surveyapp.services import reports

    cid = demo_data.campaign_id
    rated = db.session.scalar(
        select(Response.service_point_id)
        .where(Response.channel == Channel.QR, Response.service_point_id.is_not(None))
        .limit(1)
    )
    desk = db.session.get(ServicePoint, rated)
    db.session.execute(delete(TransactionVolume).where(TransactionVolume.service_point_id == rated))
    db.session.commit()

    campaign = db.session.get(Campaign, cid)
    report = reports.build(campaign, sample="convenience", by="desk")
    assert report.estimates and report.descriptive
    assert all(r["verdict"] is None and r["target"] is None for r in report.estimates)
    assert all(r["p_meets_target"] is None for r in report.estimates)
    # The desk without a volume is named, not silently weighted 1.
    assert report.design["desks_without_volume"] == [desk.name]

    client = login_as("analyst")
    page = client.get(f"/dashboard/{cid}").get_data(as_text=True)
    section = page.split('class="sample sample-convenience"', 1)[1].split("</section>", 1)[0]
    assert "verdict-" not in section
    assert "Khoảng tin cậy 95%" not in section and "khoảng tin cậy" not in section.lower()
    assert "chỉ đúng nếu người đánh giá là một mẫu ngẫu nhiên" in section
    assert "Thứ hạng (khoảng, nếu người đánh giá là mẫu ngẫu nhiên)" in section
    assert "Các bộ phận chưa có số giao dịch" in section and desk.name in section
    row = section.rsplit(desk.name, 1)[1].split("</tr>", 1)[0]  # its row of the by-desk table
    assert "chưa có số giao dịch" in row

    wb = load_workbook(io.BytesIO(client.get(f"/dashboard/{cid}/report.xlsx").data))
    sheet = wb["QR – phi xác suất"]
    assert "chưa có số giao dịch" in sheet["A1"].value and desk.name in sheet["A1"].value
    header = [c.value for c in sheet[2]]
    assert "Đánh giá" not in header and "KTC 95% – cận dưới" not in header
    assert any("chỉ đúng nếu người trả lời là mẫu ngẫu nhiên" in str(h) for h in header)


def test_the_sample_of_an_online_answer_follows_its_design(app, demo_data) -> None:
    """A web answer that inherited a drawn form's design is in the probability sample; one
    without a design is invited, whatever the counts of the others."""
    from surveyapp.data import queries
    from surveyapp.services import campaigns, exports

    campaign = db.session.get(Campaign, demo_data.campaign_id)
    qn = campaign.questionnaire
    base = {
        sample: campaigns.final_counts_by_channel(campaign, queries.SAMPLES[sample])
        for sample in queries.SAMPLES
    }
    common = {"campaign": campaign, "questionnaire": qn, "channel": Channel.WEB_INVITE}
    from surveyapp.models import ResponseStatus

    designed = Response(
        **common,
        status=ResponseStatus.FINAL,
        nonce="form-tied",
        stratum="S1",
        psu="P1",
        ssu="H1",
        weight=12.5,
    )
    standalone = Response(**common, status=ResponseStatus.FINAL, nonce="standalone")
    db.session.add_all([designed, standalone])
    db.session.commit()
    now = {
        sample: campaigns.final_counts_by_channel(campaign, queries.SAMPLES[sample])
        for sample in queries.SAMPLES
    }
    assert now["probability"] == base["probability"] + 1
    assert now["invited"] == base["invited"] + 1
    assert now["convenience"] == base["convenience"]
    ids = {
        sample: {r["response_id"] for r in exports.rows(campaign, sample=sample)}
        for sample in ("probability", "invited")
    }
    assert designed.id in ids["probability"] and designed.id not in ids["invited"]
    assert standalone.id in ids["invited"] and standalone.id not in ids["probability"]
