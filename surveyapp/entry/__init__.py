"""Post Office enumerators and supervisors: paper-form work."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from sqlalchemy import func, select

from surveyapp.auth import require_roles
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign, CampaignChannel, CampaignStatus, Channel
from surveyapp.models.responses import Response

bp = Blueprint("entry", __name__)
require_roles(bp, "entry")


@bp.route("/")
def index() -> Any:
    stmt = (
        select(Campaign)
        .join(CampaignChannel)
        .where(CampaignChannel.channel == Channel.PAPER, Campaign.status == CampaignStatus.OPEN)
        .order_by(Campaign.id)
    )
    open_campaigns = db.session.scalars(stmt).all()
    keyed = dict(
        db.session.execute(
            select(Response.campaign_id, func.count())
            .where(Response.channel == Channel.PAPER)
            .group_by(Response.campaign_id)
        ).all()
    )
    return render_template("entry/index.html", campaigns=open_campaigns, keyed=keyed)
