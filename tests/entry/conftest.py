"""Paper-channel fixtures: a generated frame under the ``campaign`` fixture's province."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

from surveyapp.extensions import db

PLAN = """seed = 11
[[stages]]
level = "district"
method = "all"
[[stages]]
level = "commune"
method = "pps"
n = 2
[[stages]]
level = "village"
method = "pps"
n = 1
[[stages]]
level = "household"
method = "srs"
n = 4
reserve = 1
"""


def build_units(
    province: Any, districts: int = 3, communes: int = 3, villages: int = 3
) -> list[Any]:
    from surveyapp.models import Unit, UnitLevel

    made = []
    for d in range(1, districts + 1):
        district = Unit(
            code=f"75-{d}", name=f"Huyện {d}", level=UnitLevel.DISTRICT, parent=province
        )
        for c in range(1, communes + 1):
            commune = Unit(
                code=f"75-{d}-{c}", name=f"Xã {d}.{c}", level=UnitLevel.COMMUNE, parent=district
            )
            for v in range(1, villages + 1):
                made.append(
                    Unit(
                        code=f"75-{d}-{c}-{v}",
                        name=f"Ấp {v}",
                        level=UnitLevel.VILLAGE,
                        parent=commune,
                    )
                )
    db.session.add_all(made)
    db.session.flush()
    return made


def frame_csv(villages: list[Any], seed: int = 1, low: int = 5, high: int = 40) -> bytes:
    rng = np.random.default_rng(seed)
    lines = ["village,household,head_name,address"]
    for village in villages:
        for h in range(1, int(rng.integers(low, high)) + 1):
            lines.append(f"{village.code},H{h:03d},Nguyễn Văn {h},Số {h}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(autouse=True)
def request_context(app, request):  # type: ignore[no-untyped-def]
    """Services translate their messages, which needs a request (Vietnamese by default).
    Command-line tests run without one, as the real command line does."""
    if "runner" in request.fixturenames:
        yield
        return
    with app.test_request_context():
        yield


@pytest.fixture
def frame_units(campaign):  # type: ignore[no-untyped-def]
    villages = build_units(campaign.units[0])
    db.session.commit()
    return villages


@pytest.fixture
def paper(campaign, frame_units):  # type: ignore[no-untyped-def]
    """The campaign with a frame, a draw (PLAN) and batches; returns (campaign, draw)."""
    from surveyapp.services import batches, frame, sampling

    frame.import_frame(frame_csv(frame_units), "frame.csv")
    stages, seed = sampling.parse_plan(PLAN)
    draw = sampling.draw(campaign, stages, seed)
    batches.make_batches(campaign, draw.id)
    db.session.commit()
    return campaign, draw


def answers(qn: Any, value: int = 4) -> dict[str, int | None]:
    from surveyapp.services import entry

    return {q.code: min(value, max(q.values)) for q in entry.keyed_questions(qn)}


PASSWORD = "correct-horse-42"
USING_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgresql", "postgres"))


def make_user(username: str, role: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    from surveyapp.models import Role
    from surveyapp.services import users

    user = users.create_user(username, Role(role), password)
    db.session.commit()
    return user


def login(client: Any, username: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"username": username, "password": password})
