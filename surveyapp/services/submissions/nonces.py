"""One-time nonces: random, signed with the app's secret and bound to the channel and the desk
or code they were issued for."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import current_app


def _mac(secret: str, scope: str, raw: str) -> str:
    digest = hmac.new(secret.encode(), f"{scope}|{raw}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def issue_nonce(scope: str) -> str:
    """A fresh nonce for one form shown; ``scope`` is e.g. ``"qr:<desk token>"``."""
    raw = secrets.token_urlsafe(18)
    return f"{raw}.{_mac(current_app.config['SECRET_KEY'], scope, raw)}"


def nonce_is_valid(nonce: str | None, scope: str) -> bool:
    if not nonce or len(nonce) > 64 or nonce.count(".") != 1:
        return False
    raw, mac = nonce.split(".")
    return hmac.compare_digest(mac, _mac(current_app.config["SECRET_KEY"], scope, raw))


def link_for(nonce: str) -> str:
    """The random link id shared by a desk rating and the full survey answered after it:
    derived from the rating's nonce (so it is as random as the nonce, and carries no personal
    data), keyed so the nonce cannot be recovered from it."""
    digest = hmac.new(
        current_app.config["SECRET_KEY"].encode(), f"link|{nonce}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def link_is_wellformed(link: str | None) -> bool:
    return (
        bool(link) and len(link or "") == 22 and all(c.isalnum() or c in "-_" for c in link or "")
    )
