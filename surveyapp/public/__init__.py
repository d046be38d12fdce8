"""Citizen-facing pages: the home page and language switch (the survey pages join here)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from surveyapp.i18n import LANG_COOKIE
from surveyapp.security import safe_next
from surveyapp.services import campaigns

bp = Blueprint("public", __name__)


@bp.before_request
def bound_citizen_body() -> None:
    """A citizen's answers are small: a body far larger is refused (413) before parsing."""
    if request.method == "POST":
        request.max_content_length = int(current_app.config["CITIZEN_MAX_CONTENT_LENGTH"])


@bp.route("/")
def index() -> Any:
    open_campaigns = [c for c in campaigns.summaries() if c["status"] == "open"]
    return render_template("public/index.html", campaigns=open_campaigns)


@bp.route("/lang/<code>")
def set_language(code: str) -> Any:
    if code not in current_app.config["LANGUAGES"]:
        code = current_app.config["BABEL_DEFAULT_LOCALE"]
    response = redirect(safe_next(request.args.get("next"), url_for("public.index")))
    response.set_cookie(
        LANG_COOKIE,
        code,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        httponly=True,
        secure=request.is_secure,
    )
    return response


@bp.route("/healthz")
def healthz() -> Any:
    from sqlalchemy import text

    from surveyapp.extensions import db

    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}


# The survey pages register their routes on this blueprint.
from surveyapp.public import survey as survey  # noqa: E402
