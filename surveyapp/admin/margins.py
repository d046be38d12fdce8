"""Admin pages for a campaign's population margins: view, import (replace), template, remove."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from surveyapp.admin import bp, import_file
from surveyapp.extensions import db
from surveyapp.forms.admin import MarginImportForm
from surveyapp.models.campaigns import Campaign
from surveyapp.services import levels, margins

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/campaigns/<int:campaign_id>/margins")
def margins_page(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    return render_template(
        "admin/margins.html",
        campaign=item,
        groups=margins.overview(item),
        names=[str(n) for n in margins.variable_names().values()],
        places=[(lv, levels.name(lv)) for lv in margins.geographic_levels(item)],
        chosen=margins.stored_level(item),
        form=MarginImportForm(),
    )


@bp.route("/campaigns/<int:campaign_id>/margins/import", methods=["POST"])
def import_margins(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    form = MarginImportForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("admin.margins_page", campaign_id=item.id))
    upload = form.file.data
    import_file(
        lambda: margins.import_margins(
            item, upload.read(), upload.filename or "upload.csv", form.source.data or ""
        ),
        lambda n: _("Imported %(n)d population totals.", n=n),
    )
    return redirect(url_for("admin.margins_page", campaign_id=item.id))


@bp.route("/campaigns/<int:campaign_id>/margins/template.xlsx")
def margins_template(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    level = request.args.get("level") or None
    if level is not None and level not in margins.geographic_levels(item):
        abort(404)
    disposition = f'attachment; filename="margins-campaign-{item.id}.xlsx"'
    return Response(
        margins.template(item, level), mimetype=XLSX, headers={"Content-Disposition": disposition}
    )


@bp.route("/campaigns/<int:campaign_id>/margins/clear", methods=["POST"])
def clear_margins(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    removed = margins.clear(item)
    db.session.commit()
    flash(_("Removed %(n)d population totals.", n=removed), "success")
    return redirect(url_for("admin.margins_page", campaign_id=item.id))
