"""Issue 12, defect 7: every ``next`` the app honours goes through one safe-redirect helper.

A ``next`` that would leave the site (another host, a scheme, a tab or backslash browsers
drop or turn into ``//``) or that carries header-breaking characters falls back to a local
page; none of them answers 5xx.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from support import PASSWORD, make_user

HOSTILE = [
    "/%09/evil.example/x",
    "/%0d%0aSet-Cookie:%20x=1",
    "/%0aLocation:%20https://evil.example",
    "//evil.example/x",
    "/\\evil.example/x",
    "/%5cevil.example/x",
    "https://evil.example/x",
    "%2F%2Fevil.example",
    "/%00/evil.example",
    "javascript:alert(1)",
    " //evil.example",
    "/%E2%80%A8/evil.example",
]


def _is_local(location: str) -> bool:
    parts = urlsplit(location)
    path = location if not parts.netloc else parts.path
    return (
        parts.netloc in ("", "localhost")
        and path.startswith("/")
        and not path.startswith("//")
        and not any(ch in location for ch in "\t\r\n\\\x00")
    )


@pytest.mark.parametrize("target", HOSTILE)
def test_language_switch_never_leaves_the_site(client, target: str) -> None:
    response = client.get(f"/lang/vi?next={target}")
    assert response.status_code == 302, response.status_code
    assert _is_local(response.headers["Location"]), response.headers["Location"]


@pytest.mark.parametrize("target", HOSTILE)
def test_login_never_leaves_the_site(app, client, target: str) -> None:
    make_user("admin1", "admin")
    response = client.post(
        f"/login?next={target}", data={"username": "admin1", "password": PASSWORD}
    )
    assert response.status_code == 302, response.status_code
    assert _is_local(response.headers["Location"]), response.headers["Location"]


def test_a_local_next_is_kept(app, client) -> None:
    response = client.get("/lang/en?next=/s/abc%3Fx%3D1")
    assert response.headers["Location"].endswith("/s/abc?x=1")
    make_user("admin1", "admin")
    response = client.post(
        "/login?next=/admin/units", data={"username": "admin1", "password": PASSWORD}
    )
    assert response.headers["Location"].endswith("/admin/units")
