"""Logging in and out, and the role checks every non-public blueprint applies.

Access is decided per blueprint in :data:`ACCESS`; a blueprint registers its check with
:func:`require_roles`, so no view can be added to a protected area without protection.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from surveyapp.extensions import client_address, db, limiter, login_manager
from surveyapp.forms.auth import LoginForm, OwnPasswordForm
from surveyapp.models.base import utcnow
from surveyapp.models.users import ApiToken, Role, User, hash_token
from surveyapp.security import safe_next
from surveyapp.services import ServiceError, users

bp = Blueprint("auth", __name__)

# Who may enter which area. Admins run the system and see the analysts' views; keying
# and reconciling paper forms is the Post Office's work, so admins are not in "entry".
ACCESS: dict[str, frozenset[Role]] = {
    "admin": frozenset({Role.ADMIN}),
    "dashboard": frozenset({Role.ANALYST, Role.ADMIN}),
    "entry": frozenset({Role.ENUMERATOR, Role.SUPERVISOR}),
    "api": frozenset({Role.ANALYST, Role.ADMIN}),
}


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page says why by itself
    login_manager.session_protection = "basic"

    @login_manager.unauthorized_handler
    def unauthorized() -> Any:
        if request.path.startswith("/api/"):
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        # "<id>:<epoch>": a cookie from before the user's last logout, password change or
        # deactivation carries an older epoch and opens nothing.
        user_id, _sep, epoch = session_id.partition(":")
        if not (_small_int(user_id) and _small_int(epoch)):
            return None
        user = db.session.get(User, int(user_id))
        if user is None or user.session_epoch != int(epoch):
            return None
        return user

    @login_manager.request_loader
    def load_user_from_token(req: Any) -> User | None:
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not req.path.startswith("/api/"):
            return None
        token = db.session.scalar(
            select(ApiToken).where(
                ApiToken.token_hash == hash_token(header[7:].strip()),
                ApiToken.revoked.is_(False),
            )
        )
        return token.user if token is not None and token.user.active else None


def _small_int(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 18


def require_roles(blueprint: Blueprint, area: str) -> None:
    """Refuse every request to ``blueprint`` from anyone outside ``ACCESS[area]``."""
    allowed = ACCESS[area]

    @blueprint.before_request
    def check_role() -> Any:
        if request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.role not in allowed:
            abort(403)
        return None


# Endpoints inside protected blueprints that anyone may open (e.g. the OpenAPI document).
PUBLIC_ENDPOINTS: set[str] = set()


def public_endpoint(endpoint: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        PUBLIC_ENDPOINTS.add(endpoint)
        return view

    return mark


def roles_required(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Narrow a single view further than its blueprint does."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def home_for(user: User) -> str:
    if user.role == Role.ADMIN:
        return url_for("admin.index")
    if user.role == Role.ANALYST:
        return url_for("dashboard.index")
    return url_for("entry.index")


def _login_key() -> str:
    # The client's own address (the proxy's X-Forwarded-For when TRUSTED_PROXIES is set) with
    # the username: failures lock that pair only, never the user for everyone.
    return f"{client_address()}|{(request.form.get('username') or '').strip().lower()}"


def _failed(response: Any) -> bool:
    # Only failed attempts count towards the lockout; a successful login redirects.
    return bool(response.status_code != 302)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    key_func=_login_key,
    methods=["POST"],
    deduct_when=_failed,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_IP"],
    key_func=client_address,
    scope="login-ip",
    methods=["POST"],
    deduct_when=_failed,
)
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data.strip()))
        if user is not None and user.active and user.check_password(form.password.data):
            login_user(user)
            user.last_login_at = utcnow()
            db.session.commit()
            return redirect(safe_next(request.args.get("next"), home_for(user)))
        flash(_("Wrong username or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    # Logging out ends the user's sessions everywhere, so a copied cookie dies with it.
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("public.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def own_password() -> Any:
    form = OwnPasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not user.check_password(form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        else:
            try:
                users.set_password(user, form.password.data)
            except ServiceError as exc:
                db.session.rollback()
                form.password.errors.append(str(exc))
            else:
                db.session.commit()
                # Every other session has ended; this browser gets a session of the new epoch.
                login_user(user)
                flash(_("Your password has been changed."), "success")
                return redirect(home_for(user))
    return render_template("auth/password.html", form=form)
