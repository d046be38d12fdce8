"""Campaign reports kept per app process, keyed by a cheap fingerprint of what they are
computed from.

A report over a large campaign costs a pass over every answer and the whole analysis (seconds
at 100,000 responses, tens of seconds at a million), and the dashboard page, its XLSX and the
API ask for the same few reports again and again. The fingerprint is one aggregate over the
campaign's final responses (count, id range and sum, weight sum), its targets, its paper
forms' fates, its population margins and the desks' transaction volumes, so a new, voided or
re-weighted response, an edited target, a recorded fate, imported margins or a new volume
gives a new key at once. Edits the fingerprint cannot see (a renamed unit or desk) show
after ``REPORT_CACHE_SECONDS`` at the latest; ``REPORT_CACHE_SIZE = 0`` turns caching off.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.responses import Response, ResponseStatus

T = TypeVar("T")
EXTENSION = "surveyapp.report_cache"


class _Store:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()


def fingerprint(campaign: Campaign) -> tuple[Any, ...]:
    """What a change to the campaign's inputs changes (one indexed aggregate query)."""
    from surveyapp.dashboard import queries

    count, low, high, ids, weights = db.session.execute(
        select(
            func.count(),
            func.min(Response.id),
            func.max(Response.id),
            func.sum(Response.id),
            func.sum(func.coalesce(Response.weight, 0.0)),
        ).where(Response.campaign_id == campaign.id, Response.status == ResponseStatus.FINAL)
    ).one()
    from surveyapp.models.margins import PopulationMargin
    from surveyapp.models.sampling import Form

    # Form fates and reserves move the non-response factors; margins move the calibration.
    fates = sorted(
        (str(fate), bool(reserve), n)
        for fate, reserve, n in db.session.execute(
            select(Form.fate, Form.reserve, func.count())
            .where(Form.campaign_id == campaign.id)
            .group_by(Form.fate, Form.reserve)
        )
    )
    margin_state = tuple(
        db.session.execute(
            select(
                func.count(), func.max(PopulationMargin.id), func.sum(PopulationMargin.population)
            ).where(PopulationMargin.campaign_id == campaign.id)
        ).one()
    )
    targets = sorted(
        (t.index_node_id, str(t.target_pct), str(t.previous_pct), t.previous_rank, t.target_rank)
        for t in campaign.targets
    )
    return (
        count,
        low,
        high,
        ids,
        # A float sum's last bits depend on the order the database adds in (parallel workers):
        # nine significant digits still see any real re-weighting.
        None if weights is None else f"{float(weights):.9e}",
        tuple(targets),
        tuple(sorted(queries.desk_volumes(campaign).items())),
        tuple(fates),
        margin_state,
        campaign.questionnaire_id,
        campaign.starts,
        campaign.ends,
    )


def cached(campaign: Campaign, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """``compute()``'s result for ``key`` and the campaign's current fingerprint; a copy, so
    callers may change what they get."""
    size = int(current_app.config.get("REPORT_CACHE_SIZE", 32))
    if size <= 0:
        return compute()
    ttl = float(current_app.config.get("REPORT_CACHE_SECONDS", 300))
    store: _Store = current_app.extensions.setdefault(EXTENSION, _Store())
    full_key = (campaign.id, *key, fingerprint(campaign))
    now = time.monotonic()
    with store.lock:
        hit = store.entries.get(full_key)
        if hit is not None and now - hit[0] <= ttl:
            store.entries.move_to_end(full_key)
            return copy.deepcopy(hit[1])  # type: ignore[no-any-return]
    value = compute()
    with store.lock:
        store.entries[full_key] = (now, copy.deepcopy(value))
        while len(store.entries) > size:
            store.entries.popitem(last=False)
    return value
