"""Security headers on every response: a CSP without inline script, no framing, no sniffing;
and the signed session cookie."""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, Response, has_request_context, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.datastructures import ImmutableMultiDict

from surveyapp.hygiene import clean_text

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


# Characters a browser drops or rewrites inside a URL (tab, CR, LF, other controls, format
# characters, line separators) and the backslash some browsers read as a slash: with any of
# them, ``/<tab>/evil.example`` becomes ``//evil.example``, and CR/LF would split the header.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def safe_next(target: str | None, fallback: str) -> str:
    """``target`` if it is a path on this site, else ``fallback``.

    Every view that honours a ``next`` parameter (login, language switch, ...) redirects
    through here, so an open redirect or a header-breaking value cannot reach ``Location``.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target or any(unicodedata.category(ch) in _UNSAFE_CATEGORIES for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


class CleanParams(ImmutableMultiDict):  # type: ignore[type-arg]
    """Query-string and form values with control characters removed as they are parsed.

    Every view, form and service reads ``request.args`` / ``request.form`` through this, so
    none can see a NUL byte (tab, CR and LF stay: a comment may have lines). Files
    (``request.files`` uses the same class) pass unchanged.
    """

    def __init__(self, mapping: Any = None) -> None:
        if isinstance(mapping, list):
            mapping = [
                (
                    clean_text(k) if isinstance(k, str) else k,
                    clean_text(v) if isinstance(v, str) else v,
                )
                for k, v in mapping
            ]
        super().__init__(mapping)


class CleanRequest(Request):
    parameter_storage_class = CleanParams


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus building the signer when there is no cookie.

    Flask builds an itsdangerous serializer on every request before it looks for a cookie;
    citizens' requests carry none (their forms use a signed nonce), so they skip that work.
    A cookie, when there is one, is verified exactly as before.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        # Unset: Secure whenever the request came over HTTPS, so one configuration serves
        # both `make run` on http://127.0.0.1 and production behind an HTTPS proxy.
        configured = app.config.get("SESSION_COOKIE_SECURE")
        if configured is not None:
            return bool(configured)
        return has_request_context() and request.is_secure


def init_app(app: Flask) -> None:
    app.request_class = CleanRequest
    app.session_interface = CookieSessions()

    @app.after_request
    def set_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        hsts = int(app.config.get("HSTS_SECONDS") or 0)
        if hsts and request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
        return response
