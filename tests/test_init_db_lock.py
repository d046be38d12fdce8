"""Issue 12, defect 10: two ``surveyapp init-db`` run at once (two deploy hooks, two
containers starting) both succeed: the migrations run under a lock (an advisory lock on
PostgreSQL, a file lock on SQLite), so the second waits and then finds the schema current.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from support import PG_URL, USING_POSTGRES, pg_url_with_schema

from surveyapp.config import normalise_database_url

SURVEYAPP = str(Path(sys.executable).with_name("surveyapp"))
RUNS = 3


def _environment(url: str, instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYAPP_")}
    env["DATABASE_URL"] = url
    env["SURVEYAPP_SECRET_KEY"] = "test"
    env["PYTHONWARNINGS"] = "ignore"
    env["FLASK_INSTANCE_PATH"] = str(instance)
    return env


def _run_concurrently(url: str, tmp_path: Path) -> list[subprocess.CompletedProcess[str]]:
    env = _environment(url, tmp_path)
    processes = [
        subprocess.Popen(
            [SURVEYAPP, "init-db"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(RUNS)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


def _check(results: list[subprocess.CompletedProcess[str]], url: str) -> None:
    for result in results:
        assert result.returncode == 0, result.stderr[-2000:]
        assert "Error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            assert len(versions) == 1
            assert "responses" in inspect(conn).get_table_names()
    finally:
        engine.dispose()


@pytest.fixture
def pg_fresh_schema() -> Iterator[str]:
    import psycopg

    plain = normalise_database_url(PG_URL).replace("postgresql+psycopg://", "postgresql://")
    schema = f"initdb_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield pg_url_with_schema(PG_URL, schema)
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.mark.skipif(not USING_POSTGRES, reason="needs PostgreSQL")
def test_concurrent_init_db_on_postgresql(pg_fresh_schema: str, tmp_path: Path) -> None:
    _check(_run_concurrently(pg_fresh_schema, tmp_path), pg_fresh_schema)


def test_concurrent_init_db_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    _check(_run_concurrently(url, tmp_path), url)
