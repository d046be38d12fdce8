"""Dashboard filters (channel, period, unit) are domains of the full design, not subsets."""

from __future__ import annotations

import dataclasses

import numpy as np
from sqlalchemy import func, select

from surveyapp.data import queries
from surveyapp.data.queries import Filters
from surveyapp.extensions import db
from surveyapp.models import Campaign
from surveyapp.models.campaigns import Channel
from surveyapp.models.responses import Response
from surveyapp.models.units import Unit, UnitLevel
from surveyapp.services import reports
from surveyapp.services.reports.common import spec_for


def _campaign(demo_data) -> Campaign:
    return db.session.get(Campaign, demo_data.campaign_id)


def _district(name: str) -> Unit:
    return db.session.scalars(
        select(Unit).where(Unit.level == UnitLevel.DISTRICT, Unit.name == name)
    ).one()


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return bool(np.isclose(a, b, rtol=1e-9, atol=1e-12))


def test_a_channel_filter_gives_that_channels_domain_on_the_full_design(demo_data) -> None:
    campaign = _campaign(demo_data)
    by_channel = reports.build(campaign, sample="convenience", by="channel")
    filtered = reports.build(campaign, sample="convenience", filters=Filters(channel=Channel.KIOSK))
    assert filtered.design["filters"]["channel"] == "kiosk"
    domain = {r["variable"]: r for r in by_channel.rows("kiosk")}
    assert len(filtered.rows()) == len(domain) == 46
    for row in filtered.rows():
        other = domain[row["variable"]]
        for key in ("estimate", "se", "ci_low", "ci_high"):
            assert _close(row[key], other[key]), (row["variable"], key)
        assert row["n"] == other["n"]
    # The design is still the whole convenience sample's: the QR ratings stay in it.
    assert filtered.design["n"] == by_channel.design["n"]


def test_a_unit_filter_keeps_the_units_subtree(demo_data) -> None:
    campaign = _campaign(demo_data)
    district = _district("Thành phố Biên Hòa")
    subtree = queries.unit_subtree(district.id)
    assert district.id in subtree and len(subtree) > 1
    filtered = reports.build(campaign, filters=Filters(unit_ids=subtree))
    by_district = reports.build(campaign, by="district")
    domain = {r["variable"]: r for r in by_district.rows("Thành phố Biên Hòa")}
    for row in filtered.rows():
        assert _close(row["estimate"], domain[row["variable"]]["estimate"])
        assert _close(row["se"], domain[row["variable"]]["se"])


def test_filtered_breakdown_shows_only_levels_inside_the_filter(demo_data) -> None:
    campaign = _campaign(demo_data)
    subtree = queries.unit_subtree(_district("Thành phố Biên Hòa").id)
    report = reports.build(campaign, by="district", filters=Filters(unit_ids=subtree))
    assert report.domains() == ["Thành phố Biên Hòa"]
    assert queries.OUTSIDE not in {str(d) for d in report.domains()}
    whole = {r["variable"]: r["estimate"] for r in report.rows()}
    inside = {r["variable"]: r["estimate"] for r in report.rows("Thành phố Biên Hòa")}
    assert whole.keys() == inside.keys()
    assert all(_close(whole[k], inside[k]) for k in whole)


def test_filtered_cells_equal_filtered_rows(demo_data) -> None:
    campaign = _campaign(demo_data)
    period = campaign.periods[0]
    subtree = queries.unit_subtree(_district("Huyện Trảng Bom").id)
    cases = [
        ("probability", Filters(channel=Channel.PAPER, period_id=period.id)),
        ("probability", Filters(unit_ids=subtree)),
        ("convenience", Filters(channel=Channel.QR, unit_ids=subtree)),
    ]
    for key, filters in cases:
        sample = reports.SAMPLES[key]
        frame = reports.frame_for(campaign, sample, filters)
        for by in (None, "district"):
            rows = reports.run(campaign, frame, sample, by, filters=filters).estimates
            cells = reports.run_cells(campaign, sample, by, filters=filters).estimates
            assert len(rows) == len(cells)
            for a, b in zip(rows, cells, strict=True):
                assert (a.variable, a.domain) == (b.variable, b.domain)
                assert _close(a.estimate, b.estimate) and _close(a.se, b.se), (key, by)


def test_a_period_without_responses_gives_empty_estimates_not_an_error(demo_data) -> None:
    campaign = _campaign(demo_data)
    report = reports.build(campaign, filters=Filters(period_id=-1))
    assert all(r["n"] == 0 for r in report.rows())


