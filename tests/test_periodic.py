"""Periodic reports to the provincial People's Committee (quarter, six months, year).

The demo's probability sample is moved onto fixed dates so the periods do not depend on the
day the tests run: the demo campaign runs 01/01–30/06/2026 with half its responses submitted
in February and half in May (one of them at 01:30 on 1 April, Vietnam time, which is still
31 March in UTC); a second campaign with the same questionnaire runs 01/07–31/12/2026 with
copies of those responses, a third of them made fully satisfied, all submitted in August.
"""

from __future__ import annotations

import dataclasses
import io
import math
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from scipy import stats
from sqlalchemy import insert, select

from surveyapp.analysis import compare_domains
from surveyapp.analysis import targets as targets_analysis
from surveyapp.analysis.differences import PairDifference, independent_difference
from surveyapp.analysis.targets import pairwise_differences
from surveyapp.data.queries import Filters
from surveyapp.extensions import db
from surveyapp.models import Campaign, CampaignChannel
from surveyapp.models.campaigns import CampaignStatus, Channel
from surveyapp.models.official import OfficialIndex, OfficialResult, ResultKind
from surveyapp.models.questionnaires import QuestionType
from surveyapp.models.responses import Answer, Response, ResponseStatus
from surveyapp.services import ServiceError, demo, margins, periodic, reports, targets
from surveyapp.services.reports.cells import row_design
from surveyapp.services.reports.common import spec_for

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
    # The demo's other campaigns of the questionnaire (a year on the old structure) are moved
    # out of 2025–2026: the periods here read only the two campaigns this fixture sets.
    for other in db.session.scalars(
        select(Campaign).where(
            Campaign.questionnaire_id == first.questionnaire_id, Campaign.id != first.id
        )
    ):
        other.starts, other.ends = date(2020, 9, 1), date(2020, 11, 30)
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


def _quarter_rows(first: Campaign) -> dict[str, dict[str, dict]]:
    """Each quarter's rows as the campaign report computes them (the filter is a domain)."""
    bounds = {p: periodic.Period.parse(p).bounds() for p in ("2026-Q1", "2026-Q2")}
    return {
        p: _index_rows(reports.build(first, filters=Filters(submitted_from=s, submitted_before=b)))
        for p, (s, b) in bounds.items()
    }


def test_quarters_cut_from_one_campaign_are_domains_of_its_design(two_campaigns) -> None:
    first, _later, n_paper, q2 = two_campaigns
    assert margins.for_analysis(first)  # the demo's calibration
    report = periodic.build(first, "2026-Q2")
    # The response keyed at 01:30 on 1 April (Vietnam time) belongs to the second quarter.
    assert report.n == len(q2)
    assert report.compared and report.previous_n == n_paper - len(q2)
    assert "01/04/2026" in report.source and "30/06/2026" in report.source
    # The same campaign on both sides: the covariance is in, and the report says so.
    assert any("hiệp phương sai" in note for note in report.notes)
    assert not any("xấp xỉ" in note for note in report.notes)
    rows = _quarter_rows(first)
    joint = periodic.period_differences(
        first, periodic.Period.parse("2026-Q2"), periodic.Period.parse("2026-Q1")
    )
    differs = 0
    for row in report.rows:
        a, b = rows["2026-Q2"][row.code], rows["2026-Q1"][row.code]
        assert row.estimate == a["estimate"] and row.verdict == a["verdict"]
        # The two periods as domains of the one calibrated design: each side's SE is the
        # filtered report's own, and the change is the difference of the two estimates.
        assert joint[row.code].se_a == pytest.approx(a["se"], rel=1e-9)
        assert joint[row.code].se_b == pytest.approx(b["se"], rel=1e-9)
        assert row.change.estimate == pytest.approx(a["estimate"] - b["estimate"], abs=1e-9)
        assert row.change.se == pytest.approx(joint[row.code].pair.se, rel=1e-12)
        _d, se, _low, _high = _independent(a, b)
        differs += abs(row.change.se - se) > 0.01 * se
    # The covariance matters on this design: the exact intervals are not the independent ones.
    assert differs >= len(report.rows) // 2


def test_exact_period_change_equals_the_row_level_domain_covariance(two_campaigns) -> None:
    """Without calibration and with PSUs drawn with replacement, :func:`compare_domains` on the
    response rows gives the exact covariance of two domains (the stage-one formula): the
    period change must match it to 1e-9."""
    first, _later, _n, _q2 = two_campaigns
    for margin in margins.stored(first):
        db.session.delete(margin)
    for response in _probability(first):
        response.fpc1 = response.fpc2 = None
    db.session.commit()
    report = periodic.build(first, "2026-Q2")
    sample = reports.SAMPLES["probability"]
    frame = reports.frame_for(first, sample)
    q1_start, q1_end = periodic.Period.parse("2026-Q1").bounds()
    q2_start, q2_end = periodic.Period.parse("2026-Q2").bounds()
    moments = pd.to_datetime(frame["submitted_at"], utc=True)
    frame["period"] = np.where(
        (moments >= pd.Timestamp(q2_start)) & (moments < pd.Timestamp(q2_end)),
        "Q2",
        np.where((moments >= pd.Timestamp(q1_start)) & (moments < pd.Timestamp(q1_end)), "Q1", "-"),
    )
    spec = dataclasses.replace(spec_for(first, None, "logit", None, sample), by="period")
    rows = _quarter_rows(first)
    differs = 0
    for row in report.rows:
        rows_level = compare_domains(frame, spec, row.code, **row_design(frame, sample))
        i, j = rows_level.labels.index("Q2"), rows_level.labels.index("Q1")
        d = rows_level.estimates[i] - rows_level.estimates[j]
        var = rows_level.cov[i, i] + rows_level.cov[j, j] - 2 * rows_level.cov[i, j]
        q = stats.t.ppf(0.975, rows_level.df)
        se = math.sqrt(var)
        assert row.change.estimate == pytest.approx(d, abs=1e-9)
        assert row.change.se == pytest.approx(se, abs=1e-9)
        assert row.change.ci_low == pytest.approx(d - q * se, abs=1e-9)
        assert row.change.ci_high == pytest.approx(d + q * se, abs=1e-9)
        _d, se_independent, _low, _high = _independent(
            rows["2026-Q2"][row.code], rows["2026-Q1"][row.code]
        )
        differs += abs(se - se_independent) > 0.01 * se_independent
    assert differs >= 1


