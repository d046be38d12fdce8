"""Admin pages for the regions of communes a province defines: view, import (replace, all or
nothing, audited), remove."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from surveyapp.admin import bp, import_file
from surveyapp.extensions import db
from surveyapp.forms.admin import RegionImportForm
from surveyapp.services import regions


@bp.route("/regions")
def regions_page() -> Any:
    return render_template(
        "admin/regions.html",
        groups=regions.overview(),
        ungrouped=regions.ungrouped(),
        form=RegionImportForm(),
    )


@bp.route("/regions/import", methods=["POST"])
def import_regions() -> Any:
    form = RegionImportForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("admin.regions_page"))
    upload = form.file.data
    import_file(
        lambda: regions.import_regions(upload.read(), upload.filename or "upload.csv"),
        lambda n: _("Placed %(n)d communes in regions.", n=n),
    )
    return redirect(url_for("admin.regions_page"))


@bp.route("/regions/clear", methods=["POST"])
def clear_regions() -> Any:
    removed = regions.clear()
    db.session.commit()
    flash(_("Removed the regions of %(n)d communes.", n=removed), "success")
    return redirect(url_for("admin.regions_page"))
