"""Admin pages for a campaign's administrative covariates (small-area model): view, import
(replace, all or nothing), template, remove."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from surveyapp.admin import bp, import_file
from surveyapp.extensions import db
from surveyapp.forms.admin import CovariateImportForm
from surveyapp.models.campaigns import Campaign
from surveyapp.services import sae

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/campaigns/<int:campaign_id>/covariates")
def covariates_page(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    return render_template(
        "admin/covariates.html",
        campaign=item,
        rows=sae.stored(item),
        columns=sae.ADMIN,
        names=sae.covariate_names(),
        form=CovariateImportForm(),
    )


@bp.route("/campaigns/<int:campaign_id>/covariates/import", methods=["POST"])
def import_covariates(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    form = CovariateImportForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("admin.covariates_page", campaign_id=item.id))
    upload = form.file.data
    import_file(
        lambda: sae.import_covariates(item, upload.read(), upload.filename or "upload.csv"),
        lambda n: _("Imported covariates for %(n)d units.", n=n),
    )
    return redirect(url_for("admin.covariates_page", campaign_id=item.id))


@bp.route("/campaigns/<int:campaign_id>/covariates/template.xlsx")
def covariates_template(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    disposition = f'attachment; filename="covariates-campaign-{item.id}.xlsx"'
    return Response(sae.template(item), mimetype=XLSX, headers={"Content-Disposition": disposition})


@bp.route("/campaigns/<int:campaign_id>/covariates/clear", methods=["POST"])
def clear_covariates(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    removed = sae.clear_covariates(item)
    db.session.commit()
    flash(_("Removed the covariates of %(n)d units.", n=removed), "success")
    return redirect(url_for("admin.covariates_page", campaign_id=item.id))
