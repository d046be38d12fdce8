"""Error pages: Vietnamese (or the chosen language), never a stack trace; JSON under /api."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
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
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def render_error(code: int, detail: str | None = None):  # type: ignore[no-untyped-def]
    title, message = MESSAGES.get(code, MESSAGES[500])
    if wants_json():
        return jsonify({"error": str(title), "message": detail or str(message)}), code
    return (
        render_template("errors.html", code=code, title=title, message=message, detail=detail),
        code,
    )


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

    @app.errorhandler(InternalServerError)
    def internal_error(error: InternalServerError):  # type: ignore[no-untyped-def]
        from surveyapp.extensions import db

        db.session.rollback()
        return render_error(500)
