"""Issue 12, defect 9: while the database is unreachable every page answers 503 with
Retry-After and the Vietnamese error page (never a 500, never the WSGI server's bare page),
and a citizen who sends the same form again once it is back is counted once.

The outage is simulated without touching the machine's PostgreSQL server: an engine whose
new connections fail (pooled ones dropped), an app pointed at a closed port, and, on
PostgreSQL, ``pg_terminate_backend`` on the app's own connections.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text
from support import USING_POSTGRES, make_config, make_user, refused_connection

from surveyapp.extensions import db
from surveyapp.models import Response, ServicePoint


@pytest.fixture
def desk(app, campaign):  # type: ignore[no-untyped-def]
    item = ServicePoint(unit=campaign.units[0], name="Bộ phận Một cửa tỉnh")
    db.session.add(item)
    db.session.commit()
    return item


@contextmanager
def database_down() -> Iterator[None]:
    """Every new connection fails as the driver fails when the server is restarting."""
    engine = db.engine
    fail = refused_connection()
    db.session.remove()
    engine.dispose()
    event.listen(engine, "do_connect", fail)
    try:
        yield
    finally:
        event.remove(engine, "do_connect", fail)
        db.session.remove()
        engine.dispose()


def _assert_vietnamese_503(response) -> None:  # type: ignore[no-untyped-def]
    page = response.get_data(as_text=True)
    assert response.status_code == 503, (response.status_code, page[:300])
    assert int(response.headers["Retry-After"]) > 0
    assert 'lang="vi"' in page and "Traceback" not in page
    assert "Xin thử lại" in page


def _nonce(page: str) -> str:
    match = re.search(r'name="nonce" value="([^"]+)"', page)
    assert match
    return match.group(1)


def test_citizen_pages_answer_503_and_a_resend_stores_once(app, client, desk) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    url = f"/s/{desk.token}"
    nonce = _nonce(client.get(url).get_data(as_text=True))
    data = {"nonce": nonce, "q1": "4", "q2": "5", "comment": "Tốt"}
    with database_down():
        for path in (url, f"/k/{desk.token}", "/i/ABCDE12345", "/", "/healthz"):
            _assert_vietnamese_503(client.get(path))
        _assert_vietnamese_503(client.post(url, data=data))
        _assert_vietnamese_503(client.post(f"/s/{desk.token}/send", data=data))
    # Back up: the same form sent again is stored, and once only however often it is sent.
    assert client.post(url, data=data).status_code == 303
    assert client.post(url, data=data).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_logged_in_pages_answer_503_not_a_bare_page(app, login_as, campaign) -> None:
    """The page must render without loading the user (from the database that failed)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = login_as("admin")
    cid = campaign.id
    with database_down():
        for path in ("/admin/", f"/dashboard/{cid}", "/entry/"):
            _assert_vietnamese_503(client.get(path))
        response = client.get(f"/api/v1/campaigns/{cid}")
        assert response.status_code == 503 and response.is_json
        assert "Retry-After" in response.headers


def test_unreachable_postgresql_is_503(tmp_path: Path, monkeypatch) -> None:
    """An app pointed at a port where no PostgreSQL listens (nothing is stopped)."""
    from surveyapp import create_app

    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = make_config(tmp_path, None)
    config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://postgres@127.0.0.1:9/none"
    config["DB_CONNECT_TIMEOUT"] = 2
    config["PROPAGATE_EXCEPTIONS"] = False
    unreachable = create_app(config)
    # A connect attempt gives up (then 503) before gunicorn's worker timeout would kill it.
    options = unreachable.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"] == {"connect_timeout": 2} and options["pool_pre_ping"]
    client = unreachable.test_client()
    for path in ("/s/sometoken", "/i/ABCDE12345", "/"):
        _assert_vietnamese_503(client.get(path))
    client.get("/lang/en")
    response = client.get("/s/sometoken")
    assert response.status_code == 503 and "try again" in response.get_data(as_text=True)


@pytest.mark.skipif(not USING_POSTGRES, reason="terminates PostgreSQL backends")
def test_connections_killed_by_a_restart_are_replaced(app, client, desk) -> None:
    """pg_terminate_backend on the app's own pooled connections, as a restart does: the
    next request reconnects (pool pre-ping) and the citizen sees the form, not an error."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    url = f"/s/{desk.token}"
    assert client.get(url).status_code == 200
    make_user("admin1", "admin")
    with db.engine.connect() as conn:
        pid = conn.scalar(text("SELECT pg_backend_pid()"))
    import psycopg
    from support import PG_URL

    from surveyapp.config import normalise_database_url

    plain = normalise_database_url(PG_URL).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    db.session.remove()
    response = client.get(url)
    assert response.status_code in (200, 503), response.status_code
    if response.status_code == 503:
        assert "Retry-After" in response.headers
    assert client.get(url).status_code == 200


def test_a_statement_error_is_still_a_500(app, client) -> None:
    """Only an unreachable database is a 503: a failing statement is a bug, shown as 500."""
    from sqlalchemy.exc import IntegrityError

    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/broken-statement")
    def broken():  # type: ignore[no-untyped-def]
        raise IntegrityError("INSERT ...", {}, Exception("duplicate key"))

    response = client.get("/broken-statement")
    assert response.status_code == 500 and "Retry-After" not in response.headers
    assert "Đã xảy ra lỗi" in response.get_data(as_text=True)
