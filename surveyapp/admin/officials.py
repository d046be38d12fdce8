"""Admin: import the officials' survey frame (list of officials by agency)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, url_for
from flask_babel import gettext as _

from surveyapp.admin import bp, import_file
from surveyapp.extensions import db
from surveyapp.forms.admin import OfficialsFrameForm
from surveyapp.models.campaigns import Campaign
from surveyapp.services import officials


@bp.route("/campaigns/<int:campaign_id>/officials/import", methods=["POST"])
def officials_import(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    if not officials.is_officials_survey(item.questionnaire):
        abort(404)
    form = OfficialsFrameForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    else:
        upload = form.file.data
        import_file(
            lambda: officials.import_frame(item, upload.read(), upload.filename or "upload.csv"),
            lambda n: _("Imported %(n)d officials.", n=n),
        )
    return redirect(url_for("dashboard.officials_page", campaign_id=item.id), 303)


@bp.route("/officials/template.csv")
def officials_template() -> Any:
    return Response(
        officials.template(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="officials-frame.csv"'},
    )
