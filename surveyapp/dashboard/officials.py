"""The officials' survey pages: completion per agency, agencies behind and their reminders,
the printable list of codes, and results by agency."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from surveyapp.dashboard import bp
from surveyapp.extensions import db
from surveyapp.forms.admin import OfficialsFrameForm
from surveyapp.models.campaigns import Campaign
from surveyapp.models.users import Role
from surveyapp.services import ServiceError, officials


def _campaign(campaign_id: int) -> Campaign:
    item = db.get_or_404(Campaign, campaign_id)
    if not officials.is_officials_survey(item.questionnaire):
        abort(404, _("This campaign's questionnaire is not an officials' survey."))
    return item


def _below() -> float:
    try:
        return officials.parse_below(request.values.get("below"))
    except ServiceError as exc:
        abort(400, str(exc))


@bp.route("/<int:campaign_id>/officials")
def officials_page(campaign_id: int) -> Any:
    item = _campaign(campaign_id)
    below = _below()
    rows = officials.completion(item)
    return render_template(
        "dashboard/officials.html",
        campaign=item,
        rows=rows,
        total=officials.totals(rows),
        behind=[r for r in rows if r.behind(below)],
        below=below,
        results=officials.results(item),
        nodes={n.code: n for n in item.questionnaire.index_nodes},
        reminders=None,
        frame_form=OfficialsFrameForm() if current_user.role == Role.ADMIN else None,
    )


@bp.route("/<int:campaign_id>/officials/remind", methods=["POST"])
def officials_remind(campaign_id: int) -> Any:
    item = _campaign(campaign_id)
    below = _below()
    result = officials.remind(item, below)
    db.session.commit()
    flash(
        _(
            "%(n)d agencies reminded; e-mails: %(sent)d sent, %(failed)d failed.",
            n=len(result.reminders),
            sent=result.sent,
            failed=result.failed,
        ),
        "success" if not result.failed else "error",
    )
    rows = officials.completion(item)
    return render_template(
        "dashboard/officials.html",
        campaign=item,
        rows=rows,
        total=officials.totals(rows),
        behind=[r for r in rows if r.behind(below)],
        below=below,
        results=officials.results(item),
        nodes={n.code: n for n in item.questionnaire.index_nodes},
        reminders=result.reminders,
        frame_form=OfficialsFrameForm() if current_user.role == Role.ADMIN else None,
    )


@bp.route("/<int:campaign_id>/officials/codes/issue", methods=["POST"])
def officials_issue(campaign_id: int) -> Any:
    item = _campaign(campaign_id)
    issued = officials.issue_codes(item)
    db.session.commit()
    flash(_("%(n)d new codes issued.", n=issued), "success")
    return redirect(url_for("dashboard.officials_page", campaign_id=item.id), 303)


@bp.route("/<int:campaign_id>/officials/codes.<fmt>")
def officials_codes(campaign_id: int, fmt: str) -> Any:
    item = _campaign(campaign_id)
    agency = request.args.get("agency") or None
    rows = officials.code_list(item, agency)
    name = f"officials-codes-{item.id}{'-' + agency if agency else ''}"
    if fmt == "html":
        return render_template("dashboard/officials_codes.html", campaign=item, rows=rows)
    if fmt == "csv":
        return Response(
            officials.codes_csv(rows),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if fmt == "pdf":
        try:
            data = officials.codes_pdf(item, rows)
        except ServiceError as exc:
            abort(503, str(exc))
        return Response(
            data,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )
    abort(404)
