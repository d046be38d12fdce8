"""Periodic reports to the provincial People's Committee (quarter, six months, year).

The demo's probability sample is moved onto fixed dates so the periods do not depend on the
day the tests run: the demo campaign runs 01/01–30/06/2026 with half its responses submitted
in February and half in May (one of them at 01:30 on 1 April, Vietnam time, which is still
31 March in UTC); a second campaign with the same questionnaire runs 01/07–31/12/2026 with
copies of those responses, a third of them made fully satisfied, all submitted in August.
"""

from __future__ import annotations

import io
import math
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from scipy import stats
from sqlalchemy import insert, select

from surveyapp.analysis.differences import PairDifference, independent_difference
from surveyapp.analysis.targets import pairwise_differences
from surveyapp.data.queries import Filters
from surveyapp.extensions import db
from surveyapp.models import Campaign, CampaignChannel
from surveyapp.models.campaigns import CampaignStatus, Channel
from surveyapp.models.official import OfficialIndex, OfficialResult, ResultKind
from surveyapp.models.questionnaires import QuestionType
from surveyapp.models.responses import Answer, Response, ResponseStatus
from surveyapp.services import ServiceError, demo, periodic, reports, targets

FEBRUARY = datetime(2026, 2, 10, 3, 0, tzinfo=UTC)
MAY = datetime(2026, 5, 12, 3, 0, tzinfo=UTC)
# 01:30 on 1 April in Asia/Ho_Chi_Minh: the second quarter there, the first one in UTC.
APRIL_FIRST_LOCAL = datetime(2026, 3, 31, 18, 30, tzinfo=UTC)
AUGUST = datetime(2026, 8, 20, 3, 0, tzinfo=UTC)


def _probability(campaign: Campaign) -> list[Response]:
    return list(
        db.session.scalars(
            select(Response)
            .where(
                Response.campaign_id == campaign.id,
                Response.status == ResponseStatus.FINAL,
                reports.SAMPLES["probability"].condition(),
            )
            .order_by(Response.id)
        )
    )


@pytest.fixture
def two_campaigns(demo_data):  # type: ignore[no-untyped-def]
    first = db.session.get(Campaign, demo_data.campaign_id)
    first.starts, first.ends = date(2026, 1, 1), date(2026, 6, 30)
    for period in first.periods:
        period.starts, period.ends = first.starts, first.ends
    paper = _probability(first)
    q2 = set()
    for i, response in enumerate(paper):
        response.submitted_at = FEBRUARY if i % 2 == 0 else MAY
        if i % 2:
            q2.add(response.id)
    paper[0].submitted_at = APRIL_FIRST_LOCAL
    q2.add(paper[0].id)
    later = Campaign(
        name="SIPAS 6 tháng cuối năm 2026",
        questionnaire=first.questionnaire,
        status=CampaignStatus.CLOSED,
        starts=date(2026, 7, 1),
        ends=date(2026, 12, 31),
        units=list(first.units),
        channels=[CampaignChannel(channel=c) for c in Channel],
    )
    db.session.add(later)
    db.session.flush()
    targets.import_targets_file(later, demo.TARGETS_FILE)
    likert = {q.id for q in first.questionnaire.questions if q.type == QuestionType.LIKERT5}
    answers: dict[int, list[tuple[int, int | None]]] = {}
    for rid, qid, value in db.session.execute(
        select(Answer.response_id, Answer.question_id, Answer.value).where(
            Answer.response_id.in_([r.id for r in paper])
        )
    ):
        answers.setdefault(rid, []).append((qid, value))
    for i, old in enumerate(paper):
        new = Response(
            campaign_id=later.id,
            questionnaire_id=old.questionnaire_id,
            channel=old.channel,
            status=old.status,
            nonce=f"later-{old.nonce}",
            unit_id=old.unit_id,
            stratum=old.stratum,
            psu=old.psu,
            ssu=old.ssu,
            weight=old.weight,
            fpc1=old.fpc1,
            fpc2=old.fpc2,
            submitted_at=AUGUST,
        )
        db.session.add(new)
        db.session.flush()
        values = [
            {
                "response_id": new.id,
                "question_id": qid,
                "value": 5 if (i % 3 == 0 and qid in likert and value is not None) else value,
            }
            for qid, value in answers.get(old.id, [])
        ]
        if values:
            db.session.execute(insert(Answer), values)
    db.session.commit()
    return first, later, len(paper), q2


def _independent(a: dict, b: dict, level: float = 0.95) -> tuple[float, float, float, float]:
    """The change and its interval computed here from the two rows alone."""
    d = a["estimate"] - b["estimate"]
    se = math.sqrt(a["se"] ** 2 + b["se"] ** 2)
    q = stats.t.ppf(0.5 + level / 2, min(a["df"], b["df"]))
    return d, se, d - q * se, d + q * se


