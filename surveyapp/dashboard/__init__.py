"""Analysts' views. ``queries.py`` (added with the dashboard) is the one adapter from the
database to the analysis package."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template
from sqlalchemy import func, select

from surveyapp.auth import require_roles
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.responses import Response, ResponseStatus
from surveyapp.services import campaigns

bp = Blueprint("dashboard", __name__)
require_roles(bp, "dashboard")


@bp.route("/")
def index() -> Any:
    return render_template("dashboard/index.html", campaigns=campaigns.summaries())


@bp.route("/<int:campaign_id>/responses")
def responses(campaign_id: int) -> Any:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    stmt = (
        select(Response.channel, func.count())
        .where(Response.campaign_id == campaign.id, Response.status == ResponseStatus.FINAL)
        .group_by(Response.channel)
    )
    by_channel = {channel.value: n for channel, n in db.session.execute(stmt)}
    return render_template(
        "dashboard/responses.html",
        campaign=campaign,
        by_channel=by_channel,
        targets=campaigns.target_rows(campaign),
    )
