"""Campaign reports kept until their inputs change, shared by every app process.

A report over a large campaign costs a pass over every response and the whole analysis (a
second or two at 100,000 responses, more at a million), and the dashboard page, its XLSX and
the API ask for the same few reports again and again. Each report is kept

- in the process (``REPORT_CACHE_SIZE`` entries, least recently used dropped), and
- in ``report_snapshots`` (the latest of each kind per campaign), so another gunicorn worker
  or a restarted server serves it without computing it again,

keyed by a cheap fingerprint of what it is computed from: one aggregate over the campaign's
final responses (count, id range and sum, weight sum), its targets, its paper forms' fates,
its population margins and the desks' transaction volumes. A new, voided or re-weighted
response, an edited target, a recorded fate, imported margins or a new volume gives a new key
at once. Edits the fingerprint cannot see (a renamed unit or desk) show after
``REPORT_CACHE_SECONDS`` at the latest; ``REPORT_CACHE_SIZE = 0`` turns caching off.

While fieldwork goes on every new response makes every report out of date. A caller that can
say so (the dashboard page and its downloads) may then take the latest snapshot at once,
stamped stale with the time it was computed, while a background thread computes the fresh
one; that only for a snapshot at most ``REPORT_STALE_SECONDS`` old (0: never, always wait for
the fresh one).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
import os
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_app_context, has_request_context, request_tearing_down
from flask_babel import force_locale
from sqlalchemy import delete, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveyapp.data.locks import write_lock
from surveyapp.extensions import db
from surveyapp.i18n import current_language
from surveyapp.models.base import utcnow
from surveyapp.models.campaigns import Campaign
from surveyapp.models.responses import Response, ResponseStatus
from surveyapp.models.snapshots import ReportSnapshot

T = TypeVar("T")
EXTENSION = "surveyapp.report_cache"
SNAPSHOTS_PER_CAMPAIGN = 64  # stored reports per campaign, most recently computed first
# Part of every key: bump it when a kept value's class changes shape, so older snapshots are
# never read as the new kind.
FORMAT = 1
REFRESH_WAIT_SECONDS = 5.0  # longest a refresh waits for its request to end
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stamp:
    """Where a kept value came from: the inputs' fingerprint, when it was computed, and
    whether newer inputs exist (a stale snapshot shown while the fresh one is computed)."""

    fingerprint: str
    computed_at: datetime
    stale: bool = False


class _Store:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: OrderedDict[Hashable, tuple[float, Stamp, Any]] = OrderedDict()
        self.refreshing: dict[str, threading.Thread] = {}


def fingerprint(campaign: Campaign) -> tuple[Any, ...]:
    """What a change to the campaign's inputs changes (one indexed aggregate query)."""
    from surveyapp.data import queries

    count, low, high, ids, weights = db.session.execute(
        select(
            func.count(),
            func.min(Response.id),
            func.max(Response.id),
            func.sum(Response.id),
            func.sum(func.coalesce(Response.weight, 0.0)),
        ).where(
            Response.campaign_id == campaign.id,
            Response.status == ResponseStatus.FINAL,
            # A released burst changes what the report counts.
            Response.held.is_(False),
        )
    ).one()
    # A report states how many bursts it held out.
    held = db.session.scalar(
        select(func.count()).where(
            Response.campaign_id == campaign.id,
            Response.status == ResponseStatus.FINAL,
            Response.held.is_(True),
        )
    )
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
    from surveyapp.models.regions import UnitRegion

    # Regions label a region breakdown and place respondents in a region margin.
    regions = tuple(
        sorted((u, r) for u, r in db.session.execute(select(UnitRegion.unit_id, UnitRegion.region)))
    )
    return (
        count,
        low,
        high,
        ids,
        held,
        # A float sum's last bits depend on the order the database adds in (parallel workers):
        # nine significant digits still see any real re-weighting.
        None if weights is None else f"{float(weights):.9e}",
        tuple(targets),
        tuple(sorted(queries.desk_volumes(campaign).items())),
        tuple(fates),
        margin_state,
        regions,
        campaign.questionnaire_id,
        # The questionnaire each channel asks: a sample is read with its channels' one.
        tuple(sorted((c.channel.value, c.questionnaire_id or 0) for c in campaign.channels)),
        campaign.starts,
        campaign.ends,
    )


