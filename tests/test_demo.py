from __future__ import annotations

import json

import numpy as np
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Answer, Channel, Response, ServicePoint, Unit, UnitLevel
from surveyapp.services import demo


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
    districts = db.session.scalars(select(Unit).where(Unit.level == UnitLevel.DISTRICT)).all()
    names = {d.name for d in districts}
    assert {"Thành phố Biên Hòa", "Thành phố Long Khánh", "Huyện Nhơn Trạch"} <= names
    assert len(districts) == 11
    assert all(len(d.children) == 4 for d in districts)
    paper = db.session.scalars(select(Response).where(Response.channel == Channel.PAPER)).all()
    assert len(paper) == 11 * demo.COMMUNES_DRAWN * demo.HOUSEHOLDS_DRAWN
    # Two PSUs per stratum, twenty households per PSU, weights = product of stage fractions.
    strata: dict[str, set[str]] = {}
    for r in paper:
        strata.setdefault(r.stratum, set()).add(r.psu)
        assert r.weight == (r.fpc1 / demo.COMMUNES_DRAWN) * (r.fpc2 / demo.HOUSEHOLDS_DRAWN)
    assert len(strata) == 11 and all(len(p) == 2 for p in strata.values())
    qr = [
        r for r in demo_data and db.session.scalars(select(Response)) if r.channel != Channel.PAPER
    ]
    assert qr and all(r.service_point_id is not None and r.weight is None for r in qr)


def test_demo_is_deterministic_and_near_the_2023_level(app, demo_data) -> None:
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
    # Same seed, same data: the first answers are fixed by the generating model.
    assert demo_data.responses == db.session.scalar(select(func.count()).select_from(Response))


def test_desks_list_json(runner, demo_data) -> None:
    result = runner.invoke(args=["desks", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    desks = json.loads(result.output)
    assert len(desks) == demo_data.desks == 23
    assert set(desks[0]) == {"id", "name", "unit", "token", "url"}
    assert desks[0]["url"] == f"https://khaosat.example.vn/s/{desks[0]['token']}"
    assert "Đồng Nai" in desks[0]["name"]
    tokens = {d["token"] for d in desks}
    assert len(tokens) == 23 and all(len(t) >= 22 for t in tokens)
    assert db.session.scalar(select(func.count()).select_from(ServicePoint)) == 23


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
    assert campaigns[0]["responses"] == demo_data.responses
    assert campaigns[0]["status"] == "open"
