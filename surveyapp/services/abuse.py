"""Abuse without friction: a honeypot, and flags the dashboard shows beside a response.

Nothing here stores an IP address. Per-client bursts are counted in process memory under a
keyed hash of the address that lives only as long as the counting window; what is stored
with a response is the flag name alone.

Flags
-----
``burst``          the desk received at least ``BURST_DESK_COUNT`` ratings within
                   ``BURST_WINDOW_SECONDS`` (a queue of people is fine; a finger on a button is not)
``burst_client``   the same client sent at least ``BURST_CLIENT_COUNT`` ratings within the
                   window (not used for kiosks, where every rating comes from one tablet)
``straight_line``  at least ``STRAIGHT_LINE_MIN`` rating items answered, all with one value

A response with a burst flag is stored *held*: kept, listed for analysts, and left out of
every estimate until an analyst releases it (:func:`release`, audited). Straight-lining is
only shown: a citizen may well be satisfied with everything.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Text, cast, func, or_, select, true
from sqlalchemy.sql import ColumnElement

from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign, Channel
from surveyapp.models.responses import Response, ResponseStatus
from surveyapp.models.units import ServicePoint
from surveyapp.services import audit

HONEYPOT_FIELD = "website"

FLAG_BURST = "burst"
FLAG_BURST_CLIENT = "burst_client"
FLAG_STRAIGHT_LINE = "straight_line"
HELD_FLAGS = frozenset({FLAG_BURST, FLAG_BURST_CLIENT})


# Only desk ratings are held: an invitation answers once by construction, and households
# answering their codes from one office's network must not drop out of the probability sample.
HELD_CHANNELS = frozenset({Channel.QR, Channel.KIOSK})


def holds(flags: Iterable[str], channel: Channel) -> bool:
    """Whether a response with ``flags`` on ``channel`` is held out of the estimates."""
    return channel in HELD_CHANNELS and not HELD_FLAGS.isdisjoint(flags)


def honeypot_filled(form: Mapping[str, str]) -> bool:
    return bool((form.get(HONEYPOT_FIELD) or "").strip())


def straight_lined(answers: Mapping[str, int | str], rating_codes: Iterable[str]) -> bool:
    values = [answers[c] for c in rating_codes if c in answers]
    minimum = int(current_app.config["STRAIGHT_LINE_MIN"])
    return len(values) >= minimum and len(set(values)) == 1


class SlidingCounter:
    """Events per key within a time window, in this process's memory (thread-safe)."""

    def __init__(self) -> None:
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window: float, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.setdefault(key, deque())
            events.append(now)
            while events and events[0] <= now - window:
                events.popleft()
            if len(self._events) > 10_000:  # forget idle keys so memory stays bounded
                for k in [k for k, v in self._events.items() if not v or v[-1] <= now - window]:
                    del self._events[k]
            return len(events)


class SharedCounter:
    """Events per key within a time window in the rate limits' shared storage (Redis), so
    every gunicorn worker sees the whole burst, not its share of it. Falls back to this
    process's memory while the storage cannot be reached: a citizen's answer is never
    refused because the counter is down."""

    def __init__(self, uri: str, prefix: str) -> None:
        self._prefix = f"{prefix}surveyapp-burst"
        self._fallback = SlidingCounter()
        self._redis: Any = None
        self._strategy: Any = None
        if uri.startswith(("redis://", "rediss://", "unix://")):
            import redis

            self._redis = redis.Redis.from_url(uri, socket_timeout=1, socket_connect_timeout=1)
        else:  # any other storage Flask-Limiter knows (memcached, mongodb, ...)
            from limits.storage import storage_from_string
            from limits.strategies import MovingWindowRateLimiter

            self._strategy = MovingWindowRateLimiter(storage_from_string(uri))

    def hit(self, key: str, window: float, now: float | None = None) -> int:
        try:
            if self._redis is not None:
                return self._redis_hit(f"{self._prefix}/{key}", window)
            from limits import RateLimitItemPerSecond

            item = RateLimitItemPerSecond(1_000_000, max(1, round(window)))
            self._strategy.hit(item, self._prefix, key)
            stats = self._strategy.get_window_stats(item, self._prefix, key)
            return int(item.amount - stats.remaining)
        except Exception:  # any storage error: count here rather than fail the citizen
            current_app.logger.warning("burst counter storage unreachable; counting locally")
            return self._fallback.hit(key, window, now)

    def _redis_hit(self, key: str, window: float) -> int:
        # One round trip on the submit path: drop events older than the window, add this
        # one, count, and let an idle key expire.
        now = time.time()
        pipe = self._redis.pipeline(transaction=True)
        pipe.zremrangebyscore(key, 0, now - window)
        pipe.zadd(key, {f"{now:.6f}:{secrets.token_hex(4)}": now})
        pipe.zcard(key)
        pipe.expire(key, int(window) + 1)
        return int(pipe.execute()[2])