def _index_rows(report: reports.Report) -> dict[str, dict]:
    return {r["code"]: r for r in report.rows() if r["level"] != "item"}


def test_periods_parse_and_chain(app) -> None:
    q1 = periodic.Period.parse("2026-q1")
    assert (q1.kind, q1.code, q1.starts, q1.ends) == (
        "quarter",
        "2026-Q1",
        date(2026, 1, 1),
        date(2026, 3, 31),
    )
    assert (
        q1.previous().code == "2025-Q4"
        and periodic.Period.parse("2026-Q3").previous().code == "2026-Q2"
    )
    h2 = periodic.Period.parse("2026-H2")
    assert (h2.starts, h2.ends, h2.previous().code) == (
        date(2026, 7, 1),
        date(2026, 12, 31),
        "2026-H1",
    )
    assert periodic.Period.parse("2026-H1").previous().code == "2025-H2"
    year = periodic.Period.parse(" 2026 ")
    assert (year.kind, year.starts, year.ends, year.previous().code) == (
        "year",
        date(2026, 1, 1),
        date(2026, 12, 31),
        "2025",
    )
    assert periodic.Period.parse("2024-Q1").ends == date(2024, 3, 31)
    assert periodic.Period.containing(date(2026, 8, 31), "quarter").code == "2026-Q3"
    assert periodic.Period.containing(date(2026, 6, 30), "half").code == "2026-H1"
    assert periodic.Period.containing(date(2026, 7, 1), "half").code == "2026-H2"
    start, before = q1.bounds()
    # Days are read in Vietnam time (UTC+7).
    assert start == datetime(2025, 12, 31, 17, 0, tzinfo=UTC)
    assert before == datetime(2026, 3, 31, 17, 0, tzinfo=UTC)
    assert q1.title() == "quý I năm 2026"
    assert periodic.Period.parse("2026-H1").title() == "6 tháng đầu năm 2026"
    for bad in ("2026-Q5", "2026-H3", "26-Q1", "quý 1", "", "1999"):
        with pytest.raises(ServiceError, match="Kỳ báo cáo"):
            periodic.Period.parse(bad)


def test_independent_difference_is_the_t_interval_on_the_smaller_df() -> None:
    diff = independent_difference("b", "a", 0.82, 0.012, 40, 0.78, 0.015, 25, 0.95)
    se = math.sqrt(0.012**2 + 0.015**2)
    q = stats.t.ppf(0.975, 25)
    assert diff.estimate == pytest.approx(0.04)
    assert diff.se == pytest.approx(se)
    assert (diff.ci_low, diff.ci_high) == (
        pytest.approx(0.04 - q * se),
        pytest.approx(0.04 + q * se),
    )
    assert diff.p_value == pytest.approx(2 * stats.t.sf(0.04 / se, 25))
    assert diff.differ and diff.to_dict()["differ"] is True
    back = diff.reversed()
    assert (back.a, back.estimate, back.ci_low) == (
        "a",
        pytest.approx(-0.04),
        pytest.approx(-diff.ci_high),
    )
    # No df (one PSU per stratum) or no estimate: no interval, never a made-up one.
    for args in ((0.8, 0.01, 0, 0.7, 0.01, 30), (None, None, None, 0.7, 0.01, 30)):
        empty = independent_difference("x", "y", *args)
        assert empty.estimate is None and empty.ci_low is None and not empty.differ


def test_one_pair_difference_type_for_domains_and_periods() -> None:
    import numpy as np

    pw = pairwise_differences([0.8, 0.7], np.diag([0.0001, 0.0001]), 30, labels=["A", "B"])
    assert isinstance(pw.pairs[0], PairDifference)
    assert pw.get("B", "A").estimate == pytest.approx(-0.1)


def test_half_year_reports_compare_two_campaigns_as_independent_samples(two_campaigns) -> None:
    first, later, n_paper, _q2 = two_campaigns
    report = periodic.build(later, "2026-H2")
    assert not report.empty and report.compared and report.n == n_paper
    # Both campaigns lie inside their half: each is its own whole report.
    now = _index_rows(reports.build(later))
    before = _index_rows(reports.build(first))
    assert [r.code for r in report.rows] == list(now)
    assert first.name in (report.previous_source or "") and report.notes == []
    changed = 0
    for row in report.rows:
        a, b = now[row.code], before[row.code]
        # Section I is the campaign report's own estimate, target and verdict.
        assert (row.estimate, row.ci_low, row.ci_high, row.target, row.verdict) == (
            a["estimate"],
            a["ci_low"],
            a["ci_high"],
            a["target"],
            a["verdict"],
        )
        d, se, low, high = _independent(a, b)
        assert row.change is not None
        assert row.change.estimate == pytest.approx(d, abs=1e-12)
        assert row.change.se == pytest.approx(se, rel=1e-12)
        assert row.change.ci_low == pytest.approx(low, rel=1e-9)
        assert row.change.ci_high == pytest.approx(high, rel=1e-9)
        assert row.previous == b["estimate"]
        changed += row.direction == "up"
    # A third of the answers made fully satisfied: the overall index rose beyond its CI.
    overall = next(r for r in report.rows if r.level == "overall")
    assert overall.change.estimate > 0 and overall.direction == "up" and changed >= 1


