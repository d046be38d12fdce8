from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from flask import current_app
from sqlalchemy import func, select
from support import make_config

from surveyapp import create_app
from surveyapp.data import queries
from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    AuditLog,
    Base,
    Campaign,
    Channel,
    Form,
    FormFate,
    Response,
    ServicePoint,
    Unit,
    UnitLevel,
)
from surveyapp.services import batches, demo, entry, exports


def test_demo_loads_once_and_prints_how_to_log_in(runner) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "admin" in result.output and demo.DEMO_PASSWORD in result.output
    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(Unit).where(Unit.code == "75")) == 1
    refused = runner.invoke(args=["demo"])
    assert refused.exit_code != 0


def test_demo_units_desks_and_design(demo_data) -> None:
    """Issue 13 §2: today's Đồng Nai (95 commune-level units under the province, official
    codes) beside the old structure (districts, historical), and a paper design on each."""
    districts = db.session.scalars(select(Unit).where(Unit.level == UnitLevel.DISTRICT)).all()
    names = {d.name for d in districts}
    assert {"Thành phố Biên Hòa", "Thành phố Long Khánh", "Huyện Nhơn Trạch"} <= names
    assert len(districts) == len(demo.DISTRICTS)
    assert all(len(d.children) == len(demo.DISTRICTS[0][3]) for d in districts)
    assert all(d.valid_to == demo.OLD_UNTIL for d in districts)
    with demo.COMMUNES_FILE.open(encoding="utf-8") as handle:
        listed = {row["code"]: row for row in csv.DictReader(handle)}
    province = db.session.scalar(select(Unit).where(Unit.code == "75"))
    assert province is not None
    today = [c for c in province.children if c.valid_on(demo.REORGANISED)]
    assert {c.code for c in today} == set(listed) and len(listed) == 95
    assert all(c.name == listed[c.code]["name"] and c.kind == listed[c.code]["kind"] for c in today)
    assert [sum(c.kind == k for c in today) for k in ("phường", "xã")] == [23, 72]
    # Desks: the provincial centre and one public-administration service centre per commune.
    active = db.session.scalars(select(ServicePoint).where(ServicePoint.active)).all()
    assert {d.unit_id for d in active} == {province.id} | {c.id for c in today}
    assert all(d.name.startswith("Trung tâm Phục vụ hành chính công") for d in active)
    old = db.session.get_one(Campaign, demo_data.campaign_id)
    new = db.session.get_one(Campaign, demo_data.current_campaign_id)
    for campaign, plan, first in (
        (old, demo.DRAW_PLAN, districts),
        (new, demo.DRAW_PLAN_2026, today),
    ):
        paper = db.session.scalars(
            select(Response).where(
                Response.channel == Channel.PAPER, Response.campaign_id == campaign.id
            )
        ).all()
        assert paper
        forms = {f.serial: f for f in db.session.scalars(select(Form))}
        # Every paper response is a keyed form of the draw, with that form's design and weight.
        strata: dict[str, set[str]] = {}
        for r in paper:
            form = forms[r.serial]
            assert r.nonce == entry.nonce_for(form.serial) and form.fate == FormFate.RETURNED
            assert (r.stratum, r.psu, r.ssu, r.weight) == (
                form.stratum,
                form.psu,
                form.ssu,
                form.weight,
            )
            assert r.weight == pytest.approx(1 / np.prod(form.stage_probs), rel=1e-12)
            strata.setdefault(r.stratum, set()).add(r.psu)
        # The first stage's units are the strata: the old districts, or today's communes.
        assert set(strata) <= {u.code for u in first}
        assert len(strata) > len(first) // 2
        assert all(len(p) <= plan[1].n for p in strata.values())
        assert sum(len(p) == plan[1].n for p in strata.values()) > len(strata) // 2
    qr = [r for r in db.session.scalars(select(Response)) if r.channel != Channel.PAPER]
    assert qr and all(r.service_point_id is not None and r.weight is None for r in qr)
    # Ratings of each campaign were given at the desks of its structure.
    for r in qr:
        assert r.service_point is not None
        assert r.service_point.active == (r.campaign_id == new.id)


