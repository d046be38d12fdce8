"""Configuration defaults.

Precedence, lowest first: these defaults, ``instance/config.py``, ``SURVEYAPP_*`` environment
variables (``DATABASE_URL`` is accepted too, as hosting platforms set it), then the
``test_config`` mapping given to :func:`surveyapp.create_app`.
"""

from __future__ import annotations

import json
import os
from typing import Any

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,  # generated into instance/secret_key on first start when unset
    "SQLALCHEMY_DATABASE_URI": None,  # default: sqlite in the instance folder
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "DB_CONNECT_TIMEOUT": 5,  # PostgreSQL: seconds before a connect attempt gives up (503)
    # Public address for links and QR codes; empty: the served host and port (services.links).
    "BASE_URL": "",
    "BABEL_DEFAULT_LOCALE": "vi",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
    "LANGUAGES": ["vi", "en"],
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session: no lost forms
    # werkzeug's password hash: scrypt is slow on purpose (~0.2 s, 32 MiB per hash); the tests
    # set a cheap one, as they log in hundreds of times.
    "PASSWORD_HASH_METHOD": "scrypt",
    "SESSION_COOKIE_HTTPONLY": True,
    # None: Secure exactly when the request came over HTTPS (after ProxyFix); True: always.
    "SESSION_COOKIE_SECURE": None,
    # Strict-Transport-Security on HTTPS responses (0: not sent).
    "HSTS_SECONDS": 365 * 24 * 3600,
    # How many reverse proxies stand in front of the app and set X-Forwarded-For/-Proto/
    # -Host/-Port (werkzeug ProxyFix). 0: those headers are ignored, as anyone can forge them.
    "TRUSTED_PROXIES": 0,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    # The citizen pages' bodies (/s/, /k/, /i/): 40 answers and a 1000-character comment fit
    # in a few kilobytes however they are encoded; anything far larger is refused with 413
    # before it is parsed (urlencoded forms are otherwise bounded only by the upload limit).
    "CITIZEN_MAX_CONTENT_LENGTH": 64 * 1024,
    "RATELIMIT_ENABLED": True,
    # memory:// counts per process (each gunicorn worker its own budget); production shares
    # one store between workers, e.g. redis://127.0.0.1:6379/0.
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_STRATEGY": "moving-window",
    # Failed logins per (username, client address): an attacker locks only themselves out.
    "LOGIN_RATE_LIMIT": "5 per minute",
    # Failed logins per client address over all usernames: slows down password spraying.
    "LOGIN_RATE_LIMIT_IP": "30 per 10 minutes",
    "KIOSK_IDLE_SECONDS": 90,
    # Citizen channel. Limits are generous per address because mobile carriers put many
    # phones behind one address (CGNAT); the per-desk limit is what stops a flood.
    "SUBMIT_RATE_LIMIT_IP": "30 per minute;1000 per day",
    "SUBMIT_RATE_LIMIT_DESK": "60 per minute",
    "FORM_RATE_LIMIT_IP": "120 per minute",
    "BURST_WINDOW_SECONDS": 60,
    "BURST_DESK_COUNT": 20,
    "BURST_CLIENT_COUNT": 3,
    "STRAIGHT_LINE_MIN": 10,
    "KIOSK_THANKS_SECONDS": 8,
    # The desk kiosk of five faces is back at its start within 5 s (issue 14).
    "KIOSK_DESK_THANKS_SECONDS": 4,
    "CITIZEN_CACHE_SECONDS": 10,  # how long the submit path trusts a desk's resolved campaign
    "SQLITE_MMAP_SIZE": 256 * 1024 * 1024,  # SQLite only: memory-mapped reads
    "SQLITE_WAL_AUTOCHECKPOINT": 10000,  # SQLite only: pages (4 KiB) between WAL checkpoints
    "QR_PAPER": "A4",  # or A5
    # Public holidays and other non-working weekdays (ISO dates, local days): the alerts'
    # volume rule skips them as it skips weekends. Vietnam's days off (Tết, Giỗ Tổ Hùng Vương,
    # 30/4, 1/5, 2/9 and the days the government moves) change every year, so they are
    # listed here, e.g. SURVEYAPP_HOLIDAYS='["2027-02-05", "2027-02-08"]' or comma-separated.
    "HOLIDAYS": [],
    # Desk alert e-mail (SURVEYAPP_SMTP_*): no host, no mail (alerts still show on the dashboard).
    "SMTP_HOST": None,
    "SMTP_PORT": 25,
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "SMTP_FROM": "surveyapp@localhost",
    "SMTP_STARTTLS": False,
    "SMTP_TIMEOUT": 10,
}

# Environment keys whose values are not plain strings.
_BOOL = {"RATELIMIT_ENABLED", "SESSION_COOKIE_SECURE", "TESTING", "DEBUG", "WTF_CSRF_ENABLED"}
_INT = {
    "KIOSK_IDLE_SECONDS",
    "KIOSK_DESK_THANKS_SECONDS",
    "PERMANENT_SESSION_LIFETIME",
    "MAX_CONTENT_LENGTH",
    "TRUSTED_PROXIES",
    "HSTS_SECONDS",
    "CITIZEN_MAX_CONTENT_LENGTH",
}
# Friendly environment names for keys whose Flask-extension name is long.
_ALIASES = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "RATELIMIT_STORAGE": "RATELIMIT_STORAGE_URI",
}


def _coerce(key: str, raw: str) -> Any:
    default = DEFAULTS.get(key)
    if key in _BOOL or isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if key in _INT or isinstance(default, int):
        return int(raw)
    if raw[:1] in "[{":
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return the settings given as ``SURVEYAPP_*`` (and ``DATABASE_URL``) variables."""
    env = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    if env.get("DATABASE_URL"):
        out["SQLALCHEMY_DATABASE_URI"] = env["DATABASE_URL"]
    for name, raw in env.items():
        if not name.startswith("SURVEYAPP_") or raw == "":
            continue
        key = name.removeprefix("SURVEYAPP_")
        key = _ALIASES.get(key, key)
        out[key] = _coerce(key, raw)
    return out


def normalise_database_url(url: str) -> str:
    """Let users write ``postgresql://`` or ``postgres://``; we drive psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
