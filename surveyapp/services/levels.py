"""The levels a campaign's results break down by and calibrate to: data, not code.

A level is a unit level present in the campaign's units (``commune`` on the structure in
force since 1 July 2025, ``district`` on a campaign fielded on the historical one) or
:data:`REGION`, a named group of communes the province defines (:mod:`.regions`). Nothing
here names a unit level: the levels are read from the units the campaign's responses and
forms belong to (or, before any, from the units under the campaign's own).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from surveyapp.data import queries
from surveyapp.data.memo import memo
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.units import Unit, UnitLevel
from surveyapp.services import ServiceError

REGION = queries.REGION
# Breakdowns that are not administrative levels.
OTHER = ("desk", "channel")
# The root of the tree is the whole (the "province" rows) and villages are the sample frame:
# neither is a breakdown level.
_NOT_LEVELS = (UnitLevel.PROVINCE.value, UnitLevel.VILLAGE.value)


def _campaign_unit_ids(campaign: Campaign) -> list[int]:
    return [u.id for u in campaign.units] or list(
        db.session.scalars(select(Unit.id).where(Unit.parent_id.is_(None)))
    )


def unit_levels(campaign: Campaign) -> list[str]:
    """Unit levels (coarsest first) the campaign's results can break down by: those of the
    units its responses and forms belong to, and of their ancestors; before any, those under
    the campaign's units."""
    # A page asks several times (the breakdown's check, its default, the response rates,
    # the form's choices).
    kept = memo("levels")
    if campaign.id not in kept:
        kept[campaign.id] = _unit_levels(campaign)
    return list(kept[campaign.id])


def _unit_levels(campaign: Campaign) -> list[str]:
    answered = queries.answered_units(campaign)
    if answered:
        found = queries.unit_levels_above(answered)
    else:
        # Before any response: the levels of the units that existed when it started.
        inside = set(queries.unit_subtree_many(_campaign_unit_ids(campaign)))
        present = {
            u.level.value
            for u in db.session.scalars(select(Unit).where(Unit.id.in_(inside)))
            if u.valid_on(campaign.starts)
        }
        found = [lv.value for lv in UnitLevel if lv.value in present]
    return [lv for lv in found if lv not in _NOT_LEVELS]


def regions(campaign: Campaign) -> list[str]:
    """Names of the regions that group units inside the campaign."""
    kept = memo("regions")
    if campaign.id not in kept:
        kept[campaign.id] = queries.regions_of(
            queries.unit_subtree_many(_campaign_unit_ids(campaign))
        )
    return list(kept[campaign.id])


def area_levels(campaign: Campaign) -> list[str]:
    """Every administrative level of the campaign: its unit levels, then :data:`REGION` when
    the province has grouped its communes into regions."""
    return [*unit_levels(campaign), *([REGION] if regions(campaign) else [])]


def choices(campaign: Campaign) -> list[str]:
    """Every ``by`` a report of this campaign accepts."""
    return [*area_levels(campaign), *OTHER]


def default(campaign: Campaign) -> str | None:
    """The probability sample's breakdown when none is asked for: the coarsest unit level
    (the historical districts, or the communes of the two-tier structure)."""
    found = unit_levels(campaign)
    return found[0] if found else None


def finest(campaign: Campaign) -> str | None:
    """The finest unit level (the small areas of :mod:`.sae`)."""
    found = unit_levels(campaign)
    return found[-1] if found else None


def check(campaign: Campaign, by: str | None) -> None:
    """Raise :class:`ServiceError` unless ``by`` is a breakdown this campaign has."""
    if by is None:
        return
    allowed = choices(campaign)
    if by not in allowed:
        raise ServiceError(
            _(
                "Breakdown %(value)s: this campaign's units have no such level; use one of "
                "%(names)s.",
                value=by,
                names=", ".join(allowed),
            )
        )


def is_area(by: str | None) -> bool:
    """Whether ``by`` is an administrative level (not a desk or channel breakdown)."""
    return by is not None and by not in OTHER


def names() -> dict[str, str]:
    """Every level's name, in the current language, for labels and captions."""
    return {
        UnitLevel.PROVINCE.value: _("province"),
        UnitLevel.DISTRICT.value: _("district"),
        UnitLevel.COMMUNE.value: _("commune"),
        UnitLevel.VILLAGE.value: _("village"),
        REGION: _("region"),
        "desk": _("desk"),
        "channel": _("channel"),
    }


def name(level: str) -> str:
    return names().get(level, level)


def units_at(campaign: Campaign, level: str) -> list[Unit]:
    """Units of a unit ``level`` inside the campaign's units (by code)."""
    inside = set(queries.unit_subtree_many(_campaign_unit_ids(campaign)))
    stmt = select(Unit).where(Unit.level == UnitLevel(level)).order_by(Unit.code)
    # Units that existed when the campaign started: not the old districts of a 2026 campaign.
    return [u for u in db.session.scalars(stmt) if u.id in inside and u.valid_on(campaign.starts)]