def cached(
    campaign: Campaign,
    key: tuple[Hashable, ...],
    compute: Callable[[Campaign], T],
    *,
    stamp: Callable[[T, Stamp], T] | None = None,
    stale_ok: bool = False,
    persist: bool = True,
    inputs: str = "",
) -> T:
    """``compute(campaign)``'s result for ``key`` and the campaign's current inputs; a copy,
    so callers may change what they get.

    ``compute`` must use nothing of the request but its argument: it may run again in a
    background thread. ``stamp`` puts the :class:`Stamp` on the value; with ``stale_ok`` the
    latest snapshot may be returned stamped stale while a fresh one is computed (see the
    module docstring). Without ``persist`` the value is kept in this process only (for what
    is cheap to compute and keyed by more than the campaign's inputs). ``inputs`` replaces
    the campaign's fingerprint for a value computed from another kept value (a ranking from
    its report, which may be a stale one).
    """
    config = current_app.config
    if int(config.get("REPORT_CACHE_SIZE", 32)) <= 0:
        return _stamped(compute(campaign), Stamp("", utcnow()), stamp)
    ttl = float(config.get("REPORT_CACHE_SECONDS", 300))
    store = _store()
    lang = current_language()
    key_hash = _digest((FORMAT, campaign.id, lang, *key))
    print_ = inputs or _request_fingerprint(campaign)
    now = time.monotonic()
    with store.lock:
        hit = store.entries.get((key_hash, print_))
        if hit is not None and now - hit[0] <= ttl:
            store.entries.move_to_end((key_hash, print_))
            kept: T = hit[2]
            return _stamped(copy.deepcopy(kept), hit[1], stamp)
    snapshot = _snapshot(campaign.id, key_hash) if persist else None
    if snapshot is not None:
        age = (utcnow() - _aware(snapshot.computed_at)).total_seconds()
        same = snapshot.fingerprint == print_
        stored: T | None = _unpickled(snapshot)
        if stored is not None and same and age <= ttl:
            found = Stamp(print_, _aware(snapshot.computed_at))
            _keep(store, key_hash, print_, found, stored)
            return _stamped(stored, found, stamp)
        if stored is not None and stale_ok and age <= float(config.get("REPORT_STALE_SECONDS", 0)):
            # Out of date (or past REPORT_CACHE_SECONDS with the same inputs, when it is only
            # refreshed for what the fingerprint cannot see): shown while recomputed.
            _refresh_later(campaign.id, key_hash, lang, compute, _aware(snapshot.computed_at))
            old = Stamp(snapshot.fingerprint, _aware(snapshot.computed_at), stale=not same)
            return _stamped(stored, old, stamp)
    computed_at = utcnow()
    value = compute(campaign)
    made = Stamp(print_, computed_at)
    if persist:
        _save(campaign.id, key_hash, made, value)
    _keep(store, key_hash, print_, made, value)
    return _stamped(value, made, stamp)


def _unpickled(snapshot: ReportSnapshot) -> Any:
    """The stored value, or None when this code cannot read it (stored by another version
    whose classes have changed): it is then computed again and replaces the old one."""
    try:
        return pickle.loads(snapshot.payload)
    except Exception:  # any unreadable snapshot is recomputed, never shown
        log.warning(
            "report snapshot %s of campaign %s unreadable", snapshot.key, snapshot.campaign_id
        )
        return None


def _request_fingerprint(campaign: Campaign) -> str:
    """The digest of :func:`fingerprint`, taken once per request (a dashboard page asks for
    four reports: four times the same aggregates over every response otherwise). What this
    request's session flushes or commits clears it; another connection's commit during the
    request shows in the next one."""
    if not has_request_context():
        return _digest(fingerprint(campaign))
    memo: dict[int, str] = g.setdefault(_MEMO, {})
    if campaign.id not in memo:
        memo[campaign.id] = _digest(fingerprint(campaign))
    return memo[campaign.id]


_MEMO = "_report_fingerprints"


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_fingerprints(session: Session, *args: Any) -> None:
    if has_app_context():
        g.pop(_MEMO, None)


def wait_for_refreshes(timeout: float = 60.0) -> None:
    """Wait until this process's background refreshes are done (tests, benchmarks)."""
    store = _store()
    deadline = time.monotonic() + timeout
    while True:
        with store.lock:
            threads = list(store.refreshing.values())
        if not threads:
            return
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if time.monotonic() >= deadline:
            return


def _store() -> _Store:
    store: _Store = current_app.extensions.setdefault(EXTENSION, _Store())
    return store


def _stamped(value: T, made: Stamp, stamp: Callable[[T, Stamp], T] | None) -> T:
    return stamp(value, made) if stamp else value


