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
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping

from flask import current_app

HONEYPOT_FIELD = "website"

FLAG_BURST = "burst"
FLAG_BURST_CLIENT = "burst_client"
FLAG_STRAIGHT_LINE = "straight_line"
FLAGS = (FLAG_BURST, FLAG_BURST_CLIENT, FLAG_STRAIGHT_LINE)


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


def _counter() -> SlidingCounter:
    counter: SlidingCounter = current_app.extensions.setdefault(
        "surveyapp_burst_counter", SlidingCounter()
    )
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
