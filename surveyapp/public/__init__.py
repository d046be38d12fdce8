"""Citizen-facing pages: the home page and language switch (the survey pages join here)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from surveyapp.i18n import LANG_COOKIE
from surveyapp.services import campaigns

bp = Blueprint("public", __name__)


@bp.route("/")
def index() -> Any:
    open_campaigns = [c for c in campaigns.summaries() if c["status"] == "open"]
    return render_template("public/index.html", campaigns=open_campaigns)


@bp.route("/lang/<code>")
def set_language(code: str) -> Any:
    if code not in current_app.config["LANGUAGES"]:
        code = current_app.config["BABEL_DEFAULT_LOCALE"]
    target = request.args.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("public.index")
    response = redirect(target)
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.route("/healthz")
def healthz() -> Any:
    from sqlalchemy import text

    from surveyapp.extensions import db

    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}


# The survey pages register their routes on this blueprint.
from surveyapp.public import survey as survey  # noqa: E402


@bp.record_once
def _tune_sqlite(state: Any) -> None:
    """SQLite only: let several gunicorn workers write citizen responses without thrashing.

    Every commit rewrites the index pages it touched; with the default 1000-page WAL
    checkpoint a checkpoint (with fsync) ran every ten or so responses, and each worker's page
    cache was thrown away whenever the other wrote. A larger checkpoint interval writes a hot
    page back once per checkpoint instead of once per response, and memory-mapped reads share
    the operating system's page cache between workers. Settings: ``SQLITE_MMAP_SIZE`` and
    ``SQLITE_WAL_AUTOCHECKPOINT`` (0 leaves SQLite's default).
    """
    app = state.app
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    from surveyapp.extensions import db

    mmap_size = int(app.config.get("SQLITE_MMAP_SIZE") or 0)
    checkpoint = int(app.config.get("SQLITE_WAL_AUTOCHECKPOINT") or 0)
    with app.app_context():

        @event.listens_for(db.engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if mmap_size:
                cursor.execute(f"PRAGMA mmap_size={mmap_size}")
            if checkpoint:
                cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoint}")
            cursor.close()
