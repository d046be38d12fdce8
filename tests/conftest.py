"""Shared fixtures: ``app``, ``client``, ``runner`` and a fresh database per test.

SQLite (the default) gets a new database file per test. With ``DATABASE_URL`` pointing at
PostgreSQL, the run gets its own schema (so concurrent runs never collide), the tables are
created once and every test starts from empty tables. Under ``CI=true`` an unreachable
PostgreSQL fails the run instead of skipping it.
"""

from __future__ import annotations

import inspect
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g, request_started
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import text
from support import PG_URL, USING_POSTGRES, login, make_config, make_user, open_campaign

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import Base


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="run only the tests whose outcome can depend on the database DATABASE_URL names "
        "(`make test` runs the PostgreSQL pass so: the SQLite pass beside it runs the rest)",
    )


# A test that requests one of these (``app`` and ``demo_data`` do), or whose code or fixtures
# name the PostgreSQL URL (support.PG_URL, USING_POSTGRES), works in the database under test;
# any other (pure analysis, configuration, source checks, an app made on its own SQLite file)
# does the same whatever DATABASE_URL says, and runs once, in the SQLite pass.
DATABASE_FIXTURES = {"pg_schema", "databases", "postgres"}
DATABASE_NAMES = ("USING_POSTGRES", "PG_URL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("database_tests_only"):
        return
    kept = [item for item in items if _uses_the_database(item)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


def _uses_the_database(item: pytest.Item) -> bool:
    if item.get_closest_marker("postgres") is not None:
        return True
    info = getattr(item, "_fixtureinfo", None)
    if info is None or DATABASE_FIXTURES & set(info.names_closure):
        return True
    functions = [getattr(item, "function", None)]
    functions += [d.func for defs in info.name2fixturedefs.values() for d in defs]
    for function in functions:
        try:
            source = inspect.getsource(function)  # with its decorators (skipif ...)
        except (TypeError, OSError):
            return True
        if any(name in source for name in DATABASE_NAMES):
            return True
    return False


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


@pytest.fixture(scope="session")
def empty_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with every table and no row, made once per run: each test copies it
    (0.6 ms) instead of creating the tables again (~40 ms)."""
    from sqlalchemy import create_engine

    path = tmp_path_factory.mktemp("empty-schema") / "empty.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    return path


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
    empty_sqlite: Path,
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
        uri = application.config["SQLALCHEMY_DATABASE_URI"]
        if pg_schema is None and uri.startswith("sqlite:///") and ":memory:" not in uri:
            db.engine.dispose()
            shutil.copyfile(empty_sqlite, uri.removeprefix("sqlite:///"))
        elif pg_schema is None:
            Base.metadata.create_all(db.engine)
        elif not pg_tables_created["done"]:
            Base.metadata.create_all(db.engine)
            pg_tables_created["done"] = True
        else:
            _truncate_all()
        yield application
        db.session.remove()
        db.engine.dispose()


def _forget_request_caches(sender: Flask, **_: Any) -> None:
    """The test's app context outlives requests, so ``g`` would carry the logged-in user and
    the locale from one test-client request to the next; in production every request has a
    context of its own. Start each request with a clean ``g``, as production does."""
    for name in list(vars(g)):
        delattr(g, name)


def _truncate_all() -> None:
    """Empty every table and restart every id at 1, before each test.

    DELETE, children first, not TRUNCATE: a TRUNCATE of the ~40 tables swaps their files and
    syncs them to disk, 1.2–1.4 s each time on this machine, against 0.03 s for the DELETEs of
    a test's few rows. Without the foreign-key triggers (every row goes, so there is nothing
    to check or cascade): after a test on the demo's ~125,000 rows they took 4.5 s, 0.2 s
    without."""
    with db.engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        conn.execute(
            text(
                "SELECT setval(c.oid, 1, false) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind = 'S' AND n.nspname = current_schema()"
            )
        )


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
    from surveyapp.models import Unit, UnitLevel
    from surveyapp.services import demo, targets

    province = Unit(code="75", name="Tỉnh Đồng Nai", level=UnitLevel.PROVINCE)
    item = open_campaign("SIPAS thử nghiệm", sipas, province)
    db.session.add_all([province, item])
    db.session.flush()
    targets.import_targets_file(item, demo.TARGETS_FILE)
    db.session.commit()
    return item


@pytest.fixture(scope="session")
def demo_template(
    tmp_path_factory: pytest.TempPathFactory, pg_schema: str | None
) -> Iterator[DemoTemplate]:
    """The Đồng Nai demo, loaded once per test run: a SQLite file, or a PostgreSQL schema
    next to the run's own (so concurrent runs never share one). ``demo_data`` copies it."""
    from surveyapp.services import demo

    folder = tmp_path_factory.mktemp("demo-template")
    schema = f"{pg_schema}_demo" if pg_schema is not None else None
    if schema is not None:
        with _pg_connection() as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        with pytest.MonkeyPatch.context() as env:
            for name in list(os.environ):
                if name.startswith("SURVEYAPP_") or name == "DATABASE_URL":
                    env.delenv(name)
            builder = create_app(make_config(folder, schema))
        with builder.app_context():
            Base.metadata.create_all(db.engine)
            summary = demo.load()
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        if schema is None:
            # One self-contained file (no WAL beside it), so a plain file copy is the database.
            import sqlite3

            plain = sqlite3.connect(folder / "test.sqlite")
            plain.execute("PRAGMA journal_mode=DELETE")
            plain.close()
        yield DemoTemplate(summary, folder / "test.sqlite", schema)
    finally:
        if schema is not None:
            with _pg_connection() as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@dataclass(frozen=True)
class DemoTemplate:
    summary: Any  # surveyapp.services.demo.DemoSummary
    sqlite_file: Path
    pg_schema: str | None


def _pg_connection() -> Any:
    import psycopg

    from surveyapp.config import normalise_database_url

    plain = normalise_database_url(PG_URL).replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(plain, autocommit=True, connect_timeout=5)


@pytest.fixture
def demo_data(app: Flask, demo_template: DemoTemplate):  # type: ignore[no-untyped-def]
    """The demo in this test's (empty) database: a copy of the run's template, which is much
    faster than loading it again (the test owns its copy and may change anything)."""
    db.session.remove()
    if demo_template.pg_schema is None:
        db.engine.dispose()
        target = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
        for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(demo_template.sqlite_file, target)
    else:
        _copy_schema(demo_template.pg_schema)
    return demo_template.summary


def _copy_schema(template: str) -> None:
    """Fill this run's (truncated) tables from the template schema, parents first, and move
    every id sequence past the copied ids."""
    with db.engine.begin() as conn:
        # The template's rows already satisfy every foreign key: skip the per-row checks.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in Base.metadata.sorted_tables:
            # Named columns: a schema built by migrations (columns added at the end) and one
            # built from the models order the same columns differently.
            columns = ", ".join(f'"{c.name}"' for c in table.c)
            conn.execute(
                text(
                    f'INSERT INTO "{table.name}" ({columns}) '
                    f'SELECT {columns} FROM "{template}"."{table.name}"'
                )
            )
            if "id" in table.c and table.c.id.autoincrement is not False:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                        f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'
                    )
                )


@pytest.fixture
def login_as(app: Flask, client: FlaskClient):  # type: ignore[no-untyped-def]
    """``login_as("admin")`` creates a user with that role and logs the client in."""

    def _login(role: str) -> FlaskClient:
        make_user(f"{role}-user", role)
        response = login(client, f"{role}-user")
        assert response.status_code == 302, response.data
        return client

    return _login
