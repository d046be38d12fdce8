"""The periodic reports to the provincial People's Committee (quarter, six months, year)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

from surveyapp.dashboard import bp
from surveyapp.extensions import db
from surveyapp.i18n import current_language
from surveyapp.models.campaigns import Campaign
from surveyapp.services import ServiceError, periodic

FORMATS = {
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _kind_names() -> dict[str, str]:
    return {"quarter": _("Quarter"), "half": _("Six months"), "year": _("Year")}


@bp.route("/<int:campaign_id>/periodic")
def periodic_report(campaign_id: int) -> Any:
    """Choose a kind and a period; the report shows below the form."""
    item = db.get_or_404(Campaign, campaign_id)
    choices = periodic.period_choices(item)
    kind = request.args.get("kind") or ""
    if kind and kind not in periodic.KINDS:
        abort(400, _("Kind of report: use quarter, half or year."))
    text = request.args.get("period") or ""
    error = report = None
    if text:
        try:
            chosen = periodic.Period.parse(text)
        except ServiceError as exc:
            error = str(exc)
        else:
            if kind and chosen.kind != kind:
                # The kind was changed in the form: that kind's period holding the one shown.
                chosen = periodic.Period.containing(chosen.starts, kind)
            kind, text = chosen.kind, chosen.code
            try:
                report = periodic.build(item, chosen, lang=current_language())
            except ServiceError as exc:
                error = str(exc)
    kind = kind or "quarter"
    # The report's own template renders it (the same one as the printable file).
    body = Markup(periodic.to_html(report, standalone=False)) if report is not None else None
    return (
        render_template(
            "dashboard/periodic.html",
            campaign=item,
            kinds=_kind_names(),
            kind=kind,
            periods=choices[kind],
            chosen=text,
            report=report,
            body=body,
            error=error,
        ),
        400 if error else 200,
    )


@bp.route("/<int:campaign_id>/periodic.<fmt>")
def periodic_download(campaign_id: int, fmt: str) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    if fmt not in FORMATS:
        abort(404)
    try:
        report = periodic.build(item, request.args.get("period") or "", lang=current_language())
    except ServiceError as exc:
        abort(400, str(exc))
    data = periodic.to_xlsx(report) if fmt == "xlsx" else periodic.to_html(report).encode()
    name = f"bao-cao-{item.id}-{report.period.code}.{fmt}"
    return Response(
        data,
        mimetype=FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
