"""The index results of the campaigns run with one questionnaire, oldest first."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from surveyapp.analysis.targets import difference
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.services.reports import across
from surveyapp.services.reports.building import build
from surveyapp.services.reports.common import (
    fraction,
    row_order,
)


@dataclass(frozen=True)
class Trend:
    """Index results of the campaigns run with one questionnaire, oldest first."""

    campaigns: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    #: The last two campaigns were fielded on different administrative structures (the
    #: 2025 reorganisation): the province rows' change is approximate, and ``units`` compares
    #: each unit of the newer one through the crosswalk (see :mod:`.across`).
    across: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"campaigns": self.campaigns, "rows": self.rows, "across": self.across}


def earlier_campaigns(campaign: Campaign) -> list[Campaign]:
    """Every campaign run with ``campaign``'s questionnaire that started no later than it,
    oldest first (``campaign`` included): what a trend or a forecast compares."""
    return list(
        db.session.scalars(
            select(Campaign)
            .where(
                Campaign.questionnaire_id == campaign.questionnaire_id,
                Campaign.starts <= campaign.starts,
            )
            .order_by(Campaign.starts, Campaign.id)
        )
    )


def trend(campaign: Campaign, *, lang: str = "vi", level: float = 0.95) -> Trend:
    """Every index node's whole-sample estimate (probability sample) in each campaign with
    ``campaign``'s questionnaire that started no later than it, oldest first.

    ``change`` is the last campaign minus the one before, with a t interval on the smaller of
    the two designs' df; two campaigns are independent samples, so the covariance is 0.
    ``previous`` is the published result the plan lists for the year before, a fixed number;
    ``versus_previous`` is the last campaign's estimate and CI minus it.

    When the last two campaigns were fielded on different administrative structures, each
    ``change`` says ``approximate`` and ``across`` holds the comparison per unit of the newer
    structure through the crosswalk, with which units joined from outside (see
    :mod:`surveyapp.services.reports.across` for the method).
    """

    peers = earlier_campaigns(campaign)
    built = [build(c, sample="probability", lang=lang) for c in peers]
    columns = [
        {"id": c.id, "name": c.name, "starts": c.starts.isoformat(), "n": r.design["n"]}
        for c, r in zip(peers, built, strict=True)
    ]
    across_info = None
    if len(peers) > 1 and across.different_structures(peers[-2], peers[-1]):
        across_info = {
            "older": peers[-2].id,
            "older_name": peers[-2].name,
            "newer": peers[-1].id,
            "newer_name": peers[-1].name,
            "territory_added": across.territory_changed(peers[-2], peers[-1]),
            "units": across.compare_units(peers[-2], peers[-1], level=level),
        }
    nodes = {n.code: n for n in campaign.questionnaire.index_nodes}
    targets = {t.index_node.code: t for t in campaign.targets}
    codes = sorted(nodes, key=lambda code: row_order({"code": code, "level": ""}, nodes))
    rows = []
    for code in codes:
        points: list[dict[str, Any] | None] = []
        for report in built:
            found = next((r for r in report.rows() if r["code"] == code), None)
            points.append(
                None
                if found is None
                else {k: found[k] for k in ("estimate", "se", "ci_low", "ci_high", "n", "df")}
            )
        change = None
        last = points[-1]
        before = points[-2] if len(points) > 1 else None
        if last is not None and before is not None and _finite(last, before):
            diff = difference(
                last["estimate"],
                last["se"],
                before["estimate"],
                before["se"],
                0.0,
                level,
                min(last["df"], before["df"]),
            )
            change = diff.to_dict() | {
                "direction": _direction(diff.ci_low, diff.ci_high),
                # Across a change of structure the two estimates describe the province as
                # it was on each campaign's first day.
                "approximate": across_info is not None,
            }
        node = nodes[code]
        target = targets.get(code)
        previous = fraction(target.previous_pct if target is not None else None)
        versus_previous = None
        if previous is not None and last is not None and _finite(last):
            # The published figure has no standard error here: it is held fixed.
            low, high = last["ci_low"] - previous, last["ci_high"] - previous
            versus_previous = {
                "estimate": last["estimate"] - previous,
                "ci_low": low,
                "ci_high": high,
                "direction": _direction(low, high),
            }
        rows.append(
            {
                "code": code,
                "level": node.level.value,
                "name": node.name.get(lang) or node.name["vi"],
                "previous": previous,
                "versus_previous": versus_previous,
                "target": fraction(target.target_pct if target is not None else None),
                "points": points,
                "change": change,
            }
        )
    return Trend(columns, rows, across_info)


def _direction(ci_low: float, ci_high: float) -> str:
    """A change is "up" or "down" only when its interval excludes zero."""
    return "up" if ci_low > 0 else "down" if ci_high < 0 else "same"


def _finite(*points: dict[str, Any]) -> bool:
    """Points a change can be computed from: a design without degrees of freedom (one
    responding PSU per stratum) has an estimate but no interval, and gives no change."""
    return all(
        p[k] is not None and math.isfinite(p[k])
        for p in points
        for k in ("estimate", "se", "df", "ci_low", "ci_high")
    ) and all(p["df"] > 0 for p in points)
