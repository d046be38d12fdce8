from __future__ import annotations

from pathlib import Path

import pytest

from surveyapp import create_app
from surveyapp.config import from_environment, normalise_database_url


def test_defaults_use_sqlite_in_instance_and_vietnamese(tmp_path: Path, monkeypatch) -> None:
    for name in ("DATABASE_URL", "SURVEYAPP_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/surveyapp.sqlite")
    assert app.config["BABEL_DEFAULT_LOCALE"] == "vi"


def test_environment_overrides_with_types() -> None:
    env = {
        "SURVEYAPP_BASE_URL": "https://hcc.dongnai.gov.vn",
        "SURVEYAPP_RATELIMIT_ENABLED": "false",
        "SURVEYAPP_KIOSK_IDLE_SECONDS": "45",
        "SURVEYAPP_BURST_DESK_COUNT": "30",
        "SURVEYAPP_RATELIMIT_STORAGE": "redis://127.0.0.1:6379/0",
        "DATABASE_URL": "postgres://u@h/db",
        "UNRELATED": "x",
    }
    settings = from_environment(env)
    assert settings == {
        "BASE_URL": "https://hcc.dongnai.gov.vn",
        "RATELIMIT_ENABLED": False,
        "KIOSK_IDLE_SECONDS": 45,
        "BURST_DESK_COUNT": 30,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "SQLALCHEMY_DATABASE_URI": "postgres://u@h/db",
    }
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"


def test_surveyapp_database_url_wins_over_database_url() -> None:
    settings = from_environment(
        {"DATABASE_URL": "sqlite:///a.db", "SURVEYAPP_DATABASE_URL": "sqlite:///b.db"}
    )
    assert settings["SQLALCHEMY_DATABASE_URI"] == "sqlite:///b.db"


def test_precedence_instance_file_then_environment_then_test_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flask

    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        "BASE_URL = 'https://from-file.example'\nKIOSK_IDLE_SECONDS = 60\n"
        "LOGIN_RATE_LIMIT = '3 per minute'\n"
    )
    monkeypatch.setenv("SURVEYAPP_KIOSK_IDLE_SECONDS", "30")
    monkeypatch.setenv("SURVEYAPP_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    original = flask.Flask.__init__

    def with_instance(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["instance_path"] = str(instance)
        original(self, *args, **kwargs)

    monkeypatch.setattr(flask.Flask, "__init__", with_instance)
    app = create_app({"LOGIN_RATE_LIMIT": "9 per minute"})
    assert app.config["BASE_URL"] == "https://from-file.example"
    assert app.config["KIOSK_IDLE_SECONDS"] == 30
    assert app.config["LOGIN_RATE_LIMIT"] == "9 per minute"


def test_secret_key_is_generated_once_and_kept(tmp_path: Path, monkeypatch) -> None:
    import flask

    instance = tmp_path / "inst"
    original = flask.Flask.__init__

    def with_instance(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["instance_path"] = str(instance)
        original(self, *args, **kwargs)

    monkeypatch.setattr(flask.Flask, "__init__", with_instance)
    monkeypatch.delenv("SURVEYAPP_SECRET_KEY", raising=False)
    first = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SECRET_KEY"]
    second = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (instance / "secret_key").stat().st_mode & 0o077 == 0


def test_security_headers(client) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_healthz(client) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
