"""JSON API under /api/v1 for machines (bearer tokens) and logged-in analysts.

Only the OpenAPI document is public.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify

from surveyapp.auth import public_endpoint, require_roles
from surveyapp.extensions import csrf, db
from surveyapp.models.campaigns import Campaign
from surveyapp.services import campaigns

bp = Blueprint("api", __name__)
require_roles(bp, "api")
# Machines authenticate with a bearer token, not a session cookie: no CSRF exposure.
csrf.exempt(bp)


@bp.route("/openapi.json")
@public_endpoint("api.openapi")
def openapi() -> Any:
    from surveyapp.api.openapi import document

    return jsonify(document())


@bp.route("/campaigns")
def list_campaigns() -> Any:
    return jsonify(campaigns.summaries())


@bp.route("/campaigns/<int:campaign_id>")
def get_campaign(campaign_id: int) -> Any:
    summary = next((c for c in campaigns.summaries() if c["id"] == campaign_id), None)
    if summary is None:
        abort(404)
    return jsonify(summary)


@bp.route("/campaigns/<int:campaign_id>/targets")
def get_targets(campaign_id: int) -> Any:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return jsonify(campaigns.target_rows(campaign))
