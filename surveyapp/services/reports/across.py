"""Setting a campaign fielded on the old administrative structure beside one fielded on the
new structure (the 1 July 2025 reorganisation, issue 13 §1).

Each response keeps the unit it was collected under. Two campaigns are on *different
structures* when the units of their trees that existed on each campaign's first day differ.

Method, per commune-level unit of the newer campaign (its "unit")
------------------------------------------------------------------
* The newer campaign's estimate is the direct one: its probability sample with the unit as
  the domain (weights, calibration and Taylor variance as in every report).
* The older campaign's estimate comes from its own direct estimates for the *old* units the
  crosswalk maps into the unit (each old response is counted in the nearest of its units
  the crosswalk names: a commune, or a district if the crosswalk is at district level). It is
  the weighted mean ``Σ a_o θ_o / Σ a_o`` over the old units ``o`` with respondents, where
  ``a_o`` is the crosswalk's number of people who moved from ``o`` into the unit, or its
  population share when the crosswalk gives no population (then every old unit counts as
  equally populous). Its variance is ``Σ (a_o / Σ a)² se_o²``: the old units' estimates
  are treated as independent (they are separate PSUs or strata; the calibration's small
  covariance between them is ignored).
* The comparison is **exact** when every old unit that went into the unit went whole
  (share 1) and all of them had respondents. It is **approximate** when an old unit was
  split (its estimate is assumed to hold in each of its parts), or when part of the unit's
  old population had no respondent in the older campaign (``coverage`` below 1); a unit
  none of whose old units had respondents has no older estimate.
* An old unit whose respondents all sit in one PSU (in the 2024 demo design every sampled
  commune is one PSU) has no design variance of its own; its parent's estimate (the old
  district's) stands in for it, and the comparison is approximate.
* When the unit itself existed in the older campaign (no change), its own estimate is used.
* The change is the newer estimate minus the older one, with a normal interval on the two
  variances (independent samples).

The province-level rows of the trend compare whole-sample estimates. Across a change of
structure they describe different territories when units joined from outside the older
campaign (another province merged in): the trend says so.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select

from surveyapp.analysis import analyze
from surveyapp.analysis.dist import norm_ppf
from surveyapp.data import queries
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.questionnaires import IndexLevel
from surveyapp.models.units import Unit, UnitCrosswalk, UnitLevel
from surveyapp.services import margins
from surveyapp.services.reports.cells import frame_for, row_design
from surveyapp.services.reports.common import SAMPLES, spec_for
from surveyapp.services.reports.weighting import weighting_from

UNIT_COLUMN = "unit_domain"


@dataclass(frozen=True)
class Point:
    estimate: float
    se: float
    n: int
    #: Responding PSUs in the domain: a domain inside one PSU has no design variance.
    psus: int = 2

    @property
    def usable(self) -> bool:
        return self.psus >= 2


def valid_units(campaign: Campaign) -> set[int]:
    """Ids of the units of ``campaign``'s tree that existed on its first day."""
    units = {u.id: u for u in db.session.scalars(select(Unit))}
    children: dict[int | None, list[int]] = defaultdict(list)
    for u in units.values():
        children[u.parent_id].append(u.id)
    out: set[int] = set()
    todo = [u.id for u in campaign.units]
    while todo:
        uid = todo.pop()
        if units[uid].valid_on(campaign.starts):
            out.add(uid)
        todo.extend(children.get(uid, []))
    return out


def different_structures(older: Campaign, newer: Campaign) -> bool:
    return valid_units(older) != valid_units(newer)


def _overall_code(campaign: Campaign) -> str:
    return next(n.code for n in campaign.questionnaire.index_nodes if n.level == IndexLevel.OVERALL)


