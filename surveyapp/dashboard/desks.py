"""The desk standard page and the desk alerts shown on it."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _

from surveyapp.analysis import alerts as rules
from surveyapp.dashboard import bp
from surveyapp.extensions import db
from surveyapp.formatting import date as format_day
from surveyapp.formatting import number as format_number
from surveyapp.models.alerts import AlertKind
from surveyapp.models.campaigns import Campaign
from surveyapp.services import ServiceError, alerts, desk_standard


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


def _open_alerts() -> list[dict[str, Any]]:
    out = []
    for alert in alerts.open_alerts():
        desk = alert.service_point
        if desk is not None:
            where = _("%(desk)s (%(unit)s)", desk=desk.name, unit=desk.unit.name)
        else:
            assert alert.unit is not None
            where = _("%(unit)s, all desks pooled", unit=alert.unit.name)
        if alert.kind == AlertKind.RATING:
            text = _(
                "%(where)s: ratings below the 80%% standard (CUSUM %(stat)s ≥ %(h)s).",
                where=where,
                stat=format_number(alert.detail.get("statistic"), 2),
                h=format_number(rules.THRESHOLD, 0),
            )
        else:
            text = _(
                "%(where)s: no rating on %(day)s, a working day that usually has %(usual)s.",
                where=where,
                day=format_day(str(alert.detail.get("day"))),
                usual=alert.detail.get("usual"),
            )
        out.append(
            {
                "kind": alert.kind.value,
                "level": "desk" if desk is not None else "commune",
                "text": text,
                "opened_at": alert.opened_at,
            }
        )
    return out
