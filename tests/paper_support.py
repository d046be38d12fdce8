"""Helpers for the paper-channel tests (a module of its own: conftest files are not importable
by name once several test folders have one)."""

from __future__ import annotations

from typing import Any

import numpy as np
from support import PASSWORD, USING_POSTGRES, login, make_user

from surveyapp.extensions import db

__all__ = [
    "PLAN",
    "USING_POSTGRES",
    "answers",
    "build_units",
    "frame_csv",
    "login",
    "login_to_entry",
    "make_user",
    "one_village_draw",
    "plan_toml",
]


def plan_toml(
    seed: int,
    communes: tuple[str, int] = ("pps", 2),
    villages: tuple[str, int] = ("pps", 1),
    households: int = 4,
    reserve: int | None = 1,
) -> str:
    """A four-stage paper plan (every district; ``(method, n)`` communes and villages; ``n``
    households by SRS with ``reserve`` reserves), in the TOML the draw page and CLI read."""
    text = f"""seed = {seed}
[[stages]]
level = "district"
method = "all"
[[stages]]
level = "commune"
method = "{communes[0]}"
n = {communes[1]}
[[stages]]
level = "village"
method = "{villages[0]}"
n = {villages[1]}
[[stages]]
level = "household"
method = "srs"
n = {households}
"""
    return text if reserve is None else text + f"reserve = {reserve}\n"


PLAN = plan_toml(seed=11)


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


def answers(qn: Any, value: int = 4) -> dict[str, int | None]:
    from surveyapp.services import entry

    return {q.code: min(value, max(q.values)) for q in entry.keyed_questions(qn)}


def one_village_draw(campaign: Any, plan: str, households: int) -> int:
    """Village 75-1-1-1 (in one commune of one district of the campaign's province) with
    ``households`` households H1, H2, ... in the frame, a draw by ``plan`` and its batches;
    returns the draw's id (nothing committed)."""
    from surveyapp.models import Unit, UnitLevel
    from surveyapp.services import batches, frame, sampling

    province = campaign.units[0]
    district = Unit(code="75-1", name="Huyện 1", level=UnitLevel.DISTRICT, parent=province)
    commune = Unit(code="75-1-1", name="Xã 1", level=UnitLevel.COMMUNE, parent=district)
    village = Unit(code="75-1-1-1", name="Ấp 1", level=UnitLevel.VILLAGE, parent=commune)
    db.session.add_all([district, commune, village])
    db.session.flush()
    rows = "\n".join(f"75-1-1-1,H{h},Hộ {h}" for h in range(1, households + 1))
    frame.import_frame(f"village,household,head_name\n{rows}\n".encode(), "f.csv")
    stages, seed = sampling.parse_plan(plan)
    draw = sampling.draw(campaign, stages, seed)
    batches.make_batches(campaign, draw.id)
    return draw.id


def login_to_entry(page: Any, live_server: str, username: str) -> None:
    """Log ``username`` in through the browser's login form, keyboard only, and wait for the
    paper-entry page the login lands a keyer or a verifier on."""
    page.goto(live_server + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/entry/**")
