"""Multistage selection commune → village → households (the structure since 1 July 2025)
or district → commune → village → households (the older one), and the forms it yields.

A plan (JSON or TOML) names one stage per level, in order (a plan for today's two-tier
structure starts at ``commune``)::

    seed = 2025
    [[stages]]
    level = "district"      # district | commune | village | household
    method = "all"          # all | srs | systematic | pps (size = frame households)
    [[stages]]
    level = "commune"
    method = "pps"
    n = 2                   # drawn within every selected parent
    ...
    [[stages]]
    level = "household"
    method = "srs"
    n = 15
    reserve = 3             # extra households kept for replacement

Every selected unit stores its conditional inclusion probability (``SampledUnit.prob``); every
form stores the whole chain, so ``weight = 1 / Π prob`` holds exactly. Systematic PPS
(randomised order, then Madow's systematic selection on the cumulated sizes) gives
``π_i = n·M_i / ΣM`` exactly; units with ``n·M_i / ΣM ≥ 1`` are taken with certainty and the
rest re-scaled. Units with no household in the frame are outside the population.

Design fields follow R's ``svydesign(ids=~psu+ssu, strata=~stratum, fpc=~fpc1+fpc2)``: leading
``all`` stages make the strata, the first sampled stage is the PSU, the next the SSU; fpc is the
population size for equal-probability stages. A PPS stage and every stage after it get no fpc:
they are analysed as drawn with replacement (R's ``svydesign`` without ``pps=``), which is a
little conservative, since inclusion probabilities that vary within a stratum are not a
population size the whole stratum shares.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from flask_babel import gettext as _
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.invitations import Invitation
from surveyapp.models.sampling import Form, Household, SampleDraw, SampledUnit
from surveyapp.models.units import Unit, UnitLevel
from surveyapp.services import ServiceError, audit

LEVELS = ("district", "commune", "village", "household")
#: Since 1 July 2025 there are no districts: a plan may start at the commune.
TWO_TIER_LEVELS = LEVELS[1:]
METHODS = ("all", "srs", "systematic", "pps")

# Damm's quasigroup: one check digit that catches every single-digit error and every
# transposition of adjacent digits.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
SERIAL_DIGITS = 6


def damm(digits: str) -> int:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return interim


def make_serial(number: int) -> str:
    body = f"{number:0{SERIAL_DIGITS}d}"
    return f"{body}{damm(body)}"


def serial_is_valid(serial: str) -> bool:
    return serial.isdigit() and len(serial) >= 2 and damm(serial) == 0


@dataclass(frozen=True)
class Stage:
    level: str
    method: str
    n: int
    reserve: int = 0


class PlanError(ServiceError):
    pass


def parse_plan(text: str, filename: str = "plan.toml") -> tuple[list[Stage], int | None]:
    try:
        data = json.loads(text) if filename.endswith(".json") else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise PlanError(_("The plan cannot be read: %(error)s", error=str(exc))) from exc
    return _stages(data), data.get("seed")


def _stages(data: dict[str, Any]) -> list[Stage]:
    raw = data.get("stages")
    levels = [s.get("level") for s in raw] if isinstance(raw, list) else None
    if not isinstance(raw, list) or levels not in (list(LEVELS), list(TWO_TIER_LEVELS)):
        raise PlanError(
            _(
                "The plan needs one stage per level, in order: %(levels)s (or, without "
                "districts, %(two_tier)s).",
                levels=", ".join(LEVELS),
                two_tier=", ".join(TWO_TIER_LEVELS),
            )
        )
    stages = []
    for s in raw:
        method = s.get("method")
        if method not in METHODS:
            raise PlanError(
                _(
                    "Stage %(level)s: the method must be one of %(methods)s.",
                    level=s["level"],
                    methods=", ".join(METHODS),
                )
            )
        n = s.get("n", 0)
        if method != "all" and (not isinstance(n, int) or n < 1):
            raise PlanError(_("Stage %(level)s: n must be a whole number ≥ 1.", level=s["level"]))
        if s["level"] == "household" and method in ("all", "pps"):
            raise PlanError(_("Households are drawn by srs or systematic selection."))
        reserve = s.get("reserve", 0)
        if not isinstance(reserve, int) or reserve < 0:
            raise PlanError(_("The number of reserve households must be ≥ 0."))
        stages.append(Stage(s["level"], method, int(n or 0), reserve))
    return stages


# --- selection ---------------------------------------------------------------------------


def select_srs(rng: np.random.Generator, size: int, n: int) -> tuple[list[int], list[float]]:
    if n >= size:
        return list(range(size)), [1.0] * size
    chosen = sorted(int(i) for i in rng.choice(size, size=n, replace=False))
    return chosen, [n / size] * n


def select_systematic(rng: np.random.Generator, size: int, n: int) -> tuple[list[int], list[float]]:
    if n >= size:
        return list(range(size)), [1.0] * size
    step = size / n
    start = rng.uniform(0, step)
    chosen = [min(math.floor(start + j * step), size - 1) for j in range(n)]
    return chosen, [n / size] * n


def pps_probabilities(sizes: list[float], n: int) -> list[float]:
    """π_i = n·M_i/ΣM, with units reaching 1 taken for certain and the rest re-scaled."""
    probs = [0.0] * len(sizes)
    certain: set[int] = set()
    while True:
        rest = [i for i in range(len(sizes)) if i not in certain]
        m = n - len(certain)
        total = sum(sizes[i] for i in rest)
        if m <= 0 or total <= 0:
            break
        grown = {i for i in rest if m * sizes[i] / total >= 1}
        if not grown:
            for i in rest:
                probs[i] = m * sizes[i] / total
            break
        certain |= grown
    for i in certain:
        probs[i] = 1.0
    return probs


def select_pps(
    rng: np.random.Generator, sizes: list[float], n: int
) -> tuple[list[int], list[float]]:
    if n >= len(sizes):
        return list(range(len(sizes))), [1.0] * len(sizes)
    probs = pps_probabilities(sizes, n)
    chosen = [i for i, p in enumerate(probs) if p >= 1.0]
    order = [int(i) for i in rng.permutation(len(sizes)) if probs[int(i)] < 1.0]
    start = rng.uniform(0, 1)
    cumulated = 0.0
    point = start
    for i in order:
        low, cumulated = cumulated, cumulated + probs[i]
        if low <= point < cumulated:
            chosen.append(i)
            point += 1.0
    chosen.sort()
    return chosen, [probs[i] for i in chosen]


def _pick(
    rng: np.random.Generator, method: str, sizes: list[float], n: int
) -> tuple[list[int], list[float]]:
    if method == "all":
        return list(range(len(sizes))), [1.0] * len(sizes)
    if method == "srs":
        return select_srs(rng, len(sizes), n)
    if method == "systematic":
        return select_systematic(rng, len(sizes), n)
    return select_pps(rng, sizes, n)


# --- the draw ------------------------------------------------------------------------------


def _household_counts() -> dict[int, int]:
    """Frame households under every unit (villages and all their ancestors)."""
    per_village = dict(
        db.session.execute(
            select(Household.village_id, func.count()).group_by(Household.village_id)
        ).all()
    )
    parents = dict(db.session.execute(select(Unit.id, Unit.parent_id)).all())
    counts: dict[int, int] = defaultdict(int)
    for village_id, n in per_village.items():
        unit_id: int | None = village_id
        while unit_id is not None:
            counts[unit_id] += n
            unit_id = parents.get(unit_id)
    return counts


def _first_stage_units(campaign: Campaign, level: str) -> list[Unit]:
    """The units the first stage draws from: those of the plan's first level among the
    campaign's units and their children, that existed when the campaign started (a campaign
    fielded before 1 July 2025 draws from the old districts, one after it from the new
    communes)."""
    wanted = UnitLevel(level)
    out: list[Unit] = []
    for unit in campaign.units:
        candidates = [unit] if unit.level == wanted else unit.children
        out.extend(u for u in candidates if u.level == wanted and u.valid_on(campaign.starts))
    return sorted(out, key=lambda u: u.code)


@dataclass
class _Path:
    """A selected unit with the chain of stage records above and including it."""

    unit: Unit
    chain: list[SampledUnit]


def draw(
    campaign: Campaign,
    stages: list[Stage],
    seed: int | None = None,
    user_id: int | None = None,
) -> SampleDraw:
    """Select the sample, create one form (serial + invitation) per selected household."""
    if seed is None:
        seed = int(np.random.default_rng().integers(1, 2**31 - 1))
    rng = np.random.default_rng(seed)
    counts = _household_counts()
    sample = SampleDraw(
        campaign=campaign,
        seed=seed,
        plan={"stages": [s.__dict__ for s in stages]},
        user_id=user_id,
    )
    db.session.add(sample)
    first = [u for u in _first_stage_units(campaign, stages[0].level) if counts.get(u.id)]
    if not first:
        raise PlanError(_("The frame has no households in this campaign's units."))

    # Stage 1 draws within the province; later stages within each selected parent.
    groups: list[tuple[list[SampledUnit], list[Unit]]] = []
    by_parent: dict[int | None, list[Unit]] = defaultdict(list)
    for d in first:
        by_parent[d.parent_id].append(d)
    groups = [([], units) for units in by_parent.values()]
    paths: list[_Path] = []
    for number, stage in enumerate(stages[:-1], start=1):
        paths = []
        for chain, units in groups:
            sizes = [float(counts[u.id]) for u in units]
            chosen, probs = _pick(rng, stage.method, sizes, stage.n)
            for i, p in zip(chosen, probs, strict=True):
                record = SampledUnit(
                    draw=sample,
                    unit=units[i],
                    stage=number,
                    prob=p,
                    population=len(units),
                    drawn=len(chosen),
                )
                db.session.add(record)
                paths.append(_Path(units[i], [*chain, record]))
        groups = [
            (path.chain, [c for c in path.unit.children if counts.get(c.id)]) for path in paths
        ]

    households_stage = stages[-1]
    next_number = (db.session.scalar(select(func.count()).select_from(Form)) or 0) + 1
    forms: list[Form] = []
    for path in paths:
        households = db.session.scalars(
            select(Household).where(Household.village_id == path.unit.id).order_by(Household.code)
        ).all()
        size = len(households)
        main, probs = _pick(rng, households_stage.method, [1.0] * size, households_stage.n)
        left = [i for i in range(size) if i not in set(main)]
        reserves = (
            [left[int(i)] for i in rng.permutation(len(left))[: households_stage.reserve]]
            if left
            else []
        )
        p_household = probs[0] if probs else 1.0
        for i, is_reserve in [(i, False) for i in main] + [(i, True) for i in reserves]:
            stage_probs = [r.prob for r in path.chain] + [p_household]
            form = Form(
                campaign=campaign,
                draw=sample,
                household=households[i],
                serial=make_serial(next_number),
                invitation=Invitation(campaign=campaign),
                reserve=is_reserve,
                stage_probs=stage_probs,
                weight=1.0 / math.prod(stage_probs),
                **_design(stages, path.chain, households[i], size),
            )
            next_number += 1
            forms.append(form)
    db.session.add_all(forms)
    db.session.flush()
    audit.record(
        "draw",
        "sample_draw",
        sample.id,
        after={"seed": seed, "stages": sample.plan["stages"], "forms": len(forms)},
        user_id=user_id,
    )
    return sample


def _design(
    stages: list[Stage], chain: list[SampledUnit], household: Household, households: int
) -> dict[str, Any]:
    """Stratum, PSU, SSU and their fpc from the stage chain (see the module docstring)."""
    levels: list[tuple[str, str, float | None]] = []  # (label, method, fpc)
    stratum: str | None = None
    with_replacement = False
    for stage, record in zip(stages[:-1], chain, strict=True):
        if stage.method == "all" and not levels:
            stratum = record.unit.code
            continue
        # A PPS stage has no population size shared by its stratum; it is analysed as drawn
        # with replacement (no fpc), whose variance of the unit totals already holds every
        # later stage's, so the later stages get no fpc either.
        with_replacement = with_replacement or stage.method == "pps"
        fpc = None if with_replacement else float(record.population)
        levels.append((record.unit.code, stage.method, fpc))
    levels.append(
        (
            f"{household.village.code}/{household.code}",
            "srs",
            None if with_replacement else float(households),
        )
    )
    return {
        "stratum": stratum,
        "psu": levels[0][0],
        "ssu": levels[1][0] if len(levels) > 1 else None,
        "fpc1": levels[0][2],
        "fpc2": levels[1][2] if len(levels) > 1 else None,
    }


def draw_from_file(
    campaign: Campaign, path: str | Path, seed: int | None = None, user_id: int | None = None
) -> SampleDraw:
    path = Path(path)
    stages, plan_seed = parse_plan(path.read_text(encoding="utf-8"), path.name)
    return draw(campaign, stages, seed if seed is not None else plan_seed, user_id)


def forms_of(draw_id: int) -> list[Form]:
    return list(
        db.session.scalars(select(Form).where(Form.draw_id == draw_id).order_by(Form.serial))
    )