def test_dashboard_filter_form_narrows_the_tables(login_as, demo_data) -> None:
    client = login_as("analyst")
    campaign = _campaign(demo_data)
    district = _district("Thành phố Biên Hòa")
    page = client.get(f"/dashboard/{campaign.id}?unit={district.id}").get_data(as_text=True)
    assert 'name="unit"' in page and 'name="channel"' in page and 'name="period"' in page
    assert "Thành phố Biên Hòa" in page
    assert "Huyện Trảng Bom</td>" not in page  # other districts' rows are gone
    everything = client.get(f"/dashboard/{campaign.id}").get_data(as_text=True)
    assert "Huyện Trảng Bom</td>" in everything or "Huyện Trảng Bom <span" in everything
    only_qr = client.get(f"/dashboard/{campaign.id}?channel=qr").get_data(as_text=True)
    assert "sample-probability" not in only_qr and "sample-convenience" in only_qr


def test_dashboard_refuses_unknown_filter_values(login_as, demo_data) -> None:
    client = login_as("analyst")
    campaign = _campaign(demo_data)
    for query in ("channel=fax", "period=abc", "unit=999999", "period=999999"):
        response = client.get(f"/dashboard/{campaign.id}?{query}")
        assert response.status_code == 400, query
        assert "Bộ lọc" in response.get_data(as_text=True)


def test_districts_are_ranked_with_rank_intervals(demo_data) -> None:
    campaign = _campaign(demo_data)
    report = reports.build(campaign, by="district")
    ranking = reports.rank_intervals(campaign, report)
    ranks = ranking.ranks
    districts = db.session.scalar(
        select(func.count()).select_from(Unit).where(Unit.level == UnitLevel.DISTRICT)
    )
    assert ranking.exact and len(ranks) == districts
    overall = {d: report.rows(d)[0] for d in report.domains()}
    best = max(
        overall, key=lambda d: next(r for r in report.rows(d) if r["code"] == "overall")["estimate"]
    )
    assert ranks[best]["rank"] == 1
    assert sorted(r["rank"] for r in ranks.values()) == list(range(1, districts + 1))
    for rank in ranks.values():
        assert 1 <= rank["low"] <= rank["rank"] <= rank["high"] <= districts
    # 40 respondents per district cannot order the districts exactly.
    assert any(r["high"] - r["low"] >= 2 for r in ranks.values())


def test_ranks_across_channels_use_the_domain_covariance(demo_data) -> None:
    """QR and kiosk ratings share desks (strata), so their estimates are correlated: the
    ranking's covariance, from the desks' tallies alone, is the one the ratings' rows give."""
    from surveyapp.analysis import compare_domains
    from surveyapp.services.reports.cells import row_design

    campaign = _campaign(demo_data)
    report = reports.build(campaign, sample="convenience", by="channel")
    assert not queries.domains_nest_in_strata(
        campaign, reports.CONVENIENCE, Response.service_point_id, "channel"
    )
    ranking = reports.rank_intervals(campaign, report)
    assert ranking.exact and set(ranking.ranks) == {"qr", "kiosk"}
    assert sorted(r["rank"] for r in ranking.ranks.values()) == [1, 2]
    sample = reports.CONVENIENCE
    subtree = queries.unit_subtree(_district("Huyện Trảng Bom").id)
    for filters in (None, Filters(unit_ids=subtree)):
        joint = reports.joint_covariance(campaign, "convenience", "channel", filters=filters)
        frame = reports.frame_for(campaign, sample, filters)
        spec = spec_for(campaign, "channel", "logit", filters, sample)
        rows = compare_domains(frame, spec, "overall", **row_design(frame, sample))
        where = [rows.labels.index(label) for label in joint.labels]
        assert np.allclose(joint.cov, rows.cov[np.ix_(where, where)], rtol=1e-9, atol=0), (
            joint.cov,
            rows.cov,
        )
        assert abs(joint.cov[0, 1]) > 0