def unit_estimates(campaign: Campaign, domain_of: dict[int, int]) -> dict[int, Point]:
    """The probability sample's overall-index estimate per domain unit, each response counted
    in ``domain_of[its unit]`` (responses whose unit has no domain are left out)."""
    sample = SAMPLES["probability"]
    frame = frame_for(campaign, sample)
    if frame.empty:
        return {}
    frame[UNIT_COLUMN] = [
        str(domain_of[int(u)]) if pd.notna(u) and int(u) in domain_of else None
        for u in frame["unit_id"]
    ]
    if not frame[UNIT_COLUMN].notna().any():
        return {}
    code = _overall_code(campaign)
    spec = dataclasses.replace(
        spec_for(campaign, None, "logit", sample=sample), by=UNIT_COLUMN, national=False, targets=()
    )
    stored = margins.for_analysis(campaign)
    nonresponse = bool(frame["nr_class"].map(queries.nonresponse_factors(campaign)).notna().any())
    weighting = weighting_from(frame, "weight_nr", stored, nonresponse)
    spec = dataclasses.replace(spec, margins=weighting.margins)
    result = analyze(frame, spec, **row_design(frame, sample))
    psus = frame.dropna(subset=[UNIT_COLUMN]).groupby(UNIT_COLUMN)["psu"].nunique()
    out: dict[int, Point] = {}
    for e in result.estimates:
        if e.variable != code or e.domain is None or e.domain[1] is None:
            continue
        if math.isfinite(e.estimate) and math.isfinite(e.se):
            out[int(e.domain[1])] = Point(e.estimate, e.se, e.n, int(psus.get(e.domain[1], 0)))
    return out


def _nearest(units: dict[int, Unit], wanted: set[int]) -> dict[int, int]:
    """For every unit, its nearest ancestor (itself included) among ``wanted``."""
    out: dict[int, int] = {}
    for uid in units:
        node: int | None = uid
        while node is not None and node not in wanted:
            node = units[node].parent_id
        if node is not None:
            out[uid] = node
    return out


def _weight(entry: UnitCrosswalk, by_population: bool) -> float:
    return float(entry.population or 0) if by_population else entry.share


def compare_units(older: Campaign, newer: Campaign, *, level: float = 0.95) -> list[dict[str, Any]]:
    """Per commune-level unit of ``newer``: its estimate, the older campaign's through the
    crosswalk (module docstring), whether that is exact, and the change."""
    units = {u.id: u for u in db.session.scalars(select(Unit))}
    now_valid = valid_units(newer)
    then_valid = valid_units(older)
    targets = sorted(
        (uid for uid in now_valid if units[uid].level == UnitLevel.COMMUNE),
        key=lambda uid: units[uid].code,
    )
    stand_in: dict[int, int] = {}
    into: dict[int, list[UnitCrosswalk]] = defaultdict(list)
    for entry in db.session.scalars(select(UnitCrosswalk)):
        into[entry.new_unit_id].append(entry)
    old_units = {e.old_unit_id for entries in into.values() for e in entries}
    newer_points = unit_estimates(newer, _nearest(units, set(targets)))
    named = (old_units | set(targets)) & then_valid
    older_points = unit_estimates(older, _nearest(units, named))
    # An old unit whose respondents all sit in one PSU (one sampled commune of a district,
    # say) has no design variance: its parent's estimate stands in for it (approximate).
    parents = {units[u].parent_id for u in named if units[u].parent_id is not None}
    parent_points = unit_estimates(older, _nearest(units, {p for p in parents if p in then_valid}))
    for uid in named:
        point = older_points.get(uid)
        parent = units[uid].parent_id
        if point is not None and not point.usable:
            del older_points[uid]
            if parent is not None and parent in parent_points and parent_points[parent].usable:
                stand_in[uid] = parent
    z = norm_ppf(0.5 + level / 2)
    rows = []
    resolved = Resolved(older_points, parent_points, stand_in)
    for uid in targets:
        unit = units[uid]
        row: dict[str, Any] = {
            "unit": {"id": uid, "code": unit.code, "name": unit.name},
            "newer": _point(newer_points.get(uid), z),
            "older": None,
            "method": "none",
            "exact": False,
            "coverage": None,
            "old_units": [],
            "change": None,
        }
        if uid in then_valid:
            row["method"] = "same_unit"
            row["coverage"] = 1.0
            found = resolved.point(uid)
            if found is not None:
                row["older"] = _point(found[0], z)
                row["exact"] = not found[1]
        elif into.get(uid):
            row.update(_through_crosswalk(into[uid], resolved, units, z))
        if row["newer"] is not None and row["older"] is not None:
            diff = row["newer"]["estimate"] - row["older"]["estimate"]
            se = math.hypot(row["newer"]["se"], row["older"]["se"])
            row["change"] = {"estimate": diff, "ci_low": diff - z * se, "ci_high": diff + z * se}
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Resolved:
    """The older campaign's estimates: per old unit, or its parent's standing in."""

    own: dict[int, Point]
    parents: dict[int, Point]
    stand_in: dict[int, int]

    def point(self, uid: int) -> tuple[Point, bool] | None:
        """The estimate used for an old unit, and whether it is its parent's."""
        if uid in self.own:
            return self.own[uid], False
        if uid in self.stand_in:
            return self.parents[self.stand_in[uid]], True
        return None