def _digest(value: Any) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    # SQLite hands timezone-aware columns back naive (in UTC, as stored).
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _keep(store: _Store, key_hash: str, print_: str, made: Stamp, value: Any) -> None:
    size = int(current_app.config.get("REPORT_CACHE_SIZE", 32))
    with store.lock:
        store.entries[(key_hash, print_)] = (time.monotonic(), made, copy.deepcopy(value))
        while len(store.entries) > size:
            store.entries.popitem(last=False)


def _snapshot(campaign_id: int, key_hash: str) -> ReportSnapshot | None:
    return db.session.scalars(
        select(ReportSnapshot).where(
            ReportSnapshot.campaign_id == campaign_id, ReportSnapshot.key == key_hash
        )
    ).first()


def _save(campaign_id: int, key_hash: str, made: Stamp, value: Any) -> None:
    """Replace the stored snapshot, on a connection of its own: the caller's session (and
    its transaction) stays as it was. Two processes saving at once: the later one wins."""

    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    table = ReportSnapshot.__table__
    row = {
        "campaign_id": campaign_id,
        "key": key_hash,
        "fingerprint": made.fingerprint,
        "computed_at": made.computed_at,
        "payload": payload,
    }
    try:
        with write_lock(), db.engine.begin() as conn:
            conn.execute(
                delete(table).where(table.c.campaign_id == campaign_id, table.c.key == key_hash)
            )
            conn.execute(table.insert().values(**row))
            # Every filter an analyst tries is a report of its own: keep the most recent.
            keep = (
                select(table.c.id)
                .where(table.c.campaign_id == campaign_id)
                .order_by(table.c.computed_at.desc(), table.c.id.desc())
                .limit(SNAPSHOTS_PER_CAMPAIGN)
            )
            conn.execute(
                delete(table).where(
                    table.c.campaign_id == campaign_id,
                    table.c.id.not_in(select(keep.subquery().c.id)),
                )
            )
    except IntegrityError:
        # Another process stored the same report in between: its copy is as good.
        log.info(
            "report snapshot %s of campaign %s stored by another process", key_hash, campaign_id
        )


def _refresh_later(
    campaign_id: int,
    key_hash: str,
    lang: str,
    compute: Callable[[Campaign], Any],
    shown: datetime,
) -> None:
    """Compute the fresh value in a background thread (one per report and process), once
    the request that shows the old one has ended: started at once, the computation would
    take the CPU (and the GIL) from the very page it is meant to keep fast."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    store = _store()
    sent = threading.Event()
    with store.lock:
        if key_hash in store.refreshing:
            return
        thread = threading.Thread(
            target=_refresh,
            args=(app, campaign_id, key_hash, lang, compute, shown, sent),
            name=f"report-refresh-{campaign_id}",
            daemon=True,
        )
        store.refreshing[key_hash] = thread
    if has_request_context():
        g.setdefault(_PENDING, []).append(sent)
    else:
        sent.set()
    thread.start()


_PENDING = "_report_refreshes"


@request_tearing_down.connect
def _release_refreshes(sender: Flask, **extra: Any) -> None:
    """The page is rendered (its body goes out as the request ends): let its refreshes run."""
    for sent in g.pop(_PENDING, []):
        sent.set()


def held_refreshes() -> int:
    """Background refreshes this request has queued and holds until it ends (tests)."""
    if not has_request_context():
        return 0
    return sum(not sent.is_set() for sent in g.get(_PENDING, []))


def _refresh(
    app: Flask,
    campaign_id: int,
    key_hash: str,
    lang: str,
    compute: Callable[[Campaign], Any],
    shown: datetime,
    sent: threading.Event,
) -> None:
    sent.wait(REFRESH_WAIT_SECONDS)
    with contextlib.suppress(AttributeError, OSError):  # Linux: a thread has a nice of its own
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    with app.app_context(), force_locale(lang):
        try:
            campaign = db.session.get(Campaign, campaign_id)
            if campaign is None:
                return
            print_ = _digest(fingerprint(campaign))
            snapshot = _snapshot(campaign_id, key_hash)
            if (
                snapshot is not None
                and snapshot.fingerprint == print_
                and _aware(snapshot.computed_at) > shown
            ):
                return  # another process got there first
            made = Stamp(print_, utcnow())
            value = compute(campaign)
            _save(campaign_id, key_hash, made, value)
            _keep(_store(), key_hash, print_, made, value)
        except Exception:  # a failed refresh must not kill the worker; the next view retries
            log.exception("refreshing report %s of campaign %s failed", key_hash, campaign_id)
        finally:
            db.session.remove()
            store = _store()
            with store.lock:
                store.refreshing.pop(key_hash, None)
