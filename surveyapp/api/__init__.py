"""JSON API under /api/v1 for machines (bearer tokens) and logged-in analysts.

Only the OpenAPI document is public.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, jsonify, request

from surveyapp import localtime
from surveyapp.auth import public_endpoint, require_roles
from surveyapp.extensions import csrf, db
from surveyapp.i18n import current_language
from surveyapp.models.campaigns import Campaign
from surveyapp.services import (
    ServiceError,
    bulletin,
    campaigns,
    exports,
    levels,
    periodic,
    reports,
    sae,
)

bp = Blueprint("api", __name__)
require_roles(bp, "api")
# Machines authenticate with a bearer token, not a session cookie: no CSRF exposure.
csrf.exempt(bp)


# The query parameters each operation takes (as the OpenAPI document lists them). Anything else
# is refused: a misspelt ``?smaple=convenience`` would otherwise silently give the default.
QUERY_PARAMETERS: dict[str, frozenset[str]] = {
    "api.get_results": frozenset({"sample", "by"}),
    "api.get_responses": frozenset({"sample", "format"}),
    "api.get_small_area": frozenset({"method", "benchmark"}),
    "api.get_differences": frozenset({"by", "variable"}),
    "api.get_bulletin": frozenset({"unit", "month"}),
    "api.get_periodic": frozenset({"period"}),
}


@bp.before_request
def refuse_unknown_parameters() -> None:
    if request.endpoint == "api.openapi":
        return
    unknown = sorted(set(request.args) - QUERY_PARAMETERS.get(request.endpoint or "", frozenset()))
    if unknown:
        abort(400, f"unknown query parameter: {', '.join(unknown)}")


@bp.route("/openapi.json")
@public_endpoint("api.openapi")
def openapi() -> Any:
    from surveyapp.api.openapi import document

    return jsonify(document())


@bp.route("/campaigns")
def list_campaigns() -> Any:
    return jsonify(campaigns.summaries())


# Campaign ids are 32-bit integers in every database; a longer number names no campaign, and
# passing it on would overflow the driver (SQLite) or the column type (PostgreSQL): a 500.
MAX_ID = 2**31 - 1


def _campaign(campaign_id: int) -> Campaign:
    if not 1 <= campaign_id <= MAX_ID:
        abort(404)
    return db.get_or_404(Campaign, campaign_id)


@bp.route("/campaigns/<int:campaign_id>")
def get_campaign(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    summary = next((c for c in campaigns.summaries() if c["id"] == campaign.id), None)
    if summary is None:
        abort(404)
    return jsonify(summary)


@bp.route("/campaigns/<int:campaign_id>/targets")
def get_targets(campaign_id: int) -> Any:
    return jsonify(campaigns.target_rows(_campaign(campaign_id)))


T = TypeVar("T")


def _or_400(compute: Callable[[], T]) -> T:
    """What the service computes, or a 400 carrying its message when it refuses the request."""
    try:
        return compute()
    except ServiceError as exc:
        abort(400, str(exc))


def _choice(name: str, allowed: list[str], default: str | None) -> str | None:
    value = request.args.get(name, default)
    if value is not None and value not in allowed:
        abort(400, f"{name}: use one of {', '.join(allowed)}")
    return value


@bp.route("/campaigns/<int:campaign_id>/results")
def get_results(campaign_id: int) -> Any:
    """Estimates per item and index node, as `surveyapp report --format json`."""
    campaign = _campaign(campaign_id)
    sample = _choice("sample", list(reports.SAMPLES), "probability")
    by = request.args.get("by") or None
    report = _or_400(lambda: reports.build(campaign, sample=sample or "probability", by=by))
    return jsonify(report.to_dict())


@bp.route("/campaigns/<int:campaign_id>/differences")
def get_differences(campaign_id: int) -> Any:
    """Every pair of domains of the probability sample: difference, t interval, p-value."""
    campaign = _campaign(campaign_id)
    by = request.args.get("by") or levels.default(campaign)
    variable = request.args.get("variable") or "overall"
    result = _or_400(lambda: reports.differences(campaign, by=by, variable=variable))
    return jsonify({**result.to_dict(), "by": by})


@bp.route("/campaigns/<int:campaign_id>/trend")
def get_trend(campaign_id: int) -> Any:
    """The probability sample's index results across the questionnaire's campaigns."""
    campaign = _campaign(campaign_id)
    trend = _or_400(lambda: reports.trend(campaign))
    return jsonify(trend.to_dict())


@bp.route("/campaigns/<int:campaign_id>/sae")
def get_small_area(campaign_id: int) -> Any:
    """Model-based estimates per unit (Fay–Herriot), as the dashboard's small-area page."""
    campaign = _campaign(campaign_id)
    method = _choice("method", list(sae.METHODS), "reml")
    bench = _choice("benchmark", list(sae.BENCHMARKS), None)
    level = request.args.get("level") or None
    result = _or_400(
        lambda: sae.estimate(campaign, method=method or "reml", bench=bench, level=level)
    )
    return jsonify(result.to_dict())


@bp.route("/campaigns/<int:campaign_id>/responses")
def get_responses(campaign_id: int) -> Any:
    """The flat export `surveyapp analyze` reads, as JSON rows or CSV."""
    campaign = _campaign(campaign_id)
    sample = _choice("sample", list(reports.SAMPLES), None)
    fmt = _choice("format", ["json", "csv"], "json")
    if fmt == "csv":
        data = exports.to_csv(campaign, sample=sample)
        return Response(data, mimetype="text/csv; charset=utf-8")
    return jsonify(exports.rows(campaign, sample=sample))


# An official unit code (digits, letters, dot, dash) and a month; anything else is a 400 before
# it reaches the database (a NUL character would otherwise be a PostgreSQL error: a 500).
UNIT_CODE = re.compile(r"[0-9A-Za-z._-]{1,20}")
MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")
PERIOD = re.compile(r"[0-9]{4}(-(Q[1-4]|H[12]))?")


@bp.route("/campaigns/<int:campaign_id>/bulletin")
def get_bulletin(campaign_id: int) -> Any:
    """The monthly desk bulletin's numbers of a commune centre (``unit``: its official code;
    ``month``: YYYY-MM, a local calendar month, this month by default)."""
    campaign = _campaign(campaign_id)
    code = request.args.get("unit", "")
    if not UNIT_CODE.fullmatch(code):
        abort(400, "unit: the official code of a commune centre, e.g. 26041")
    month = request.args.get("month", f"{localtime.today():%Y-%m}")
    if not MONTH.fullmatch(month):
        abort(400, "month: write YYYY-MM, e.g. 2026-11")
    unit = _or_400(lambda: bulletin.unit_by_code(code))
    built = _or_400(
        lambda: bulletin.build(unit, bulletin.parse_month(month), campaign, current_language())
    )
    return jsonify(built.to_dict())


@bp.route("/campaigns/<int:campaign_id>/periodic")
def get_periodic(campaign_id: int) -> Any:
    """The numbers of the periodic report (``period``: 2026-Q1, 2026-H1 or 2026; calendar
    periods of local days)."""
    campaign = _campaign(campaign_id)
    text = request.args.get("period", "")
    if not PERIOD.fullmatch(text):
        abort(400, "period: write 2026-Q1 to 2026-Q4, 2026-H1, 2026-H2 or 2026")
    report = _or_400(lambda: periodic.build(campaign, text, lang=current_language()))
    return jsonify(report.to_dict())
