"""A province on the two-tier structure in force since 1 July 2025: communes directly under
the province, no districts; a probability sample of a few respondents per commune and QR
ratings at a few commune desks, written straight to the database."""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np
from sqlalchemy import insert

from surveyapp.extensions import db
from surveyapp.models import Answer, Channel, Response, ServicePoint, Unit, UnitLevel

# Two communes share a name (as many "Tân Phú" do): the breakdown tells them apart by code.
SHARED = "Xã Tân Phú"


def two_tier(
    campaign: Any, communes: int = 100, per_commune: int = 6, seed: int = 13
) -> list[Unit]:
    """``communes`` commune-level units under the campaign's province, each with
    ``per_commune`` paper respondents (strata of ten communes, each respondent a PSU) whose
    satisfaction differs by commune, and QR ratings at the first five communes' desks."""
    rng = np.random.default_rng(seed)
    province = campaign.units[0]
    made = []
    for i in range(communes):
        name = SHARED if i in (0, 1) else f"{'Phường' if i % 4 == 0 else 'Xã'} Mới {i + 1}"
        made.append(
            Unit(
                code=f"2{i:04d}",
                name=name,
                level=UnitLevel.COMMUNE,
                parent=province,
                urban=i % 4 == 0,
            )
        )
    db.session.add_all(made)
    db.session.flush()
    qn = campaign.questionnaire
    items = [q for q in qn.questions if q.type.value == "likert5"]
    by_code = {q.code: q for q in qn.questions}
    effects = rng.normal(0.0, 0.6, size=communes)
    # The answers go in as one bulk insert (the responses need their ids first): ~23,000
    # Answer objects through the unit of work cost seconds per test.
    responses: list[Response] = []
    values: list[list[tuple[int, int]]] = []
    for i, unit in enumerate(made):
        for j in range(per_commune):
            p = 1 / (1 + np.exp(-(1.2 + effects[i])))
            answers = [(q.id, int(rng.choice([4, 5]) if rng.random() < p else 3)) for q in items]
            answers += [
                (by_code["sex"].id, int(1 + j % 2)),
                (by_code["age_group"].id, int(1 + rng.integers(0, 5))),
                (by_code["area"].id, 1 if unit.urban else 2),
            ]
            values.append(answers)
            responses.append(
                Response(
                    campaign=campaign,
                    questionnaire=qn,
                    channel=Channel.PAPER,
                    nonce=secrets.token_hex(16),
                    unit_id=unit.id,
                    stratum=f"S{i // 10}",
                    psu=f"{unit.code}-{j}",
                    ssu=f"{unit.code}-{j}",
                    weight=500.0 + 10 * (i % 7),
                )
            )
    for unit in made[:5]:
        desk = ServicePoint(unit=unit, name=f"Trung tâm phục vụ hành chính công {unit.name}")
        db.session.add(desk)
        db.session.flush()
        for _k in range(8):
            values.append([(q.id, int(rng.integers(3, 6))) for q in items])
            responses.append(
                Response(
                    campaign=campaign,
                    questionnaire=qn,
                    channel=Channel.QR,
                    nonce=secrets.token_hex(16),
                    unit_id=unit.id,
                    service_point_id=desk.id,
                )
            )
    db.session.add_all(responses)
    db.session.flush()
    db.session.execute(
        insert(Answer),
        [
            {"response_id": response.id, "question_id": question, "value": value}
            for response, answers in zip(responses, values, strict=True)
            for question, value in answers
        ],
    )
    db.session.commit()
    return made


def regions_csv(communes: list[Unit], groups: int = 4) -> bytes:
    """Every commune in one of ``groups`` regions (Vùng 1 …) of neighbouring codes."""
    lines = ["commune_code,region"]
    size = -(-len(communes) // groups)
    lines += [f"{u.code},Vùng {1 + i // size}" for i, u in enumerate(communes)]
    return ("\n".join(lines) + "\n").encode()
