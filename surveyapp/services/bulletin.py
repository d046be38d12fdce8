"""The monthly desk bulletin: one A4 page per commune centre, printed and posted at the desk.

A commune centre is the public-administration service centre of a commune-level unit: the
desks (service points) of that unit. For one month its bulletin shows

- the number of desk ratings (QR code and kiosk) and the share "good or very good" beside the
  Đồng Nai plan's 80 % standard, in total and per desk — counted by
  :func:`surveyapp.services.desk_standard.good_counts`, as on the desk standard page;
- the reasons most often given for a rating of 3 or lower, counted by
  :func:`surveyapp.services.comments.reason_counts`;
- the three most recent comments, masked by :mod:`surveyapp.services.comments`;
- the share good in each of the last 12 months (an SVG chart in HTML, drawn in the PDF).

Months are calendar months of local days (:mod:`surveyapp.localtime`), as the desk standard's
windows are: a rating at 06:30 on 1 December in Đồng Nai (23:30 UTC on 30 November) is
December's. Ratings held back by abuse detection (``Response.held``) are in none of the page's
numbers — ratings, share, reasons, comments — until released. A month without
ratings still has a bulletin: it says there were none. Everything that could grow (unit and
desk names, comments, reasons, desks) is cut to a bounded size so the page stays one page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select

from surveyapp import formatting, localtime
from surveyapp.data import ratings
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.responses import Response
from surveyapp.models.units import Unit
from surveyapp.services import ServiceError, comments, desk_standard, qr
from surveyapp.services.desk_standard import STANDARD, StandardRow

MONTHS = 12  # the trend's length, this month included
TOP_REASONS = 5
RECENT_COMMENTS = 3
COMMENT_CHARS = 240  # a longer comment is cut (after masking) so the page stays one page
NAME_CHARS = 120
MAX_DESKS = 6  # more desks are summed up in one line
FORMATS = ("html", "pdf")
CSS = Path(__file__).resolve().parents[1] / "static" / "css" / "bulletin.css"
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


@dataclass(frozen=True)
class MonthPoint:
    month: date  # its first day
    ratings: int
    good: int

    @property
    def share(self) -> float | None:
        return self.good / self.ratings if self.ratings else None


@dataclass(frozen=True)
class ReasonLine:
    label: str
    count: int  # low ratings that gave this reason
    share: float | None  # of the low ratings


@dataclass(frozen=True)
class CommentLine:
    submitted_at: datetime
    desk: str
    rating: int | None
    text: str  # masked, and cut to COMMENT_CHARS


@dataclass(frozen=True)
class Bulletin:
    unit_id: int
    unit_code: str
    unit_name: str
    month: date  # first day
    campaign: str | None  # None: every campaign's desk ratings
    total: StandardRow
    desks: list[StandardRow]  # at most MAX_DESKS, busiest first
    other_desks: int  # desks left out of ``desks`` (their ratings are in ``total``)
    low: int  # ratings of 3 or lower (asked "why?")
    reasons: list[ReasonLine]
    comments: list[CommentLine]
    trend: list[MonthPoint]  # oldest first, this month last
    made: date  # the day the bulletin was made
    lang: str  # the language its numbers and dates are written in
    standard: float = STANDARD

    @property
    def last_day(self) -> date:
        return _next_month(self.month) - timedelta(days=1)

    @property
    def above_standard(self) -> bool | None:
        """ "Trên 80%": strictly above the standard; None without ratings."""
        share = self.total.share
        return None if share is None else share > self.standard

    def to_dict(self) -> dict[str, Any]:
        """The page's numbers for machines (``/api/v1/.../bulletin``): shares as fractions,
        the month as local calendar month ``YYYY-MM`` with its UTC bounds, comments masked
        and their moments in the installation's time zone."""
        start, until = localtime.month(self.month)
        zone = localtime.zone()
        return {
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "month": f"{self.month:%Y-%m}",
            "time_zone": str(zone.key),
            "from": start.isoformat(),
            "until": until.isoformat(),
            "campaign": self.campaign,
            "standard": self.standard,
            "above_standard": self.above_standard,
            "total": _row_dict(self.total),
            "desks": [_row_dict(r) for r in self.desks],
            "other_desks": self.other_desks,
            "low": self.low,
            "reasons": [
                {"label": r.label, "count": r.count, "share": r.share} for r in self.reasons
            ],
            "comments": [
                {
                    "submitted_at": localtime.as_utc(c.submitted_at).astimezone(zone).isoformat(),
                    "desk": c.desk,
                    "rating": c.rating,
                    "text": c.text,
                }
                for c in self.comments
            ],
            "trend": [
                {
                    "month": f"{p.month:%Y-%m}",
                    "ratings": p.ratings,
                    "good": p.good,
                    "share": p.share,
                }
                for p in self.trend
            ],
            "made": self.made.isoformat(),
        }


