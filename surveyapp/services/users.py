"""Creating users and API tokens."""

from __future__ import annotations

import re
import secrets
from functools import cache
from importlib import resources

from flask_babel import gettext as _
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models.users import ApiToken, Role, User, hash_token
from surveyapp.services import ServiceError, audit

USERNAME_RE = re.compile(r"^[a-z0-9_.\-]{3,80}$")
MIN_PASSWORD = 8
# Characters people put around a common word to pass composition rules ("Matkhau@123").
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower case (NIST SP 800-63B 5.1.1.2)."""
    text = (
        resources.files("surveyapp")
        .joinpath("passwords/common-passwords.txt")
        .read_text(encoding="utf-8")
    )
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_password(username: str, password: str) -> None:
    """Refuse a password that is short, contains the username or is a common password.

    A common word dressed with digits or symbols at either end ("Matkhau#2026") is as easy
    to guess as the word itself, so the word is looked up too.
    """
    if len(password) < MIN_PASSWORD:
        raise ServiceError(_("The password must have at least %(n)d characters.", n=MIN_PASSWORD))
    lowered = password.lower()
    if username and username.strip().lower() in lowered:
        raise ServiceError(_("The password must not contain the username."))
    common = common_passwords()
    if lowered in common or _DECORATION.sub("", lowered) in common:
        raise ServiceError(
            _("This password is too common and easy to guess; choose a longer, unusual one.")
        )


def create_user(username: str, role: Role, password: str, full_name: str = "") -> User:
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise ServiceError(
            _("A username is 3–80 lowercase letters, digits, dots, dashes or underscores.")
        )
    check_password(username, password)
    if db.session.scalar(select(User).where(User.username == username)) is not None:
        raise ServiceError(_("The username %(name)s is already taken.", name=username))
    user = User(username=username, role=role, full_name=full_name)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("create", "user", user.id, after={"username": username, "role": role.value})
    return user


def create_token(user: User, name: str) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, name=name, token_hash=hash_token(token)))
    db.session.flush()
    audit.record("create", "api_token", user.id, after={"name": name})
    return token


def set_active(user: User, active: bool) -> User:
    before = {"active": user.active}
    user.active = active
    if not active:
        user.end_sessions()
    db.session.flush()
    audit.record("update", "user", user.id, before=before, after={"active": active})
    return user


def set_password(user: User, password: str) -> User:
    check_password(user.username, password)
    user.set_password(password)
    user.end_sessions()
    db.session.flush()
    # Never the hash itself: the log records that it changed.
    audit.record("update", "user", user.id, after={"password": "changed"})
    return user
