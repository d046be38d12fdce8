"""Analysts' views. ``queries.py`` is the one adapter from the database to the analysis
package; views only ask services for results and render them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template
from flask_babel import gettext as _
from markupsafe import Markup

from surveyapp.auth import require_roles
from surveyapp.dashboard.charts import ci_chart
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.services import ServiceError, campaigns, report_files, reports

bp = Blueprint("dashboard", __name__)
require_roles(bp, "dashboard")


def _verdict_text() -> dict[str, str]:
    return {"met": _("Met"), "not_met": _("Not met"), "inconclusive": _("Not yet decidable")}


@bp.route("/")
def index() -> Any:
    return render_template("dashboard/index.html", campaigns=campaigns.summaries())


@bp.route("/<int:campaign_id>")
def campaign(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    sections = []
    errors = []
    for key in ("probability", "convenience"):
        try:
            report = reports.build(
                item, sample=key, by="district" if key == "probability" else "desk"
            )
        except ServiceError as exc:
            errors.append(str(exc))
            continue
        index_rows = [r for r in report.rows() if r["level"] != "item"]
        charts = []
        for field in ("1", "2"):
            rows = [
                r for r in index_rows if r["code"] == field or r["code"].startswith(field + ".")
            ]
            if rows:
                charts.append(
                    Markup(
                        ci_chart(
                            rows,
                            title=_("Field %(code)s: estimate, 95%% CI and target", code=field),
                            description=_(
                                "Square: estimate; line: 95%% confidence interval; diamond: "
                                "target. The same numbers are in the table."
                            ),
                            verdict_text=_verdict_text(),
                        )
                    )
                )
        sections.append(
            {
                "key": key,
                "report": report,
                "index_rows": index_rows,
                "items": [r for r in report.rows() if r["level"] == "item"],
                "charts": charts,
                "label": report_files.sample_label(report),
            }
        )
    return render_template(
        "dashboard/campaign.html",
        campaign=item,
        sections=sections,
        errors=errors,
        verdicts=_verdict_text(),
        by_channel=campaigns.channel_counts(item),
    )


@bp.route("/<int:campaign_id>/report.<fmt>")
def download(campaign_id: int, fmt: str) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    if fmt not in {"xlsx", "html", "json"}:
        abort(404)
    try:
        if fmt == "json":
            report = reports.build(item, sample="probability")
            return report.to_dict()
        sections = [
            ("Mẫu xác suất", reports.build(item, sample="probability", by="district")),
            ("QR – phi xác suất", reports.build(item, sample="convenience", by="desk")),
        ]
    except ServiceError as exc:
        abort(400, str(exc))
    if fmt == "xlsx":
        data = report_files.to_xlsx(sections)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        data = report_files.to_html(sections).encode("utf-8")
        mimetype = "text/html; charset=utf-8"
    return Response(
        data,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="sipas-campaign-{item.id}.{fmt}"'},
    )


@bp.route("/<int:campaign_id>/responses")
def responses(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    by_channel = campaigns.channel_counts(item)
    return render_template(
        "dashboard/responses.html",
        campaign=item,
        by_channel=by_channel,
        targets=campaigns.target_rows(item),
    )