def _row_dict(row: StandardRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "ratings": row.ratings,
        "good": row.good,
        "share": row.share,
        "transactions": row.transactions,
        "per_100": row.per_100,
    }


def _next_month(first: date) -> date:
    return localtime.next_month(first)


def _months_back(first: date, count: int) -> date:
    index = first.year * 12 + first.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def parse_month(text: str | None) -> date:
    """``"2026-11"`` → 1 November 2026; anything else is a clear :class:`ServiceError`."""
    match = _MONTH.fullmatch((text or "").strip())
    if (
        match is None
        or not 1 <= int(match.group(2)) <= 12
        or not 2000 <= int(match.group(1)) <= 2100
    ):
        raise ServiceError(
            _("Month: write the month as YYYY-MM, e.g. 2026-11 (got %(value)s).", value=text or "")
        )
    return date(int(match.group(1)), int(match.group(2)), 1)


def unit_by_code(code: str) -> Unit:
    """The unit with this official code, which must hold at least one desk."""
    unit = db.session.scalar(select(Unit).where(Unit.code == code.strip()))
    if unit is None:
        raise ServiceError(_("No unit has the official code %(code)s.", code=code.strip()))
    if not unit.service_points:
        raise ServiceError(
            _(
                "%(unit)s (%(code)s) has no desk: a bulletin is made for a commune centre, "
                "the unit that holds the desks.",
                unit=unit.name,
                code=unit.code,
            )
        )
    return unit


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _campaigns(desk_ids: list[int], start: datetime, until: datetime) -> list[Campaign]:
    ids = db.session.scalars(
        select(Response.campaign_id)
        .where(
            Response.service_point_id.in_(desk_ids),
            Response.submitted_at >= start,
            Response.submitted_at < until,
        )
        .distinct()
    )
    return [c for c in (db.session.get(Campaign, i) for i in ids) if c is not None]


def _reasons_and_comments(
    campaigns: list[Campaign], f: comments.CommentFilters, lang: str
) -> tuple[int, list[ReasonLine], list[CommentLine]]:
    low = 0
    counted: dict[str, int] = {}
    recent: list[comments.Row] = []
    for campaign in campaigns:
        counts = comments.reason_counts(campaign, f, lang)
        if counts is not None:
            low += counts.total.low
            for value, label in counts.reasons:
                given = counts.total.counts.get(value, 0)
                if given:
                    counted[label] = counted.get(label, 0) + given
        found = 0
        for row in comments.all_rows(campaign, f, lang):  # newest first, masked
            if row.comment.strip():
                recent.append(row)
                found += 1
                if found == RECENT_COMMENTS:
                    break
    top = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]
    reasons = [ReasonLine(_cut(label, NAME_CHARS), n, n / low if low else None) for label, n in top]
    recent.sort(key=lambda r: (r.submitted_at, r.response_id), reverse=True)
    lines = [
        CommentLine(
            r.submitted_at, _cut(r.desk, NAME_CHARS), r.rating, _cut(r.comment, COMMENT_CHARS)
        )
        for r in recent[:RECENT_COMMENTS]
    ]
    return low, reasons, lines