def _counter() -> SlidingCounter | SharedCounter:
    counter = current_app.extensions.get("surveyapp_burst_counter")
    if counter is None:
        uri = str(current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
        if uri.startswith("memory"):
            counter = SlidingCounter()
        else:
            prefix = str(current_app.config.get("RATELIMIT_KEY_PREFIX") or "")
            counter = SharedCounter(uri, prefix)
        current_app.extensions["surveyapp_burst_counter"] = counter
    return counter


def client_key(address: str) -> str:
    """A keyed hash of the client address, never stored, only used as a counter key."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()[:32]


def flags_for(
    answers: Mapping[str, int | str],
    rating_codes: Iterable[str],
    desk_id: int | None,
    address: str | None,
) -> list[str]:
    """The flags a new submission gets; counts it towards the burst windows."""
    config = current_app.config
    window = float(config["BURST_WINDOW_SECONDS"])
    flags = []
    counter = _counter()
    if desk_id is not None and counter.hit(f"desk:{desk_id}", window) >= int(
        config["BURST_DESK_COUNT"]
    ):
        flags.append(FLAG_BURST)
    if address is not None and counter.hit(f"client:{client_key(address)}", window) >= int(
        config["BURST_CLIENT_COUNT"]
    ):
        flags.append(FLAG_BURST_CLIENT)
    if straight_lined(answers, rating_codes):
        flags.append(FLAG_STRAIGHT_LINE)
    return flags


@dataclass(frozen=True)
class Flagged:
    """A flagged response as the analysts' list shows it (no answers, no address)."""

    id: int
    submitted_at: datetime
    channel: str
    desk: str | None
    flags: list[str]
    held: bool


def flagged(campaign: Campaign, limit: int = 1000) -> tuple[list[Flagged], int]:
    """The campaign's flagged final responses, newest first (at most ``limit``), and how
    many of all its final responses are held out."""
    held_count = _held_count(campaign)
    # Flags are a JSON list, which SQLite and PostgreSQL query differently; as text, a
    # response without flags is "[]" in both, so the database skips those rows.
    rows = db.session.execute(
        select(
            Response.id,
            Response.submitted_at,
            Response.channel,
            ServicePoint.name,
            Response.flags,
            Response.held,
        )
        .outerjoin(ServicePoint, ServicePoint.id == Response.service_point_id)
        .where(
            Response.campaign_id == campaign.id,
            Response.status == ResponseStatus.FINAL,
            or_(Response.held.is_(True), cast(Response.flags, Text) != "[]"),
        )
        .order_by(Response.held.desc(), Response.id.desc())
        .limit(limit)
    )
    items: list[Flagged] = []
    for rid, at, channel, desk, flags, held in rows:
        if not flags:
            continue
        items.append(Flagged(rid, at, str(channel), desk, list(flags), bool(held)))
        if len(items) >= limit:
            break
    return items, held_count


def release(response: Response) -> bool:
    """Count a held response in the estimates from now on (audited); False if it was not
    held. The caller commits."""
    if not response.held:
        return False
    response.held = False
    db.session.flush()
    audit.record("release", "response", response.id, before={"held": True}, after={"held": False})
    return True


def held_out(campaign: Campaign, channels: Iterable[Channel]) -> int:
    """How many of the campaign's final responses on ``channels`` are held out."""
    return _held_count(campaign, Response.channel.in_(list(channels)))


def _held_count(campaign: Campaign, *where: ColumnElement[bool]) -> int:
    """How many of the campaign's final responses (``where``) are held out: looked up
    through the partial index ix_responses_held first. Written as one filter, SQLite's
    planner took the campaign's (status, channel) index and read every rating of the
    campaign on every report (60 ms at 100k)."""
    held = select(Response.id).where(
        Response.campaign_id == campaign.id,
        # "= true", not "IS true": the partial index serves only the same expression.
        Response.held == true(),
    )
    count = db.session.scalar(
        select(func.count()).where(
            Response.id.in_(held), Response.status == ResponseStatus.FINAL, *where
        )
    )
    return int(count or 0)
