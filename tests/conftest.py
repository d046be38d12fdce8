"""Shared fixtures: ``app``, ``client``, ``runner`` and a fresh database per test.

SQLite (the default) gets a new database file per test. With ``DATABASE_URL`` pointing at
PostgreSQL, the run gets its own schema (so concurrent runs never collide), the tables are
created once and every test starts from empty tables. Under ``CI=true`` an unreachable
PostgreSQL fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g, request_started
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import text
from support import PG_URL, USING_POSTGRES, login, make_config, make_user

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import Base
from surveyapp.services import report_cache


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str | None]:
    if not USING_POSTGRES:
        yield None
        return
    import psycopg

    from surveyapp.config import normalise_database_url

    plain = normalise_database_url(PG_URL).replace("postgresql+psycopg://", "postgresql://")
    schema = f"test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        conn = psycopg.connect(plain, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL at {PG_URL} is unreachable under CI: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


@pytest.fixture(scope="session")
def pg_tables_created() -> dict[str, bool]:
    return {"done": False}


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module (or parametrize) to change the app's settings."""
    return {}


@pytest.fixture
def app(
    tmp_path: Path,
    pg_schema: str | None,
    pg_tables_created: dict[str, bool],
    app_config: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Flask]:
    # Keep the developer's own environment out of the tests.
    for name in list(os.environ):
        if name.startswith("SURVEYAPP_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    application = create_app(make_config(tmp_path, pg_schema, **app_config))
    application.instance_path = str(tmp_path / "instance")
    request_started.connect(_forget_request_caches, application)
    with application.app_context():
        if pg_schema is None:
            Base.metadata.create_all(db.engine)
        elif not pg_tables_created["done"]:
            Base.metadata.create_all(db.engine)
            pg_tables_created["done"] = True
        else:
            _truncate_all()
        yield application
        # A report refresh still running in the background would hold locks the next
        # test's TRUNCATE waits for.
        report_cache.wait_for_refreshes()
        db.session.remove()
        if pg_schema is not None:
            _truncate_all()
        db.engine.dispose()


def _forget_request_caches(sender: Flask, **_: Any) -> None:
    """The test's app context outlives requests, so ``g`` would carry the logged-in user and
    the locale from one test-client request to the next; in production every request has a
    context of its own. Start each request with a clean ``g``, as production does."""
    for name in list(vars(g)):
        delattr(g, name)


def _truncate_all() -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def sipas(app: Flask):  # type: ignore[no-untyped-def]
    from surveyapp.services import instruments

    qn = instruments.sipas()
    db.session.commit()
    return qn


@pytest.fixture
def campaign(app: Flask, sipas):  # type: ignore[no-untyped-def]
    """An open SIPAS campaign with the Đồng Nai 2025 targets, no responses."""
    from datetime import date, timedelta

    from surveyapp.models import Campaign, CampaignChannel, CampaignStatus, Channel, Unit, UnitLevel
    from surveyapp.services import demo, targets

    province = Unit(code="75", name="Tỉnh Đồng Nai", level=UnitLevel.PROVINCE)
    today = date.today()
    item = Campaign(
        name="SIPAS thử nghiệm",
        questionnaire=sipas,
        status=CampaignStatus.OPEN,
        starts=today - timedelta(days=10),
        ends=today + timedelta(days=10),
        units=[province],
        channels=[CampaignChannel(channel=c) for c in Channel],
    )
    db.session.add_all([province, item])
    db.session.flush()
    targets.import_targets_file(item, demo.TARGETS_FILE)
    db.session.commit()
    return item


@pytest.fixture
def demo_data(app: Flask):  # type: ignore[no-untyped-def]
    from surveyapp.services import demo

    summary = demo.load()
    db.session.commit()
    return summary


@pytest.fixture
def login_as(app: Flask, client: FlaskClient):  # type: ignore[no-untyped-def]
    """``login_as("admin")`` creates a user with that role and logs the client in."""

    def _login(role: str) -> FlaskClient:
        make_user(f"{role}-user", role)
        response = login(client, f"{role}-user")
        assert response.status_code == 302, response.data
        return client

    return _login