def build(unit: Unit, month: date, campaign: Campaign | None = None, lang: str = "vi") -> Bulletin:
    """The bulletin of ``unit``'s desks for ``month`` (its first day); ``campaign`` None reads
    the desk ratings of every campaign, as the alerts do."""
    desks = sorted(unit.service_points, key=lambda d: (d.name, d.id))
    if not desks:
        raise ServiceError(_("%(unit)s has no desk.", unit=unit.name))
    desk_ids = [d.id for d in desks]
    first = _months_back(month, MONTHS - 1)
    last = _next_month(month) - timedelta(days=1)
    frame = desk_standard.ratings_between(campaign, first, last, desk_ids)
    # Stored in UTC (SQLite returns it without a zone): the month of the local day.
    stamps = localtime.local_moments(frame["submitted_at"])
    key = stamps.dt.year * 100 + stamps.dt.month
    by_month = desk_standard.good_counts(frame, key)
    trend = []
    point = first
    while point <= month:
        n, good = by_month.get(point.year * 100 + point.month, (0, 0))
        trend.append(MonthPoint(point, n, good))
        point = _next_month(point)
    this_month = frame[(key == month.year * 100 + month.month).to_numpy()]
    per_desk = desk_standard.good_counts(this_month, "service_point_id")
    volumes = ratings.transactions_between(month, last)
    rows = []
    for d in desks:
        n, good = per_desk.get(d.id, (0, 0))
        if n or d.active:
            rows.append(
                StandardRow(
                    _cut(d.name, NAME_CHARS), unit.name, n, good, volumes.get(d.id), unit.id
                )
            )
    rows.sort(key=lambda r: (-r.ratings, r.name))
    known = [volumes[d] for d in desk_ids if d in volumes]
    total = StandardRow(
        _cut(unit.name, NAME_CHARS),
        unit.name,
        sum(r.ratings for r in rows),
        sum(r.good for r in rows),
        sum(known) if known else None,
        unit.id,
    )
    start, until = localtime.month(month)
    chosen = [campaign] if campaign is not None else _campaigns(desk_ids, start, until)
    # Held ratings are out of the reasons and comments too, as they are out of the counts.
    f = comments.CommentFilters(
        desk_ids=tuple(desk_ids), since=start, until=until, include_held=False
    )
    low, reasons, recent = _reasons_and_comments(chosen, f, lang)
    return Bulletin(
        unit_id=unit.id,
        unit_code=unit.code,
        unit_name=_cut(unit.name, NAME_CHARS),
        month=month,
        campaign=campaign.name if campaign is not None else None,
        total=total,
        desks=rows[:MAX_DESKS],
        other_desks=max(0, len(rows) - MAX_DESKS),
        low=low,
        reasons=reasons,
        comments=recent,
        trend=trend,
        made=localtime.today(),
        lang=lang,
    )


def filename(item: Bulletin, fmt: str) -> str:
    code = re.sub(r"[^0-9A-Za-z._-]", "_", item.unit_code)  # a safe header value
    return f"ban-tin-{code}-{item.month:%Y-%m}.{fmt}"


def month_label(month: date) -> str:
    """ "11/2026" in both languages (a posted sheet reads the same to everyone)."""
    return f"{month.month:02d}/{month.year}"


# ---------------------------------------------------------------------------------------------
# The trend chart (SVG): one bar per month, the 80 % line, the number of ratings under each bar.

CHART_W, CHART_H = 640, 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 8, 14, 44