def test_quarters_cut_from_one_campaign_are_domains_of_its_design(two_campaigns) -> None:
    first, _later, n_paper, q2 = two_campaigns
    report = periodic.build(first, "2026-Q2")
    # The response keyed at 01:30 on 1 April (Vietnam time) belongs to the second quarter.
    assert report.n == len(q2)
    assert report.compared and report.previous_n == n_paper - len(q2)
    assert "01/04/2026" in report.source and "30/06/2026" in report.source
    # The same campaign on both sides: said to be approximate.
    assert any("xấp xỉ" in note for note in report.notes)
    bounds = {p: periodic.Period.parse(p).bounds() for p in ("2026-Q1", "2026-Q2")}
    rows = {
        p: _index_rows(reports.build(first, filters=Filters(submitted_from=s, submitted_before=b)))
        for p, (s, b) in bounds.items()
    }
    for row in report.rows:
        a, b = rows["2026-Q2"][row.code], rows["2026-Q1"][row.code]
        assert row.estimate == a["estimate"] and row.verdict == a["verdict"]
        d, se, low, high = _independent(a, b)
        assert row.change.estimate == pytest.approx(d, abs=1e-12)
        assert row.change.se == pytest.approx(se, rel=1e-12)
        assert row.change.ci_low == pytest.approx(low, rel=1e-9)
        assert row.change.ci_high == pytest.approx(high, rel=1e-9)


def test_no_previous_period_and_empty_period_are_said_not_failed(two_campaigns, runner) -> None:
    first, later, _n, _q2 = two_campaigns
    alone = periodic.build(first, "2026-H1")
    assert not alone.empty and not alone.compared
    assert all(r.change is None for r in alone.rows)
    html = periodic.to_html(alone)
    assert "Chưa có kỳ trước để so sánh" in html
    assert "BÁO CÁO" in html and "6 tháng đầu năm 2026" in html
    assert "Kính gửi: Ủy ban nhân dân tỉnh Đồng Nai." in html
    assert "I. KẾT QUẢ" in html and "II. " in html and "III. " in html

    empty = periodic.build(later, "2026-Q4")
    assert empty.empty and empty.n == 0 and not empty.compared
    assert "chưa có phiếu" in periodic.to_html(empty)
    book = load_workbook(io.BytesIO(periodic.to_xlsx(empty)))
    assert any("chưa có phiếu" in str(c.value) for row in book.active.iter_rows() for c in row)

    with pytest.raises(ServiceError, match="không diễn ra trong quý III năm 2026"):
        periodic.build(first, "2026-Q3")


def test_xlsx_holds_the_same_numbers_and_the_registry(two_campaigns) -> None:
    _first, later, _n, _q2 = two_campaigns
    db.session.add_all(
        [
            OfficialResult(
                index_code=OfficialIndex.SIPAS,
                kind=ResultKind.PUBLISHED,
                year=year,
                province_code="75",
                province_name="Tỉnh Đồng Nai",
                node="total",
                node_name="Chỉ số SIPAS",
                score=score,
                rank=rank,
                rank_of=of,
                source="thử nghiệm",
            )
            for year, score, rank, of in ((2024, 81.5, 30, 63), (2025, 83.25, 12, 34))
        ]
    )
    db.session.commit()
    report = periodic.build(later, "2026-H2")
    sipas = [r for r in report.official if r.index_code == OfficialIndex.SIPAS]
    # The latest two published years per index; criteria (1.1 …) left out.
    assert {r.year for r in sipas} == {2024, 2025}
    assert {r.year for r in report.official if r.index_code == OfficialIndex.PCI} == {2023}
    assert all("." not in r.node for r in report.official)
    html = periodic.to_html(report)
    assert "12/34" in html and "30/63" in html and "không so sánh trực tiếp" in html

    book = load_workbook(io.BytesIO(periodic.to_xlsx(report)))
    estimates, published = book.worksheets
    headers, rows = periodic.estimate_sheet(report)
    table = [[c.value for c in row] for row in estimates.iter_rows()]
    start = next(i for i, r in enumerate(table) if r[: len(headers)] == headers)
    body = table[start + 1 :]
    assert len(body) == len(report.rows) == len(rows)
    for written, built in zip(body, rows, strict=True):
        # What the sheet holds is what estimate_sheet built ("" is an empty cell).
        for cell, value in zip(written, built, strict=False):
            if isinstance(value, float):
                assert cell == pytest.approx(value, rel=1e-12)
            else:
                assert cell == (None if value == "" else value)
    judged = [(x, r) for x, r in zip(report.rows, body, strict=True) if x.target is not None]
    assert judged
    for x, r in judged:
        assert r[1] == x.name and r[3] == pytest.approx(x.estimate)
        assert r[6] == pytest.approx(x.target) and r[10] == pytest.approx(100 * x.change.estimate)
        assert r[7] == {"met": "Đạt", "not_met": "Không đạt"}.get(x.verdict, "Chưa đủ căn cứ")
    registry = [[c.value for c in row] for row in published.iter_rows()]
    official_headers, _rows = periodic.official_sheet(report)
    assert ["SIPAS", 2025, "Chỉ số chung", "Chỉ số SIPAS", 83.25] in [r[:5] for r in registry]
    assert registry[1] == official_headers
    assert len(registry) == 2 + len(report.official)


