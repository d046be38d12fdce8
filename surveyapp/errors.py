"""Error pages: Vietnamese (or the chosen language), never a stack trace; JSON under /api."""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as SQLTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please try again.")),
    401: (_l("Please log in"), _l("You need to log in to see this page.")),
    403: (_l("Access denied"), _l("Your account does not have permission to open this page.")),
    404: (_l("Page not found"), _l("The page you asked for does not exist or has been removed.")),
    405: (_l("Method not allowed"), _l("This page cannot be used that way.")),
    413: (_l("File too large"), _l("The file you sent is larger than the allowed size.")),
    429: (
        _l("Too many attempts"),
        _l("You have tried too many times. Please wait a minute and try again."),
    ),
    500: (_l("Something went wrong"), _l("An unexpected error occurred. Please try again later.")),
    503: (
        _l("Please try again in a moment"),
        _l(
            "The system is briefly unavailable. Please try again in a minute; a form sent again "
            "is counted only once."
        ),
    ),
}

# Seconds a client is asked to wait after a 503 (a database restart takes a few seconds).
RETRY_AFTER_SECONDS = 30

# Shown when even the error template cannot be rendered (it needs nothing from the database,
# but a broken template must not fall through to the WSGI server's bare English page).
FALLBACK_PAGE = (
    '<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{code}</title></head>'
    "<body><h1>{title}</h1><p>{message}</p></body></html>"
)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def render_error(code: int, detail: str | None = None):  # type: ignore[no-untyped-def]
    title, message = MESSAGES.get(code, MESSAGES[500])
    if wants_json():
        return jsonify({"error": str(title), "message": detail or str(message)}), code
    try:
        page = render_template(
            "errors.html", code=code, title=title, message=message, detail=detail
        )
    except Exception:
        current_app.logger.exception("The error page could not be rendered")
        page = FALLBACK_PAGE.format(code=code, title=escape(title), message=escape(message))
    return page, code


def _rollback() -> None:
    """Roll the session back without raising: its connection may be the one that died."""
    from surveyapp.extensions import db

    try:
        db.session.rollback()
    except Exception:
        current_app.logger.warning("Rollback failed after an error", exc_info=True)


def _as_anonymous() -> None:
    """Render the page as for a visitor: loading the logged-in user would ask the database
    that has just failed (and the error page would then fail too)."""
    from flask_login import AnonymousUserMixin

    g._login_user = AnonymousUserMixin()


def database_unavailable(error: Exception):  # type: ignore[no-untyped-def]
    """The database cannot be reached (restart, network, pool exhausted): 503 and
    Retry-After, in the visitor's language; nothing half-done is kept (rolled back)."""
    current_app.logger.error("Database unavailable: %s", str(error).splitlines()[0])
    _rollback()
    _as_anonymous()
    body, code = render_error(503)
    response = make_response(body, code)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def is_outage(error: BaseException) -> bool:
    """An error that says the database is unreachable, not that a statement is wrong."""
    if isinstance(error, DisconnectionError | SQLTimeoutError):
        return True
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated) or isinstance(
            error, OperationalError | InterfaceError
        )
    return False


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
        return render_error(
            400,
            str(_l("The form has expired or was sent twice. Please check it and send it again.")),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        # A view's own explanation (``abort(400, "...")``) tells the user or API client what to
        # fix; werkzeug's stock English descriptions are not shown.
        detail = error.description if error.description != type(error).description else None
        if error.code == 413 and request.blueprint == "public":
            # A citizen sent answers, not a file: say what to do in those words.
            detail = str(
                _l(
                    "Your answers are longer than this form accepts. Go back, shorten your "
                    "comment and send the form again."
                )
            )
        return render_error(error.code or 500, detail)

    @app.errorhandler(DBAPIError)
    @app.errorhandler(DisconnectionError)
    @app.errorhandler(SQLTimeoutError)
    def database_error(error: Exception):  # type: ignore[no-untyped-def]
        if is_outage(error):
            return database_unavailable(error)
        raise error  # a genuine bug: Flask logs it and answers with the 500 page

    @app.errorhandler(InternalServerError)
    def internal_error(error: InternalServerError):  # type: ignore[no-untyped-def]
        original = getattr(error, "original_exception", None)
        if original is not None and is_outage(original):
            return database_unavailable(original)
        _rollback()
        if original is not None and not isinstance(original, HTTPException):
            # The user may be loaded from the database that just failed a statement.
            _as_anonymous()
        return render_error(500)