def trend_svg(item: Bulletin) -> str:
    """A small bar chart of the share good per month, readable without colour: each bar
    carries its percentage, and the same numbers are in the page's table."""
    title = _("Share of ratings good or very good, last %(n)s months", n=MONTHS)
    desc = _(
        "One bar per month; the dashed line is the %(standard)s standard; under each month, "
        "the number of ratings. A month without ratings has no bar.",
        standard=formatting.share(item.standard, 0, lang=item.lang),
    )
    plot_w = CHART_W - _LEFT - _RIGHT
    plot_h = CHART_H - _TOP - _BOTTOM
    slot = plot_w / len(item.trend)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_W} {CHART_H}" '
        f'class="trend" role="img" aria-labelledby="trend-title trend-desc" '
        f'font-family="DejaVu Sans, Noto Sans, Arial, sans-serif" font-size="11">',
        f'<title id="trend-title">{escape(title)}</title>',
        f'<desc id="trend-desc">{escape(desc)}</desc>',
    ]

    def y(share: float) -> float:
        return _TOP + plot_h * (1 - share)

    for tick in (0.0, 0.5, 1.0):  # the standard's own label is drawn with its line
        out.append(
            f'<line x1="{_LEFT}" x2="{CHART_W - _RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            'stroke="#c8ccd0" stroke-width="1"/>'
            f'<text x="{_LEFT - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="#333">'
            f"{escape(formatting.share(tick, 0, lang=item.lang))}</text>"
        )
    for i, point in enumerate(item.trend):
        x = _LEFT + i * slot
        center = x + slot / 2
        count = formatting.number(point.ratings, 0, lang=item.lang)
        if point.share is not None:
            top = y(point.share)
            percent = formatting.number(point.share * 100, 0, lang=item.lang)
            fill = "#1f5f99" if point.share > item.standard else "#b34700"
            out.append(
                f'<rect x="{x + slot * 0.18:.1f}" y="{top:.1f}" width="{slot * 0.64:.1f}" '
                f'height="{_TOP + plot_h - top:.1f}" fill="{fill}"/>'
                f'<text x="{center:.1f}" y="{top - 3:.1f}" text-anchor="middle" '
                f'font-size="9" fill="#111">{escape(percent)}</text>'
            )
        out.append(
            f'<text x="{center:.1f}" y="{CHART_H - _BOTTOM + 14}" text-anchor="middle" '
            f'fill="#111">{point.month.month:02d}/{point.month.year % 100:02d}</text>'
            f'<text x="{center:.1f}" y="{CHART_H - _BOTTOM + 28}" text-anchor="middle" '
            f'font-size="9" fill="#333">n={escape(count)}</text>'
        )
    line = y(item.standard)
    out.append(
        f'<line x1="{_LEFT}" x2="{CHART_W - _RIGHT}" y1="{line:.1f}" y2="{line:.1f}" '
        'stroke="#111" stroke-width="1.5" stroke-dasharray="6 4"/>'
        f'<text x="{_LEFT - 4}" y="{line + 4:.1f}" text-anchor="end" font-weight="bold" '
        f'fill="#111">{escape(formatting.share(item.standard, 0, lang=item.lang))}</text>'
    )
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# HTML and PDF.


def convenience_note(item: Bulletin) -> str:
    from surveyapp.services.bulletin_pdf import convenience_note as note

    return note(item)


def to_html(item: Bulletin, standalone: bool = True, **links: str) -> str:
    """The bulletin page. ``standalone`` (the command's file) carries its own style sheet;
    in the dashboard the page links the same sheet from ``static/``."""
    from markupsafe import Markup

    return render_template(
        "bulletin/bulletin.html",
        item=item,
        chart=Markup(trend_svg(item)),
        month=month_label(item.month),
        inline_css=CSS.read_text(encoding="utf-8") if standalone else None,
        links=links,
        note=convenience_note(item),
    )


def to_pdf(item: Bulletin) -> bytes:
    from surveyapp.services.bulletin_pdf import draw

    return draw(item, qr.font_path(False), qr.font_path(True))


def render(item: Bulletin, fmt: str, **links: str) -> bytes:
    if fmt not in FORMATS:
        raise ServiceError(_("Format: use html or pdf."))
    if fmt == "pdf":
        return to_pdf(item)
    return to_html(item, standalone=True, **links).encode("utf-8")


__all__ = [
    "FORMATS",
    "Bulletin",
    "build",
    "filename",
    "month_label",
    "parse_month",
    "render",
    "trend_svg",
    "unit_by_code",
]