def test_every_ranking_of_many_calibrated_levels_is_exact(demo_data) -> None:
    """This year's 95 communes of the probability sample share the calibration margins: their
    ranking takes the joint covariance, however many they are, and it is the one the rows
    give."""
    from surveyapp.analysis import compare_domains
    from surveyapp.services.reports.cells import row_design

    campaign = db.session.get(Campaign, demo_data.current_campaign_id)
    sample = reports.PROBABILITY
    report = reports.build(campaign, by="commune")
    assert report.design["margins"]
    ranking = reports.rank_intervals(campaign, report)
    assert ranking.exact and len(ranking.ranks) == 95
    joint = reports.joint_covariance(campaign, "probability", "commune")
    frame = reports.frame_for(campaign, sample)
    spec = dataclasses.replace(
        spec_for(campaign, "commune", "logit", None, sample),
        margins=reports.weighting_for(campaign, sample).margins,
    )
    rows = compare_domains(frame, spec, "overall", **row_design(frame, sample))
    assert list(rows.labels) == list(joint.labels)
    scale = np.sqrt(np.outer(np.diag(rows.cov), np.diag(rows.cov)))
    assert np.all(np.abs(joint.cov - rows.cov) <= 1e-9 * scale)
    off = ~np.eye(len(joint.labels), dtype=bool)
    assert np.max(np.abs(joint.cov[off]) / scale[off]) > 1e-3


def test_dashboard_shows_ranks_and_response_rates(login_as, demo_data) -> None:
    from surveyapp import formatting
    from surveyapp.services import batches, entry

    client = login_as("analyst")
    campaign = _campaign(demo_data)
    page = client.get(f"/dashboard/{campaign.id}").get_data(as_text=True)
    assert "Xếp hạng (khoảng 95%)" in page and 'class="num rank">1 (' in page
    assert "Tỷ lệ trả lời của mẫu phiếu giấy theo huyện" in page
    summary = batches.response_rate_summary(campaign)
    total = summary["total"]
    # Issue 12 defect 15: the demo's paper responses are its forms' final responses, so each
    # district's rate is theirs (not 0 % beside responses "without a form").
    assert summary["without_form"] == 0 and "không khớp" not in page
    paper = db.session.scalar(
        select(func.count())
        .select_from(Response)
        .where(Response.channel == Channel.PAPER, Response.campaign_id == campaign.id)
    )
    assert total["responded"] == paper
    for row in summary["rows"]:
        assert row["rate"] > 0
        assert formatting.share(row["rate"], lang="vi") in page
    districts = db.session.scalar(
        select(func.count()).select_from(Unit).where(Unit.level == UnitLevel.DISTRICT)
    )
    assert len(summary["rows"]) == districts
    assert total["selected"] == sum(r["selected"] for r in summary["rows"])
    assert total["responded"] + total["refused"] + total["not_at_home"] <= total["selected"]
    # Fates recorded by the supervisor move the numbers and the total rate (forms are still
    # out in this year's campaign, whose fieldwork is under way).
    from surveyapp.models.sampling import Form, FormFate

    campaign = db.session.get_one(Campaign, demo_data.current_campaign_id)
    total = batches.response_rate_summary(campaign)["total"]
    out = db.session.scalars(
        select(Form)
        .where(
            Form.reserve.is_(False),
            Form.fate == FormFate.HANDED_OUT,
            Form.campaign_id == campaign.id,
        )
        .order_by(Form.serial)
    ).all()
    out = [f for f in out if entry.state(f) == entry.EntryState.OPEN][:3]
    batches.set_fate(out[0], FormFate.RETURNED)
    batches.set_fate(out[1], FormFate.REFUSED)
    batches.set_fate(out[2], FormFate.NOT_AT_HOME)
    summary = batches.response_rate_summary(campaign)
    after = summary["total"]
    assert after["responded"] == total["responded"] + 1
    assert after["refused"] == total["refused"] + 1
    assert after["not_at_home"] == total["not_at_home"] + 1
    assert after["rate"] == after["responded"] / after["selected"] > total["rate"]