def test_annual_report_combines_the_two_half_year_campaigns_by_their_days(two_campaigns) -> None:
    first, later, n_paper, _q2 = two_campaigns
    from_first = periodic.build(first, "2026")
    from_later = periodic.build(later, "2026")
    assert from_first.n == from_later.n == 2 * n_paper
    # Both campaigns named on the report with their weights, and the rule stated.
    for report in (from_first, from_later):
        assert first.name in report.source and later.name in report.source
        assert "trọng số" in report.source and report.combined_note
        html = periodic.to_html(report)
        assert report.combined_note in html
    days_first, days_later = 181, 184  # 01/01–30/06 and 01/07–31/12/2026
    a = days_first / (days_first + days_later)
    one, two = _index_rows(reports.build(first)), _index_rows(reports.build(later))
    for row, same in zip(from_first.rows, from_later.rows, strict=True):
        x, y = one[row.code], two[row.code]
        estimate = a * x["estimate"] + (1 - a) * y["estimate"]
        se = math.sqrt(a**2 * x["se"] ** 2 + (1 - a) ** 2 * y["se"] ** 2)
        q = stats.t.ppf(0.975, min(x["df"], y["df"]))
        assert row.estimate == pytest.approx(estimate, abs=1e-12)
        assert row.se == pytest.approx(se, rel=1e-12)
        assert (row.ci_low, row.ci_high) == (
            pytest.approx(estimate - q * se, rel=1e-9),
            pytest.approx(estimate + q * se, rel=1e-9),
        )
        assert row.n == x["n"] + y["n"]
        # Whichever campaign asks, the year is the same.
        assert (same.estimate, same.se) == (pytest.approx(row.estimate), pytest.approx(row.se))
        if row.target is not None:
            assert (row.verdict, row.verdict_reason) == targets_analysis.verdict(
                row.ci_low, row.ci_high, row.target, row.se, row.n, row.estimate
            )
        # Not an inverse-variance mean: the halves count by their share of the year.
        inverse = (x["estimate"] / x["se"] ** 2 + y["estimate"] / y["se"] ** 2) / (
            1 / x["se"] ** 2 + 1 / y["se"] ** 2
        )
        if abs(x["se"] - y["se"]) > 0.05 * x["se"]:
            assert abs(inverse - row.estimate) > 1e-9
    # A half-year report still reads its one campaign.
    assert periodic.build(first, "2026-H1").combined_note is None


def test_a_campaign_in_both_periods_brings_its_covariance_into_a_combined_change(
    two_campaigns,
) -> None:
    """Q2 read from the first campaign's second quarter and a second campaign run in Q2 (half
    each, by days), Q1 from the first campaign alone: the change's variance subtracts the
    first campaign's covariance of its two quarters, weighted ½ · 1."""
    first, later, _n, _q2 = two_campaigns
    later.starts, later.ends = date(2026, 4, 1), date(2026, 6, 30)
    for response in _probability(later):
        response.submitted_at = MAY
    db.session.commit()
    report = periodic.build(first, "2026-Q2")
    assert report.combined_note and report.shared
    assert later.name in report.source and first.name in report.source
    q2, q1 = periodic.Period.parse("2026-Q2"), periodic.Period.parse("2026-Q1")
    joint = periodic.period_differences(first, q2, q1)
    quarters = _quarter_rows(first)
    whole = _index_rows(reports.build(later))
    for row in report.rows:
        x, y, b = quarters["2026-Q2"][row.code], whole[row.code], quarters["2026-Q1"][row.code]
        cov = (
            joint[row.code].se_a ** 2 + joint[row.code].se_b ** 2 - joint[row.code].pair.se ** 2
        ) / 2
        estimate = 0.5 * x["estimate"] + 0.5 * y["estimate"]
        var = 0.25 * x["se"] ** 2 + 0.25 * y["se"] ** 2 + b["se"] ** 2 - 2 * 0.5 * cov
        assert row.estimate == pytest.approx(estimate, abs=1e-12)
        assert row.change.estimate == pytest.approx(estimate - b["estimate"], abs=1e-12)
        assert row.change.se == pytest.approx(math.sqrt(var), rel=1e-9)
        q = stats.t.ppf(0.975, min(x["df"], y["df"], b["df"]))
        assert row.change.ci_low == pytest.approx(row.change.estimate - q * math.sqrt(var))


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