def test_dashboard_page_downloads_and_errors(two_campaigns, login_as, client) -> None:
    first, later, _n, _q2 = two_campaigns
    assert client.get(f"/dashboard/{later.id}/periodic").status_code in (302, 401, 403)
    analyst = login_as("analyst")
    campaign_page = analyst.get(f"/dashboard/{later.id}").get_data(as_text=True)
    assert f"/dashboard/{later.id}/periodic" in campaign_page
    form = analyst.get(f"/dashboard/{later.id}/periodic?kind=half").get_data(as_text=True)
    assert 'value="2026-H2"' in form and "6 tháng cuối năm 2026" in form
    # Changing the kind in the form keeps the time: the third quarter's half is the second.
    switched = analyst.get(f"/dashboard/{later.id}/periodic?kind=half&period=2026-Q3")
    assert switched.status_code == 200
    assert '<option value="2026-H2" selected>' in switched.get_data(as_text=True)
    page = analyst.get(f"/dashboard/{later.id}/periodic?period=2026-H2")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "BÁO CÁO" in text and "II. BIẾN ĐỘNG SO VỚI KỲ TRƯỚC" in text
    empty = analyst.get(f"/dashboard/{later.id}/periodic?period=2026-Q4")
    assert empty.status_code == 200 and "chưa có phiếu" in empty.get_data(as_text=True)
    bad = analyst.get(f"/dashboard/{later.id}/periodic?period=2026-Q9")
    assert bad.status_code == 400 and "Kỳ báo cáo" in bad.get_data(as_text=True)
    outside = analyst.get(f"/dashboard/{first.id}/periodic?period=2027")
    assert outside.status_code == 400 and "không diễn ra" in outside.get_data(as_text=True)
    xlsx = analyst.get(f"/dashboard/{later.id}/periodic.xlsx?period=2026-H2")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    html = analyst.get(f"/dashboard/{later.id}/periodic.html?period=2026-H2")
    assert html.status_code == 200 and "<style>" in html.get_data(as_text=True)
    assert analyst.get(f"/dashboard/{later.id}/periodic.html?period=x").status_code == 400
    assert analyst.get(f"/dashboard/{later.id}/periodic.pdf?period=2026").status_code == 404


def test_cli_writes_the_report_and_refuses_a_bad_period(two_campaigns, runner, tmp_path) -> None:
    _first, later, _n, _q2 = two_campaigns
    out = tmp_path / "q.html"
    result = runner.invoke(
        args=[
            "periodic-report",
            "--campaign",
            str(later.id),
            "--period",
            "2026-H2",
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "6 tháng cuối năm 2026" in out.read_text()
    book = tmp_path / "q.xlsx"
    result = runner.invoke(
        args=[
            "periodic-report",
            "--campaign",
            str(later.id),
            "--period",
            "2026-H2",
            "--format",
            "xlsx",
            "--output",
            str(book),
        ]
    )
    assert result.exit_code == 0 and load_workbook(book).worksheets[0].max_row > 5
    english = tmp_path / "en.html"
    result = runner.invoke(
        args=[
            "periodic-report",
            "--campaign",
            str(later.id),
            "--period",
            "2026-H2",
            "--lang",
            "en",
            "--output",
            str(english),
        ]
    )
    assert result.exit_code == 0, result.output
    text = english.read_text()
    # Words, numbers and dates all in English (79.21%, Jul 1, 2026), not Vietnamese ones.
    assert "the last six months of 2026" in text and "CHANGE FROM THE PREVIOUS PERIOD" in text
    assert "Jul 1, 2026" in text and "\u00a0%" not in text and "%</td>" in text
    bad = runner.invoke(
        args=["periodic-report", "--campaign", str(later.id), "--period", "2026-Q0"]
    )
    assert bad.exit_code != 0 and "Kỳ báo cáo" in bad.output