def _copy_campaign(campaign: Campaign, name: str, shift_days: int) -> Campaign:
    """A later campaign with the same questionnaire, margins and a copy of the paper
    responses."""
    from datetime import timedelta

    from sqlalchemy import insert

    from surveyapp.models.campaigns import CampaignChannel
    from surveyapp.models.responses import Answer, Response

    later = Campaign(
        name=name,
        questionnaire_id=campaign.questionnaire_id,
        status=campaign.status,
        starts=campaign.starts + timedelta(days=shift_days),
        ends=campaign.ends + timedelta(days=shift_days),
        channels=[CampaignChannel(channel=Channel.PAPER)],
    )
    db.session.add(later)
    db.session.flush()
    from surveyapp.models.margins import PopulationMargin

    for margin in db.session.scalars(
        select(PopulationMargin).where(PopulationMargin.campaign_id == campaign.id)
    ):
        db.session.add(
            PopulationMargin(
                campaign_id=later.id,
                variable=margin.variable,
                category=margin.category,
                population=margin.population,
                source=margin.source,
            )
        )
    paper = db.session.scalars(
        select(Response).where(
            Response.campaign_id == campaign.id, Response.channel == Channel.PAPER
        )
    ).all()
    # The copies have no forms (so no non-response factor): they carry the originals'
    # non-response adjusted weights, so that both campaigns weight the same answers alike.
    from surveyapp.models.sampling import Form

    factors = queries.nonresponse_factors(campaign)
    village = {
        f.serial: f.household.village.code
        for f in db.session.scalars(select(Form).where(Form.campaign_id == campaign.id))
    }
    for old in paper:
        new = Response(
            campaign_id=later.id,
            questionnaire_id=old.questionnaire_id,
            channel=old.channel,
            status=old.status,
            nonce=f"copy-{old.nonce}",
            unit_id=old.unit_id,
            stratum=old.stratum,
            psu=old.psu,
            ssu=old.ssu,
            weight=old.weight * factors.get(village.get(old.serial or ""), 1.0),
            fpc1=old.fpc1,
            fpc2=old.fpc2,
        )
        db.session.add(new)
        db.session.flush()
        values = [
            {"response_id": new.id, "question_id": a.question_id, "value": a.value}
            for a in old.answers
        ]
        if values:
            db.session.execute(insert(Answer), values)
    db.session.commit()
    return later


def test_trend_compares_campaigns_of_one_questionnaire(login_as, demo_data) -> None:
    campaign = _campaign(demo_data)
    first = reports.trend(campaign)
    assert [c["id"] for c in first.campaigns] == [campaign.id]
    assert all(r["change"] is None for r in first.rows)
    overall = next(r for r in first.rows if r["code"] == "overall")
    assert overall["points"][0]["estimate"] > 0.5
    field1 = next(r for r in first.rows if r["code"] == "1")
    assert field1["previous"] == 0.8023
    versus = field1["versus_previous"]
    assert _close(versus["estimate"], field1["points"][0]["estimate"] - 0.8023)
    assert _close(
        versus["ci_high"] - versus["ci_low"],
        field1["points"][0]["ci_high"] - field1["points"][0]["ci_low"],
    )

    later = _copy_campaign(campaign, "SIPAS 2026", 365)
    result = reports.trend(later)
    assert [c["id"] for c in result.campaigns] == [campaign.id, later.id]
    assert [r["code"] for r in result.rows][:2] == ["1", "1.1"]
    for row in result.rows:
        a, b = row["points"]
        # The same answers give the same estimate; the change is 0 with a CI around it
        # whose half-width is √2 times a campaign's own standard error times t.
        assert _close(a["estimate"], b["estimate"]) and _close(a["se"], b["se"])
        change = row["change"]
        assert abs(change["estimate"]) < 1e-12 and change["direction"] == "same"
        assert _close(change["se"], a["se"] * np.sqrt(2))
        assert change["ci_low"] < 0 < change["ci_high"]
    # Only campaigns that started no later than the one asked about are shown.
    assert [c["id"] for c in reports.trend(campaign).campaigns] == [campaign.id]

    client = login_as("analyst")
    page = client.get(f"/dashboard/{later.id}/trend").get_data(as_text=True)
    assert "SIPAS 2026" in page and campaign.name in page
    assert "<svg" in page and "<desc" in page and "Chưa thay đổi rõ" in page
    assert client.get("/dashboard/99999/trend").status_code == 404


def test_dashboard_breaks_down_by_channel(login_as, demo_data) -> None:
    client = login_as("analyst")
    campaign = _campaign(demo_data)
    page = client.get(f"/dashboard/{campaign.id}?by=channel").get_data(as_text=True)
    assert "Chỉ số chung theo kênh" in page
    assert "<tr><td>Mã QR" in page and "<tr><td>Máy tính bảng tại quầy" in page
    assert client.get(f"/dashboard/{campaign.id}?by=desk").status_code == 400


def test_api_gives_the_trend(client, demo_data) -> None:
    from support import make_user

    from surveyapp.services import users

    user = make_user("etl", "analyst")
    token = users.create_token(user, "etl")
    db.session.commit()
    campaign = _campaign(demo_data)
    reply = client.get(
        f"/api/v1/campaigns/{campaign.id}/trend", headers={"Authorization": f"Bearer {token}"}
    )
    assert reply.status_code == 200
    body = reply.get_json()
    assert [c["id"] for c in body["campaigns"]] == [campaign.id]
    assert body == reports.trend(campaign).to_dict()
    assert client.get(f"/api/v1/campaigns/{campaign.id}/trend").status_code == 401
