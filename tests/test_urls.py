"""Issue 12, defect 16: without SURVEYAPP_BASE_URL, links follow the host and port the app
is served on: the request's host in web pages; on the command line ``--base-url``, else the
address the last ``surveyapp run`` served on, else http://127.0.0.1:5000."""

from __future__ import annotations

import csv
import io
import json

import flask.cli
import pytest
from click.testing import CliRunner
from support import PASSWORD, make_user

from surveyapp.entry_point import group as main
from surveyapp.extensions import db
from surveyapp.models import ServicePoint, Unit, UnitLevel
from surveyapp.services import desks

SERVED = "http://127.0.0.1:18101"


@pytest.fixture
def app_config() -> dict[str, str]:
    return {"BASE_URL": ""}


@pytest.fixture
def desk(app) -> ServicePoint:  # type: ignore[no-untyped-def]
    unit = Unit(code="79", name="Tỉnh thử", level=UnitLevel.PROVINCE)
    db.session.add(unit)
    item = desks.create_desk(unit, "Một cửa tỉnh")
    db.session.commit()
    return item


def _admin(app, base_url: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    make_user("admin1", "admin")
    client.post("/login", data={"username": "admin1", "password": PASSWORD}, base_url=base_url)
    return client


def test_admin_pages_follow_the_served_host_and_port(app, desk) -> None:
    client = _admin(app, SERVED)
    for path in ("/admin/desks", f"/admin/desks/{desk.id}"):
        page = client.get(path, base_url=SERVED).get_data(as_text=True)
        assert f"{SERVED}/s/{desk.token}" in page
        assert ":5000" not in page


def test_the_qr_code_follows_the_served_host(app, desk) -> None:
    from surveyapp.services import qr

    with app.test_request_context(base_url="https://khaosat.dongnai.gov.vn"):
        assert qr.survey_url(desk) == f"https://khaosat.dongnai.gov.vn/s/{desk.token}"


def test_a_configured_base_url_wins(app, desk) -> None:
    app.config["BASE_URL"] = "https://khaosat.example.vn"
    client = _admin(app, SERVED)
    page = client.get("/admin/desks", base_url=SERVED).get_data(as_text=True)
    assert f"https://khaosat.example.vn/s/{desk.token}" in page


def test_desks_list_takes_a_base_url_option(runner, desk) -> None:
    result = runner.invoke(args=["desks", "list", "--format", "json", "--base-url", SERVED])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["url"] == f"{SERVED}/s/{desk.token}"


def test_the_command_line_follows_the_address_surveyapp_run_served_on(
    app, runner, desk, campaign, monkeypatch
) -> None:
    assert json.loads(runner.invoke(args=["desks", "list", "--format", "json"]).output)[0][
        "url"
    ] == (f"http://127.0.0.1:5000/s/{desk.token}")
    served: dict[str, object] = {}
    monkeypatch.setattr(
        flask.cli, "run_simple", lambda host, port, *a, **k: served.update(host=host, port=port)
    )
    monkeypatch.setattr(main, "create_app", lambda: app)
    result = CliRunner().invoke(main, ["run", "--host", "127.0.0.1", "--port", "18101"])
    assert result.exit_code == 0, result.output
    assert served == {"host": "127.0.0.1", "port": 18101}
    listed = json.loads(runner.invoke(args=["desks", "list", "--format", "json"]).output)
    assert listed[0]["url"] == f"{SERVED}/s/{desk.token}"
    # An invitation file made afterwards points to the same server.
    out = runner.invoke(
        args=["invitations", "create", "--campaign", str(campaign.id), "--count", "1"]
    )
    assert out.exit_code == 0, out.output
    row = next(csv.DictReader(io.StringIO(out.output)))
    assert row["url"] == f"{SERVED}/i/{row['code']}"
