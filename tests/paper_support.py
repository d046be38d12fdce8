"""Helpers for the paper-channel tests (a module of its own: conftest files are not importable
by name once several test folders have one)."""

from __future__ import annotations

from typing import Any

import numpy as np
from support import USING_POSTGRES, login, make_user

from surveyapp.extensions import db

__all__ = ["PLAN", "USING_POSTGRES", "answers", "build_units", "frame_csv", "login", "make_user"]

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


def answers(qn: Any, value: int = 4) -> dict[str, int | None]:
    from surveyapp.services import entry

    return {q.code: min(value, max(q.values)) for q in entry.keyed_questions(qn)}
