from __future__ import annotations

import pytest
from support import PASSWORD, login, make_user

from surveyapp.extensions import db
from surveyapp.models import User


def test_login_page_is_vietnamese(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "Đăng nhập" in page and "Tên đăng nhập" in page and "Mật khẩu" in page


def test_wrong_password_is_refused_with_a_message(app, client) -> None:
    make_user("analyst1", "analyst")
    response = login(client, "analyst1", "wrong-password")
    assert response.status_code == 200
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 302


def test_login_redirects_by_role_and_logout(app, client) -> None:
    make_user("admin1", "admin")
    response = login(client, "admin1")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/admin/").status_code == 302


def test_login_keeps_only_local_next(app, client) -> None:
    make_user("admin1", "admin")
    response = client.post(
        "/login?next=https://evil.example/x", data={"username": "admin1", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/admin/"
    client.post("/logout")
    response = client.post(
        "/login?next=/admin/units", data={"username": "admin1", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/admin/units"


def test_passwords_are_hashed(app) -> None:
    user = make_user("sup1", "supervisor")
    assert PASSWORD not in user.password_hash and user.password_hash.startswith(
        ("scrypt", "pbkdf2")
    )


def test_production_hashes_with_scrypt_and_any_stored_method_still_logs_in(app, client) -> None:
    """The default (what `surveyapp run` uses) is scrypt; the tests' cheap method is their
    own setting, and a hash made by one method is checked by the method it names."""
    from surveyapp.config import DEFAULTS

    assert DEFAULTS["PASSWORD_HASH_METHOD"] == "scrypt"
    cheap = make_user("sup2", "supervisor")
    assert cheap.password_hash.startswith("pbkdf2:sha256:1000$")
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    strong = make_user("sup3", "supervisor")
    assert strong.password_hash.startswith("scrypt:")
    for name in ("sup2", "sup3"):
        response = client.post("/login", data={"username": name, "password": PASSWORD})
        assert response.status_code == 302
        client.post("/logout")


def test_inactive_user_cannot_log_in(app, client) -> None:
    user = make_user("enum1", "enumerator")
    user.active = False
    db.session.commit()
    assert login(client, "enum1").status_code == 200


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_login_throttling_locks_out_after_five_failures(app, client) -> None:
    make_user("analyst1", "analyst")
    for _ in range(5):
        assert login(client, "analyst1", "nope-nope").status_code == 200
    locked = login(client, "analyst1")  # even the right password waits out the lockout
    assert locked.status_code == 429
    assert "Quá nhiều lần thử" in locked.get_data(as_text=True)
    assert int(locked.headers["Retry-After"]) >= 30


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_successful_logins_do_not_count_towards_the_lockout(app, client) -> None:
    make_user("analyst1", "analyst")
    for _ in range(7):
        assert login(client, "analyst1").status_code == 302
        client.post("/logout")


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_login_form_needs_csrf_token(app, client) -> None:
    make_user("admin1", "admin")
    response = login(client, "admin1")
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    ok = client.post(
        "/login", data={"username": "admin1", "password": PASSWORD, "csrf_token": token}
    )
    assert ok.status_code == 302


def test_users_create_from_stdin(runner) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "an.nguyen",
            "--role",
            "analyst",
            "--password-stdin",
        ],
        input="mat-khau-dai-123\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.query(User).filter_by(username="an.nguyen").one()
    assert user.role.value == "analyst" and user.check_password("mat-khau-dai-123")
    again = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "an.nguyen",
            "--role",
            "analyst",
            "--password-stdin",
        ],
        input="mat-khau-dai-123\n",
    )
    assert again.exit_code != 0


def test_users_create_refuses_short_password(runner) -> None:
    result = runner.invoke(
        args=["users", "create", "--username", "binh", "--role", "admin", "--password-stdin"],
        input="ngan\n",
    )
    assert result.exit_code != 0
    assert db.session.query(User).count() == 0


def test_users_create_prompts_for_password(runner) -> None:
    result = runner.invoke(
        args=["users", "create", "--username", "chi", "--role", "enumerator"],
        input="mat-khau-dai-123\nmat-khau-dai-123\n",
    )
    assert result.exit_code == 0, result.output
