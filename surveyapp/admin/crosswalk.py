"""Admin pages for importing units and the crosswalk of old units to new ones (the 2025
reorganisation)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from surveyapp.admin import bp, import_file
from surveyapp.extensions import db
from surveyapp.forms.admin import CrosswalkImportForm, UnitImportForm
from surveyapp.services import crosswalk, unit_tree


@bp.route("/units/crosswalk")
def crosswalk_page() -> Any:
    rows = crosswalk.listing()
    return render_template(
        "admin/crosswalk.html",
        rows=rows,
        approximate=sum(1 for r in rows if not r["exact"]),
        form=CrosswalkImportForm(),
        tolerance=crosswalk.SHARE_TOLERANCE,
    )


@bp.route("/units/crosswalk/import", methods=["POST"])
def crosswalk_import() -> Any:
    form = CrosswalkImportForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("admin.crosswalk_page"))
    upload = form.file.data
    import_file(
        lambda: crosswalk.import_crosswalk(upload.read(), upload.filename or "upload.csv"),
        lambda n: _("Imported %(n)d crosswalk rows.", n=n),
    )
    return redirect(url_for("admin.crosswalk_page"))


@bp.route("/units/crosswalk/remove", methods=["POST"])
def crosswalk_remove() -> Any:
    n = crosswalk.remove_all()
    db.session.commit()
    flash(_("Removed %(n)d crosswalk rows.", n=n), "success")
    return redirect(url_for("admin.crosswalk_page"))


@bp.route("/units/crosswalk/template.<fmt>")
def crosswalk_template(fmt: str) -> Any:
    if fmt not in ("xlsx", "csv"):
        abort(404)
    mime = (
        "text/csv"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return Response(
        crosswalk.template(fmt),
        mimetype=mime,
        headers={"Content-Disposition": f'attachment; filename="unit-crosswalk.{fmt}"'},
    )


@bp.route("/units/import", methods=["POST"])
def units_import() -> Any:
    form = UnitImportForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("admin.units"))
    upload = form.file.data
    import_file(
        lambda: unit_tree.import_units(upload.read(), upload.filename or "upload.csv"),
        lambda n: _("Imported %(n)d units.", n=n),
    )
    return redirect(url_for("admin.units"))
