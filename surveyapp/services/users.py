"""Creating users and API tokens."""

from __future__ import annotations

import re
import secrets

from flask_babel import gettext as _
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models.users import ApiToken, Role, User, hash_token
from surveyapp.services import ServiceError, audit

USERNAME_RE = re.compile(r"^[a-z0-9_.\-]{3,80}$")
MIN_PASSWORD = 8


def create_user(username: str, role: Role, password: str, full_name: str = "") -> User:
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise ServiceError(
            _("A username is 3–80 lowercase letters, digits, dots, dashes or underscores.")
        )
    if len(password) < MIN_PASSWORD:
        raise ServiceError(_("The password must have at least %(n)d characters.", n=MIN_PASSWORD))
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
    if len(password) < MIN_PASSWORD:
        raise ServiceError(_("The password must have at least %(n)d characters.", n=MIN_PASSWORD))
    user.set_password(password)
    user.end_sessions()
    db.session.flush()
    # Never the hash itself: the log records that it changed.
    audit.record("update", "user", user.id, after={"password": "changed"})
    return user
