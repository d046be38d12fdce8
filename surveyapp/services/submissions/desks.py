"""Which campaign a desk (or a receipt or invitation code) is surveying, and the short-lived
cache of that answer on the submit path."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import (
    select,
)

from surveyapp.extensions import db
from surveyapp.models.campaigns import (
    Campaign,
    CampaignChannel,
    CampaignStatus,
    Channel,
)
from surveyapp.models.campaigns import campaign_units as campaign_units_table
from surveyapp.models.units import ServicePoint, Unit


def desk_by_token(token: str) -> ServicePoint | None:
    """An active desk with this token, or None (unknown and revoked look the same)."""
    if not token or len(token) > 64:
        return None
    desk = db.session.scalar(select(ServicePoint).where(ServicePoint.token == token))
    if desk is None or not desk.active:
        return None
    return desk


def _unit_chain(unit: Unit) -> list[int]:
    ids = []
    current: Unit | None = unit
    while current is not None:
        ids.append(current.id)
        current = current.parent
    return ids


def campaigns_for(unit: Unit | None, channel: Channel) -> list[Campaign]:
    """Campaigns that cover ``unit`` (or one of its ancestors) on ``channel``, any status."""
    stmt = (
        select(Campaign)
        .join(CampaignChannel, CampaignChannel.campaign_id == Campaign.id)
        .where(CampaignChannel.channel == channel)
        .order_by(Campaign.starts.desc(), Campaign.id.desc())
    )
    if unit is not None:
        stmt = stmt.join(
            campaign_units_table, campaign_units_table.c.campaign_id == Campaign.id
        ).where(campaign_units_table.c.unit_id.in_(_unit_chain(unit)))
    return list(db.session.scalars(stmt).unique())


def today() -> date:
    """Today where the campaign runs (Vietnam), not where the server's clock is set."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Ho_Chi_Minh")
    return datetime.now(zone).date()


def active_campaign(
    unit: Unit | None, channel: Channel, day: date | None = None
) -> tuple[Campaign | None, Campaign | None]:
    """``(open campaign, None)`` or ``(None, the campaign to explain)`` for a desk's unit.

    The campaign to explain is the next one to open, else the last one that ran, else None.
    """
    day = day or today()
    found = campaigns_for(unit, channel)
    for campaign in found:
        if campaign.is_open_on(day):
            return campaign, None
    upcoming = [c for c in found if c.status != CampaignStatus.CLOSED and c.starts > day]
    if upcoming:
        return None, min(upcoming, key=lambda c: c.starts)
    return None, (found[0] if found else None)


@dataclass(frozen=True)
class Target:
    """What a submission is stored against."""

    campaign_id: int
    questionnaire_id: int
    unit_id: int | None
    desk_id: int | None
    # The campaign's full questionnaire when this channel asks another (the desk form): a
    # citizen may choose to answer it after rating.
    full_questionnaire_id: int | None = None


def _target_cache() -> dict[tuple[str, str], tuple[float, Target]]:
    cache: dict[tuple[str, str], tuple[float, Target]]
    cache = current_app.extensions.setdefault("surveyapp_target_cache", {})
    return cache


def cached_target(channel: Channel, token: str) -> Target | None:
    """A desk's resolved campaign, remembered for ``CITIZEN_CACHE_SECONDS`` after a submission.

    Only the submit path uses it, so a revoked desk or a closed campaign stops taking
    answers within that many seconds, and pages always show the current state.
    """
    entry = _target_cache().get((channel.value, token))
    if entry is None or entry[0] < time.monotonic():
        return None
    return entry[1]


def remember_target(channel: Channel, token: str, target: Target) -> None:
    ttl = float(current_app.config.get("CITIZEN_CACHE_SECONDS") or 0)
    if ttl <= 0:
        return
    cache = _target_cache()
    if len(cache) > 10_000:
        cache.clear()
    cache[(channel.value, token)] = (time.monotonic() + ttl, target)