def _through_crosswalk(
    entries: list[UnitCrosswalk], resolved: Resolved, units: dict[int, Unit], z: float
) -> dict[str, Any]:
    by_population = all(e.population is not None for e in entries) and any(
        e.population for e in entries
    )
    total = sum(_weight(e, by_population) for e in entries)
    found = {e.old_unit_id: resolved.point(e.old_unit_id) for e in entries}
    used = [
        (e, hit)
        for e in entries
        if (hit := found[e.old_unit_id]) is not None and _weight(e, by_population) > 0
    ]
    weight = sum(_weight(e, by_population) for e, _hit in used)
    coverage = weight / total if total > 0 else 0.0
    old_units = []
    for e in sorted(entries, key=lambda e: units[e.old_unit_id].code):
        hit = found[e.old_unit_id]
        parent = units[e.old_unit_id].parent
        old_units.append(
            {
                "code": units[e.old_unit_id].code,
                "name": units[e.old_unit_id].name,
                "share": e.share,
                "population": e.population,
                "split": not e.exact,
                "respondents": hit[0].n if hit is not None and not hit[1] else 0,
                # The parent's estimate stood in (one sampled PSU: no variance of its own).
                "estimated_by": parent.name if hit is not None and hit[1] and parent else None,
            }
        )
    out: dict[str, Any] = {
        "method": "crosswalk_population" if by_population else "crosswalk_share",
        "coverage": coverage,
        "old_units": old_units,
    }
    if not used:
        out["exact"] = False
        return out
    estimate = sum(_weight(e, by_population) * hit[0].estimate for e, hit in used)
    variance = sum((_weight(e, by_population) / weight) ** 2 * hit[0].se ** 2 for e, hit in used)
    n = sum(hit[0].n for _e, hit in used)
    point = Point(estimate / weight, math.sqrt(variance), n)
    out["older"] = _point(point, z)
    out["exact"] = (
        all(e.exact for e in entries)
        and not any(hit[1] for _e, hit in used)
        and math.isclose(coverage, 1.0)
    )
    return out


def _point(point: Point | None, z: float) -> dict[str, Any] | None:
    if point is None:
        return None
    return {
        "estimate": point.estimate,
        "se": point.se,
        "ci_low": max(0.0, point.estimate - z * point.se),
        "ci_high": min(1.0, point.estimate + z * point.se),
        "n": point.n,
    }


def territory_changed(older: Campaign, newer: Campaign) -> list[dict[str, str]]:
    """Units merged into the newer campaign's tree from outside the older campaign's (e.g.
    another province): the province totals of the two describe different territories."""
    now_valid = valid_units(newer)
    then_tree = _tree(older)
    out = []
    for entry in db.session.scalars(
        select(UnitCrosswalk).where(UnitCrosswalk.new_unit_id.in_(now_valid))
    ):
        if entry.old_unit_id not in then_tree:
            out.append({"code": entry.old_unit.code, "name": entry.old_unit.name})
    return sorted(out, key=lambda r: r["code"])


def _tree(campaign: Campaign) -> set[int]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for uid, parent in db.session.execute(select(Unit.id, Unit.parent_id)):
        children[parent].append(uid)
    out: set[int] = set()
    todo = [u.id for u in campaign.units]
    while todo:
        uid = todo.pop()
        out.add(uid)
        todo.extend(children.get(uid, []))
    return out
