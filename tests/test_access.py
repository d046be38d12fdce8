"""Every non-public endpoint refuses anonymous users and every wrong role."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from support import login, make_user

from surveyapp.models import Role

PUBLIC_PREFIXES = ("public.", "auth.", "static")
PUBLIC_ENDPOINTS = {"api.openapi"}
# The policy, written out independently of surveyapp.auth.ACCESS.
ALLOWED = {
    "admin": {"admin"},
    "dashboard": {"analyst", "admin"},
    "entry": {"enumerator", "supervisor"},
    "api": {"analyst", "admin"},
}


def _protected(app: Flask) -> list[tuple[str, str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(PUBLIC_PREFIXES) or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        # An any(a, b) part takes its first choice; every other part the value 1.
        url = re.sub(r"<any\(\s*([^,)\s]+)[^>]*>", r"\1", rule.rule)
        url = re.sub(r"<(?:int:)?[^>]+>", "1", url)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, url))
    return out


def test_every_endpoint_belongs_to_a_known_area(app: Flask) -> None:
    for endpoint, _method, _url in _protected(app):
        assert endpoint.split(".")[0] in ALLOWED, endpoint


def test_anonymous_is_refused_everywhere(app: Flask, client) -> None:
    rules = _protected(app)
    assert len(rules) >= 10
    for endpoint, method, url in rules:
        response = client.open(url, method=method)
        if endpoint.startswith("api."):
            assert response.status_code == 401, (endpoint, response.status_code)
            assert response.is_json
        else:
            assert response.status_code == 302, (endpoint, response.status_code)
            assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_wrong_roles_are_refused(app: Flask, client, role: str) -> None:
    make_user(f"u-{role}", role)
    assert login(client, f"u-{role}").status_code == 302
    for endpoint, method, url in _protected(app):
        area = endpoint.split(".")[0]
        if role in ALLOWED[area]:
            continue
        if endpoint == "auth.logout":
            continue
        response = client.open(url, method=method)
        assert response.status_code == 403, (role, endpoint, response.status_code)


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("admin", "/admin/"),
        ("analyst", "/dashboard/"),
        ("enumerator", "/entry/"),
        ("supervisor", "/entry/"),
    ],
)
def test_right_roles_get_their_first_page(login_as, role: str, url: str) -> None:
    client = login_as(role)
    assert client.get(url).status_code == 200


def test_api_token_auth(app: Flask, client, campaign) -> None:
    from surveyapp.extensions import db
    from surveyapp.services import users

    analyst = make_user("machine", "analyst")
    token = users.create_token(analyst, "etl")
    db.session.commit()
    assert client.get("/api/v1/campaigns").status_code == 401
    response = client.get("/api/v1/campaigns", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json[0]["name"] == "SIPAS thử nghiệm"
    bad = client.get("/api/v1/campaigns", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    enumerator = make_user("enum", "enumerator")
    other = users.create_token(enumerator, "x")
    db.session.commit()
    assert (
        client.get("/api/v1/campaigns", headers={"Authorization": f"Bearer {other}"}).status_code
        == 403
    )


def test_openapi_is_public_and_describes_the_routes(app: Flask, client) -> None:
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    api_rules = {
        r.rule.removeprefix("/api/v1")
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith("api.") and r.endpoint != "api.openapi"
    }
    documented = {re.sub(r"\{(\w+)\}", r"<int:\1>", p) for p in doc["paths"]}
    assert api_rules == documented
