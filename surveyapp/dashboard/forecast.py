"""The own survey beside the published SIPAS, and the forecast of the next publication."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request
from flask_babel import gettext as _

from surveyapp.dashboard import bp
from surveyapp.extensions import db
from surveyapp.i18n import current_language
from surveyapp.models.campaigns import Campaign
from surveyapp.services import ServiceError, forecasts

LEVELS = {"0.8": 0.8, "0.9": 0.9, "0.95": 0.95}


def _build(campaign_id: int) -> tuple[Campaign, forecasts.ForecastReport]:
    item = db.get_or_404(Campaign, campaign_id)
    level = LEVELS.get(request.args.get("level", "0.95"))
    if level is None:
        abort(400, _("Level: use 0.8, 0.9 or 0.95."))
    try:
        return item, forecasts.build(item, level=level, lang=current_language())
    except ServiceError as exc:
        abort(400, str(exc))


@bp.route("/<int:campaign_id>/forecast")
def forecast(campaign_id: int) -> Any:
    item, built = _build(campaign_id)
    methods = sorted({n.forecast.method for n in built.nodes if n.forecast is not None})
    return render_template(
        "dashboard/forecast.html",
        campaign=item,
        report=built,
        methods=[(m, forecasts.method_text(m)) for m in methods],
    )


@bp.route("/<int:campaign_id>/forecast.xlsx")
def forecast_xlsx(campaign_id: int) -> Any:
    item, built = _build(campaign_id)
    return Response(
        forecasts.to_xlsx(built),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="sipas-forecast-{item.id}.xlsx"'},
    )
