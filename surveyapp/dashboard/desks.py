"""The desk standard page and the desk alerts shown on it."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request

from surveyapp.dashboard import bp
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.services import ServiceError, desk_standard


@bp.route("/<int:campaign_id>/desks")
def desks(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    try:
        days, end = desk_standard.window(request.args.get("days"), request.args.get("end"), item)
    except ServiceError as exc:
        abort(400, str(exc))
    table = desk_standard.desk_standard(item, days, end)
    return render_template(
        "dashboard/desks.html",
        campaign=item,
        table=table,
        standard=desk_standard.STANDARD,
        windows=desk_standard.WINDOW_DAYS,
        alerts=_open_alerts(),
    )


def _open_alerts() -> list[Any]:
    return []
