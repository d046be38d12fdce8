"""Issue 12, defect 12: a password that contains the username or is a common password is
refused (NIST SP 800-63B) on every path that sets one, with a message in Vietnamese."""

from __future__ import annotations

import pytest
from support import PASSWORD, login, make_user

from surveyapp.extensions import db
from surveyapp.models import User

WEAK = ["123456789", "matkhau1", "Matkhau@123", "password1", "P@ssw0rd", "Qwerty@123"]
COMMON = "mật khẩu quá phổ biến"
HAS_NAME = "không được chứa tên đăng nhập"


def _create(runner, username: str, password: str):  # type: ignore[no-untyped-def]
    return runner.invoke(
        args=["users", "create", "--username", username, "--role", "analyst", "--password-stdin"],
        input=password + "\n",
    )


@pytest.mark.parametrize("password", WEAK)
def test_cli_refuses_a_common_password(runner, password: str) -> None:
    result = _create(runner, "lan.tran", password)
    assert result.exit_code != 0
    assert COMMON in result.output
    assert db.session.query(User).count() == 0


def test_cli_refuses_a_common_password_with_digits_added(runner) -> None:
    result = _create(runner, "lan.tran", "Matkhau#2026")
    assert result.exit_code != 0 and COMMON in result.output


@pytest.mark.parametrize("password", ["lan.tran2025!", "xx-LAN.TRAN-yy"])
def test_cli_refuses_a_password_containing_the_username(runner, password: str) -> None:
    result = _create(runner, "lan.tran", password)
    assert result.exit_code != 0
    assert HAS_NAME in result.output


def test_cli_accepts_an_uncommon_password(runner) -> None:
    assert _create(runner, "lan.tran", "song-dong-nai-chay-mai").exit_code == 0


def test_admin_reset_refuses_a_common_password(app, client) -> None:
    make_user("admin1", "admin")
    user = make_user("analyst1", "analyst")
    login(client, "admin1")
    page = client.post(f"/admin/users/{user.id}/password", data={"password": "Matkhau@123"})
    assert page.status_code == 200 and COMMON in page.get_data(as_text=True)
    assert db.session.get(User, user.id).check_password(PASSWORD)
    page = client.post(f"/admin/users/{user.id}/password", data={"password": "analyst1-xyz"})
    assert HAS_NAME in page.get_data(as_text=True)


def test_admin_create_refuses_a_common_password(app, client) -> None:
    make_user("admin1", "admin")
    login(client, "admin1")
    page = client.post(
        "/admin/users/new",
        data={"username": "minh", "role": "analyst", "password": "123456789"},
    )
    assert page.status_code == 200 and COMMON in page.get_data(as_text=True)
    assert db.session.query(User).filter_by(username="minh").count() == 0


def test_own_change_refuses_a_common_password_in_english(app, client) -> None:
    make_user("analyst1", "analyst")
    login(client, "analyst1")
    client.get("/lang/en")
    page = client.post(
        "/account/password",
        data={"current": PASSWORD, "password": "iloveyou123", "confirm": "iloveyou123"},
    )
    assert page.status_code == 200
    assert "too common" in page.get_data(as_text=True)
    assert db.session.get(User, 1).check_password(PASSWORD)
