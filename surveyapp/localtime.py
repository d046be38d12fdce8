"""Days and months as a person at the desk reads them: in the installation's time zone.

Moments are stored in UTC (``submitted_at``; PostgreSQL keeps the zone, SQLite hands the
moment back naive, still UTC). A day or a month a person names — "1 December", "11/2026",
"the last 30 days" — is a local one (``BABEL_DEFAULT_TIMEZONE``, Asia/Ho_Chi_Minh in Đồng Nai):
a rating given at 06:30 on 1 December in Đồng Nai is 23:30 UTC on 30 November and belongs to
December. Every feature that cuts days or months (the desk standard, the bulletin, the alerts,
the periodic reports) converts through here, so they cannot drift apart:

- :func:`day_start`, :func:`days`, :func:`month` turn local days into half-open ``[start,
  until)`` UTC instants for a ``WHERE submitted_at >= start AND submitted_at < until``. They are
  timezone-aware UTC: PostgreSQL compares them exactly, and SQLite (which writes a datetime
  parameter's wall-clock digits and drops its zone) compares UTC digits with UTC digits;
- :func:`local_date` and :func:`local_moments` read stored moments back as local days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from flask import current_app, has_app_context

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"


def zone() -> ZoneInfo:
    """The installation's time zone (``BABEL_DEFAULT_TIMEZONE``), Asia/Ho_Chi_Minh outside
    an application."""
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(str(name or DEFAULT_ZONE))


def as_utc(moment: datetime) -> datetime:
    """A stored moment as an aware UTC datetime (a naive one is UTC, as SQLite returns it)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def local_date(moment: datetime) -> date:
    """The local day a stored moment falls on."""
    return as_utc(moment).astimezone(zone()).date()


def today() -> date:
    """Today, in the installation's time zone (not the server's)."""
    return datetime.now(zone()).date()


def day_start(day: date) -> datetime:
    """The first instant of the local ``day``, in UTC."""
    return datetime.combine(day, time.min, zone()).astimezone(UTC)


def days(first: date, last: date) -> tuple[datetime, datetime]:
    """``[start, until)`` in UTC covering the local days ``first`` to ``last`` inclusive."""
    return day_start(first), day_start(last + timedelta(days=1))


def next_month(first: date) -> date:
    """The first day of the month after the one ``first`` is in."""
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def month(first: date) -> tuple[datetime, datetime]:
    """``[start, until)`` in UTC covering the local calendar month ``first`` is in."""
    start = first.replace(day=1)
    return day_start(start), day_start(next_month(start))


class BadHoliday(ValueError):
    """An entry of ``HOLIDAYS`` that is not a YYYY-MM-DD date (``value``)."""

    def __init__(self, value: str) -> None:
        super().__init__(f"HOLIDAYS: {value!r} is not a date (YYYY-MM-DD)")
        self.value = value


def holidays() -> frozenset[date]:
    """The installation's non-working weekdays (``HOLIDAYS``: ISO dates, a list or a
    comma-separated text). A value that is not a date is a :class:`BadHoliday`."""
    raw = current_app.config.get("HOLIDAYS") if has_app_context() else None
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    out = set()
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            out.add(date.fromisoformat(text))
        except ValueError:
            raise BadHoliday(text) from None
    return frozenset(out)


def local_moments(stamps: pd.Series) -> pd.Series:
    """A column of stored moments (aware, or naive UTC from SQLite) as local timestamps:
    ``.dt.date``, ``.dt.month`` … then read local days and months."""
    return pd.to_datetime(stamps, utc=True).dt.tz_convert(zone())


__all__ = [
    "DEFAULT_ZONE",
    "BadHoliday",
    "as_utc",
    "day_start",
    "days",
    "holidays",
    "local_date",
    "local_moments",
    "month",
    "next_month",
    "today",
    "zone",
]
