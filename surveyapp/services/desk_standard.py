"""The desk standard: each desk's and commune centre's share of "good or very good" ratings
over a rolling window, beside the Đồng Nai plan's 80 % standard.

Kế hoạch of Đồng Nai (shared/seeds/001): "Trên 80% chất lượng giải quyết TTHC của tỉnh được
đánh giá đạt mức tốt trở lên". Desk ratings are a convenience sample (DESIGN §4): the page
describes them, with the number of ratings and how many visitors were asked (ratings per 100
transactions), and draws no conclusion.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from flask_babel import gettext as _
from sqlalchemy import select

from surveyapp import localtime
from surveyapp.analysis import alerts as rules
from surveyapp.data import ratings
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.units import ServicePoint
from surveyapp.services import ServiceError

STANDARD = rules.STANDARD
DEFAULT_DAYS = 30
WINDOW_DAYS = (7, 30, 90, 365)


@dataclass(frozen=True)
class StandardRow:
    name: str
    unit: str
    ratings: int
    good: int
    transactions: float | None
    unit_id: int | None = None  # the commune centre's unit (its bulletin's address)

    @property
    def share(self) -> float | None:
        return self.good / self.ratings if self.ratings else None

    @property
    def gap(self) -> float | None:
        """Share minus the standard, in percentage points."""
        return None if self.share is None else (self.share - STANDARD) * 100

    @property
    def per_100(self) -> float | None:
        """Ratings per 100 transactions: how often the QR sheet is offered."""
        if not self.transactions:
            return None
        return 100 * self.ratings / self.transactions


@dataclass(frozen=True)
class StandardTable:
    start: date
    end: date
    days: int
    desks: list[StandardRow]
    units: list[StandardRow]


def window(days: int | str | None, end: date | str | None, campaign: Campaign) -> tuple[int, date]:
    """Parse the window's length and last day; bad input is a :class:`ServiceError`."""
    if days in (None, ""):
        length = DEFAULT_DAYS
    else:
        try:
            length = int(days)
        except ValueError:
            raise ServiceError(_("Window: choose 7, 30, 90 or 365 days.")) from None
        if length not in WINDOW_DAYS:
            raise ServiceError(_("Window: choose 7, 30, 90 or 365 days."))
    if end in (None, ""):
        # A closed campaign's window ends at its last rating, so its page is never empty.
        last = ratings.last_rating_day(campaign)
        today = localtime.today()
        last_day = min(last or today, today)
    elif isinstance(end, date):
        last_day = end
    else:
        try:
            last_day = date.fromisoformat(end)
        except ValueError:
            raise ServiceError(_("Window: the last day must be a date (YYYY-MM-DD).")) from None
    return length, last_day


def ratings_between(
    campaign: Campaign | None,
    start: date,
    last: date,
    desk_ids: Collection[int] | None = None,
) -> pd.DataFrame:
    """The desk ratings from day ``start`` to day ``last`` (inclusive; local days of the
    installation's time zone, :mod:`surveyapp.localtime`), of one campaign or of all
    (``None``), of the given desks or of all."""
    since, until = localtime.days(start, last)
    frame = ratings.rating_frame(campaign, since=since, until=until)
    if desk_ids is not None:
        frame = frame[frame["service_point_id"].isin(list(desk_ids))]
    return frame


def good_counts(frame: pd.DataFrame, by: str | pd.Series) -> dict[object, tuple[int, int]]:
    """Per group of ``by`` (a column of ``frame`` or a series beside it): the number of
    ratings and how many were "good or very good" — the two numbers every share beside the
    standard is made of (desk standard page, bulletin)."""
    if frame.empty:
        return {}
    counted = frame.groupby(by)["good"].agg(["size", "sum"])
    return {key: (int(row["size"]), int(row["sum"])) for key, row in counted.iterrows()}


def desk_standard(
    campaign: Campaign, days: int = DEFAULT_DAYS, end: date | None = None
) -> StandardTable:
    """Every desk of the campaign's units, and every unit holding a desk, over ``days`` days
    ending with ``end`` (inclusive; local days, :mod:`surveyapp.localtime`)."""
    last = end or localtime.today()
    start = last - timedelta(days=days - 1)
    frame = ratings_between(campaign, start, last)
    volumes = ratings.transactions_between(start, last)
    per_desk = {int(str(k)): v for k, v in good_counts(frame, "service_point_id").items()}
    campaign_units = {u.id for u in campaign.units}
    subtree: set[int] = set()
    for unit in campaign.units:
        todo = [unit]
        while todo:
            node = todo.pop()
            subtree.add(node.id)
            todo.extend(node.children)
    desks = [
        d
        for d in db.session.scalars(select(ServicePoint))
        if d.id in per_desk or (d.active and (d.unit_id in subtree or not campaign_units))
    ]
    desks.sort(key=lambda d: (d.unit.name, d.name, d.id))
    desk_rows = []
    unit_totals: dict[int, list[float]] = {}
    unit_names: dict[int, str] = {}
    for desk in desks:
        n, good = per_desk.get(desk.id, (0, 0))
        transactions = volumes.get(desk.id)
        desk_rows.append(StandardRow(desk.name, desk.unit.name, n, good, transactions))
        total = unit_totals.setdefault(desk.unit_id, [0, 0, 0.0, 0])
        total[0] += n
        total[1] += good
        if transactions is not None:
            total[2] += transactions
            total[3] += 1
        unit_names[desk.unit_id] = desk.unit.name
    unit_rows = [
        StandardRow(
            unit_names[uid],
            unit_names[uid],
            int(t[0]),
            int(t[1]),
            t[2] if t[3] else None,
            uid,
        )
        for uid, t in sorted(unit_totals.items(), key=lambda kv: unit_names[kv[0]])
    ]
    return StandardTable(start, last, days, desk_rows, unit_rows)
