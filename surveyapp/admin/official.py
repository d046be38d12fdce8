"""Admin pages for the registry of published results: list, import, enter, remove."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from surveyapp.admin import bp, import_file
from surveyapp.extensions import db
from surveyapp.forms.admin import OfficialImportForm, OfficialResultForm
from surveyapp.models.official import OfficialIndex, OfficialResult
from surveyapp.services import ServiceError, official


def _page(entry: OfficialResultForm | None = None) -> Any:
    index = request.args.get("index") or None
    if index is not None and index not in {i.value for i in OfficialIndex}:
        index = None
    province = request.args.get("province") or None
    home = official.home_province()
    entry = entry or OfficialResultForm(
        formdata=None,
        province_code=home[0] if home else "",
        province_name=home[1] if home else "",
    )
    return render_template(
        "admin/official.html",
        rows=official.listing(OfficialIndex(index) if index else None, province),
        index=index or "",
        province=province or "",
        labels={i.value: official.index_label(i) for i in OfficialIndex},
        form=OfficialImportForm(),
        entry=entry,
    )


@bp.route("/official")
def official_page() -> Any:
    return _page()


@bp.route("/official/import", methods=["POST"])
def official_import() -> Any:
    form = OfficialImportForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("admin.official_page"))
    upload = form.file.data
    import_file(
        lambda: official.import_results(upload.read(), upload.filename or "upload.csv"),
        lambda n: _("Imported %(n)d published results.", n=n),
    )
    return redirect(url_for("admin.official_page"))


@bp.route("/official/enter", methods=["POST"])
def official_enter() -> Any:
    entry = OfficialResultForm()
    if entry.validate_on_submit():
        values = {
            name: str(getattr(entry, name).data or "")
            for name in (
                "index", "kind", "year", "province_code", "province_name", "node",
                "node_name", "score", "max_score", "rank", "se", "source",
            )
        }  # fmt: skip
        try:
            official.enter(values)
        except ServiceError as exc:
            db.session.rollback()
            for line in str(exc).splitlines():
                flash(line, "error")
            return _page(entry), 400
        db.session.commit()
        flash(_("The result was saved."), "success")
        return redirect(url_for("admin.official_page"))
    return _page(entry), 400


@bp.route("/official/<int:result_id>/delete", methods=["POST"])
def official_delete(result_id: int) -> Any:
    result = db.get_or_404(OfficialResult, result_id)
    official.delete(result)
    db.session.commit()
    flash(_("The result was removed."), "success")
    return redirect(url_for("admin.official_page"))


@bp.route("/official/template.csv")
def official_template() -> Any:
    return Response(
        official.template(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="official-results.csv"'},
    )
