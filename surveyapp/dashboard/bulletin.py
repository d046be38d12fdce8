"""The monthly desk bulletin of a commune centre, reached from the desk standard page."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, request, url_for
from flask_babel import gettext as _

from surveyapp.dashboard import bp
from surveyapp.extensions import db
from surveyapp.i18n import current_language
from surveyapp.models.campaigns import Campaign
from surveyapp.models.units import Unit
from surveyapp.services import ServiceError, bulletin


def _build(campaign_id: int) -> tuple[Campaign, bulletin.Bulletin]:
    """``?unit=<unit id>&month=YYYY-MM``; a bad value is a 400 that says which."""
    item = db.get_or_404(Campaign, campaign_id)
    raw = request.args.get("unit", "")
    unit = db.session.get(Unit, int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if unit is None:
        abort(400, _("Bulletin: choose a commune centre (unknown unit %(value)s).", value=raw))
    try:
        month = bulletin.parse_month(request.args.get("month"))
        built = bulletin.build(unit, month, item, lang=current_language())
    except ServiceError as exc:
        abort(400, str(exc))
    return item, built


@bp.route("/<int:campaign_id>/bulletin")
def bulletin_page(campaign_id: int) -> Any:
    item, built = _build(campaign_id)
    month = f"{built.month:%Y-%m}"
    return bulletin.to_html(
        built,
        standalone=False,
        back=url_for("dashboard.desks", campaign_id=item.id),
        pdf=url_for("dashboard.bulletin_pdf", campaign_id=item.id, unit=built.unit_id, month=month),
    )


@bp.route("/<int:campaign_id>/bulletin.pdf")
def bulletin_pdf(campaign_id: int) -> Any:
    _item, built = _build(campaign_id)
    try:
        data = bulletin.render(built, "pdf")
    except ServiceError as exc:
        abort(400, str(exc))
    name = bulletin.filename(built, "pdf")
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
