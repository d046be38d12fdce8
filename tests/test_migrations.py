"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect
from support import make_config

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import Base
from surveyapp.models.tallies import TRIGGER_NAMES


def test_migrations_match_models(tmp_path: Path, pg_schema, monkeypatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app(make_config(tmp_path, pg_schema))
    with app.app_context():
        if pg_schema is not None:
            Base.metadata.drop_all(db.engine)  # start from an empty schema
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
        assert diff == []
        # Triggers are not in the models' metadata: the migrations must make the same ones
        # (and a later batch rebuild of responses or answers on SQLite must not drop them).
        assert _tally_triggers() == set(TRIGGER_NAMES)
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        if pg_schema is not None:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE alembic_version")
        db.engine.dispose()


def _tally_triggers() -> set[str]:
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            rows = conn.exec_driver_sql(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
                " AND tgrelid IN ('responses'::regclass, 'answers'::regclass)"
            )
        return {name for (name,) in rows if name.startswith("tally_")}


def test_init_db_command_runs_migrations(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app(make_config(tmp_path, None))
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert "responses" in inspect(db.engine).get_table_names()
        again = app.test_cli_runner().invoke(args=["init-db"])
        assert again.exit_code == 0
        db.engine.dispose()
