"""Helpers shared by the test modules (importable as ``support``; conftest files are not)."""

from __future__ import annotations

import json
import os
import re
import shlex
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from surveyapp.extensions import db

PG_URL = os.environ.get("DATABASE_URL", "")
USING_POSTGRES = PG_URL.startswith(("postgresql", "postgres"))
PASSWORD = "correct-horse-42"


def pg_url_with_schema(url: str, schema: str) -> str:
    """``url`` with ``schema`` as the search path, and commits that do not wait for the WAL
    flush (synchronous_commit=off, this connection only): a commit is visible to every other
    connection exactly as before and only a server crash could lose the last ones, which a
    test database never needs; a flush costs 5–8 ms per commit on this machine and the
    PostgreSQL pass commits thousands of times."""
    from surveyapp.config import normalise_database_url

    sep = "&" if "?" in url else "?"
    options = f"-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"
    return f"{normalise_database_url(url)}{sep}options={options}"


def make_config(tmp_path: Path, pg_schema: str | None, **extra: Any) -> dict[str, Any]:
    if pg_schema is not None:
        url = pg_url_with_schema(PG_URL, pg_schema)
    else:
        url = f"sqlite:///{tmp_path / 'test.sqlite'}"
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "BASE_URL": "https://khaosat.example.vn",
        # A cheap hash: scrypt costs ~0.5 s per login or new user on this machine, and the
        # suite logs in hundreds of times (tests/test_auth.py checks the production default).
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    config.update(extra)
    return config


def make_user(username: str, role: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    from surveyapp.models import Role
    from surveyapp.services import users

    user = users.create_user(username, Role(role), password)
    db.session.commit()
    return user


def open_campaign(name: str, questionnaire: Any, province: Any) -> Any:
    """An open campaign over the province and every channel, from ten days ago to ten days
    ahead (not added to the session)."""
    from surveyapp.models import Campaign, CampaignChannel, CampaignStatus, Channel

    today = date.today()
    return Campaign(
        name=name,
        questionnaire=questionnaire,
        status=CampaignStatus.OPEN,
        starts=today - timedelta(days=10),
        ends=today + timedelta(days=10),
        units=[province],
        channels=[CampaignChannel(channel=c) for c in Channel],
    )


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"username": username, "password": password})


NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def nonce_of(html: str) -> str:
    match = NONCE.search(html)
    assert match, "the form carries no nonce"
    return match.group(1)


def shown_lines(output: str) -> list[list[str]]:
    """The command lines ``surveyapp report --show-analyze-command`` printed, split."""
    return [shlex.split(line) for line in output.strip().splitlines()]


def analyze_args_shown(output: str) -> list[str]:
    """The arguments after the export file of the first printed ``surveyapp analyze`` line."""
    line = next(cmd for cmd in shown_lines(output) if cmd[:2] == ["surveyapp", "analyze"])
    return line[3:]


def run_shown(runner: Any, output: str) -> list[dict[str, Any]]:
    """Run the printed lines in order, in the current directory: ``export-responses`` through
    the app's command line, ``analyze`` (with ``--format json``); the analyses' JSON."""
    from click.testing import CliRunner

    from surveyapp.analysis.cli import analyze

    results = []
    for cmd in shown_lines(output):
        if cmd[:2] == ["surveyapp", "export-responses"]:
            done = runner.invoke(args=cmd[1:])
            assert done.exit_code == 0, done.output
        else:
            assert cmd[:2] == ["surveyapp", "analyze"], cmd
            done = CliRunner().invoke(analyze, [*cmd[2:], "--format", "json"])
            assert done.exit_code == 0, done.output
            results.append(json.loads(done.output))
    return results


def refused_connection() -> Any:
    """A ``do_connect`` listener that fails every new connection as the driver does while the
    database server restarts (psycopg or sqlite3 OperationalError)."""
    if db.engine.dialect.name == "postgresql":
        import psycopg

        refused: Exception = psycopg.OperationalError("connection refused: server restarting")
    else:
        import sqlite3

        refused = sqlite3.OperationalError("unable to open database file")

    def fail(*_args: object, **_kwargs: object) -> None:
        raise refused

    return fail
