"""Issue 12, defect 6: logout, a password change or reset, and deactivation end every
session the user had, including a cookie copied before the change."""

from __future__ import annotations

from flask.testing import FlaskClient
from support import PASSWORD, login, make_user

from surveyapp.extensions import db
from surveyapp.models import User

NEW_PASSWORD = "thay-doi-rieng-2025"


def _session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _replay(app, cookie: str) -> FlaskClient:  # type: ignore[no-untyped-def]
    """A second browser holding a copy of the saved cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def test_a_cookie_saved_before_logout_no_longer_opens_the_dashboard(app, client) -> None:
    make_user("analyst1", "analyst")
    assert login(client, "analyst1").status_code == 302
    saved = _session_cookie(client)
    assert _replay(app, saved).get("/dashboard/").status_code == 200
    assert client.post("/logout").status_code == 302
    replayed = _replay(app, saved).get("/dashboard/")
    assert replayed.status_code == 302 and "/login" in replayed.headers["Location"]


def test_logout_ends_the_users_other_sessions_too(app, client) -> None:
    make_user("analyst1", "analyst")
    other = app.test_client()
    assert login(other, "analyst1").status_code == 302
    assert login(client, "analyst1").status_code == 302
    client.post("/logout")
    assert other.get("/dashboard/").status_code == 302


def test_an_admin_password_reset_ends_the_users_sessions(app, client) -> None:
    make_user("admin1", "admin")
    user = make_user("analyst1", "analyst")
    victim = app.test_client()
    assert login(victim, "analyst1").status_code == 302
    assert victim.get("/dashboard/").status_code == 200
    login(client, "admin1")
    response = client.post(f"/admin/users/{user.id}/password", data={"password": NEW_PASSWORD})
    assert response.status_code == 302
    assert victim.get("/dashboard/").status_code == 302
    # The admin's own session is untouched, and the new password works.
    assert client.get("/admin/").status_code == 200
    assert login(app.test_client(), "analyst1", NEW_PASSWORD).status_code == 302


def test_deactivation_ends_the_users_sessions(app, client) -> None:
    make_user("admin1", "admin")
    user = make_user("analyst1", "analyst")
    victim = app.test_client()
    login(victim, "analyst1")
    saved = _session_cookie(victim)
    login(client, "admin1")
    assert client.post(f"/admin/users/{user.id}/active").status_code == 302
    assert _replay(app, saved).get("/dashboard/").status_code == 302
    # Reactivated, the old cookie stays dead: only a new login opens a session.
    assert client.post(f"/admin/users/{user.id}/active").status_code == 302
    assert db.session.get(User, user.id).active
    assert _replay(app, saved).get("/dashboard/").status_code == 302


def test_changing_ones_own_password_ends_the_other_sessions(app, client) -> None:
    make_user("analyst1", "analyst")
    other = app.test_client()
    login(other, "analyst1")
    login(client, "analyst1")
    page = client.get("/account/password")
    assert page.status_code == 200 and "Mật khẩu hiện tại" in page.get_data(as_text=True)
    wrong = client.post(
        "/account/password",
        data={"current": "not-my-password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert wrong.status_code == 200 and "Mật khẩu hiện tại không đúng" in wrong.get_data(
        as_text=True
    )
    changed = client.post(
        "/account/password",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    # The browser that changed it stays logged in; every other session ends.
    assert client.get("/dashboard/").status_code == 200
    assert other.get("/dashboard/").status_code == 302
    assert login(app.test_client(), "analyst1", NEW_PASSWORD).status_code == 302


def test_an_api_token_stops_working_when_its_user_is_deactivated(app, client, runner) -> None:
    make_user("admin1", "admin")
    user = make_user("analyst1", "analyst")
    token = runner.invoke(args=["users", "token", "--username", "analyst1"]).output.strip()
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/campaigns", headers=headers).status_code == 200
    login(client, "admin1")
    client.post(f"/admin/users/{user.id}/active")
    assert app.test_client().get("/api/v1/campaigns", headers=headers).status_code == 401