def test_demo_fieldwork_gives_real_rates_fates_and_nonresponse_factors(demo_data) -> None:
    """Issue 12 defect 15: the response-rate table, form fates and non-response factors
    describe the demo's own paper responses."""
    campaign = db.session.get(Campaign, demo_data.campaign_id)
    with current_app.test_request_context():
        summary = batches.response_rate_summary(campaign)
    paper = db.session.scalar(
        select(func.count())
        .select_from(Response)
        .where(Response.channel == Channel.PAPER, Response.campaign_id == campaign.id)
    )
    assert summary["without_form"] == 0
    assert summary["total"]["responded"] == summary["total"]["returned"] == paper
    districts = db.session.scalar(
        select(func.count()).select_from(Unit).where(Unit.level == UnitLevel.DISTRICT)
    )
    assert len(summary["rows"]) == districts
    assert all(0 < row["rate"] < 1 for row in summary["rows"])
    fates = set(db.session.scalars(select(Form.fate).where(Form.reserve.is_(False))))
    assert {FormFate.RETURNED, FormFate.REFUSED, FormFate.NOT_AT_HOME, FormFate.HANDED_OUT} <= fates
    # A released reserve replaced a household that was not at home, and answered.
    released = db.session.scalars(
        select(Form).where(Form.reserve.is_(False), Form.serial.in_(_reserve_serials()))
    ).all()
    assert released and all(f.fate == FormFate.RETURNED for f in released)
    # Non-response factors: Σ w(selected) / Σ w(responded) per village, above 1 where a
    # selected household did not answer.
    factors = queries.nonresponse_factors(campaign)
    forms = db.session.scalars(
        select(Form).where(Form.reserve.is_(False), Form.campaign_id == campaign.id)
    ).all()
    by_village: dict[str, list[Form]] = {}
    for form in forms:
        by_village.setdefault(form.household.village.code, []).append(form)
    assert set(factors) == set(by_village)
    for code, group in by_village.items():
        answered = sum(f.weight for f in group if f.fate == FormFate.RETURNED)
        assert factors[code] == pytest.approx(sum(f.weight for f in group) / answered)
    assert any(f > 1 for f in factors.values())


def _reserve_serials() -> list[str]:
    """Serials of reserve households the supervisor released into the sample (audited)."""
    return list(
        db.session.scalars(
            select(AuditLog.entity_id).where(
                AuditLog.action == "release", AuditLog.entity == "form"
            )
        )
    )


def test_demo_is_deterministic_and_near_the_2023_level(app, demo_data, tmp_path) -> None:
    values = np.array(
        db.session.scalars(
            select(Answer.value)
            .join(Response)
            .where(Response.channel == Channel.PAPER, Answer.question_id <= 33)
            .order_by(Answer.id)
        ).all()
    )
    satisfied = np.mean(values >= 4)
    assert 0.7 < satisfied < 0.9
    assert demo_data.responses == db.session.scalar(select(func.count()).select_from(Response))
    # Same seed, same data: a second load in a fresh database exports the same file.
    first = exports.rows(db.session.get(Campaign, demo_data.campaign_id))
    other = create_app(make_config(tmp_path / "again", None))
    (tmp_path / "again").mkdir()
    with other.app_context():
        Base.metadata.create_all(db.engine)
        summary = demo.load()
        db.session.commit()
        again = exports.rows(db.session.get(Campaign, summary.campaign_id))
        db.session.remove()
        db.engine.dispose()
    assert again == first


def test_desks_list_json(runner, demo_data) -> None:
    result = runner.invoke(args=["desks", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    desks = json.loads(result.output)
    stored = db.session.scalar(select(func.count()).select_from(ServicePoint))
    assert len(desks) == demo_data.desks == stored
    assert set(desks[0]) == {"id", "name", "unit", "token", "url"}
    assert desks[0]["url"] == f"https://khaosat.example.vn/s/{desks[0]['token']}"
    assert any(d["name"] == "Trung tâm Phục vụ hành chính công tỉnh Đồng Nai" for d in desks)
    tokens = {d["token"] for d in desks}
    assert len(tokens) == stored and all(len(t) >= 22 for t in tokens)


def test_campaigns_list_json(runner, demo_data) -> None:
    result = runner.invoke(args=["campaigns", "list", "--format", "json"])
    campaigns = json.loads(result.output)
    assert list(campaigns[0]) == [
        "id",
        "name",
        "questionnaire",
        "status",
        "starts",
        "ends",
        "responses",
    ]
    assert sum(c["responses"] for c in campaigns) == demo_data.responses
    by_id = {c["id"]: c for c in campaigns}
    assert by_id[demo_data.campaign_id]["status"] == "closed"
    assert by_id[demo_data.campaign_id]["starts"].startswith("2024-")
    assert by_id[demo_data.current_campaign_id]["status"] == "open"
