from __future__ import annotations

import json
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import func, select
from support import make_config

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import Base, Campaign, Response, Unit
from surveyapp.services.reports import SAMPLES
from surveyapp.services.reports.cells import run_cells


def _empty_database() -> None:
    db.session.remove()  # release our own locks, or PostgreSQL's DROP waits on them forever
    Base.metadata.drop_all(db.engine)
    Base.metadata.create_all(db.engine)


def _ratings_report(demo_data) -> dict:
    campaign = db.session.get(Campaign, demo_data.current_campaign_id)
    return run_cells(campaign, SAMPLES["convenience"], by="desk").to_dict()


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[1:]  # without the dated header


def test_backup_restore_round_trips_exactly(
    app, runner, demo_data, tmp_path: Path, pg_schema, monkeypatch
) -> None:
    ratings = _ratings_report(demo_data)
    first = tmp_path / "first.jsonl"
    result = runner.invoke(args=["backup", "--output", str(first)])
    assert result.exit_code == 0, result.output
    header = json.loads(first.read_text(encoding="utf-8").splitlines()[0])
    assert header["tables"]["responses"] == demo_data.responses
    assert header["revision"] is None  # the test database was made by create_all
    # Empty the database, as a new installation at the same revision would be.
    _empty_database()
    restored = runner.invoke(args=["restore", str(first)])
    assert restored.exit_code == 0, restored.output
    assert db.session.scalar(select(func.count()).select_from(Response)) == demo_data.responses
    second = tmp_path / "second.jsonl"
    runner.invoke(args=["backup", "--output", str(second)])
    assert _lines(first) == _lines(second)
    # The desk ratings' tallies are left out of the backup and rebuilt from the responses.
    assert _ratings_report(demo_data) == ratings
    # New rows still get fresh ids after a restore (PostgreSQL sequences are advanced).
    db.session.add(Unit(code="99", name="Tỉnh thử", level="province"))
    db.session.commit()


def test_restore_refuses_a_database_with_data(runner, campaign, tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl.gz"
    assert runner.invoke(args=["backup", "--output", str(path)]).exit_code == 0
    result = runner.invoke(args=["restore", str(path)])
    assert result.exit_code != 0
    assert "không trống" in result.output


def test_restore_refuses_another_schema_revision(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app(make_config(tmp_path, None))
    path = tmp_path / "b.jsonl"
    path.write_text(
        json.dumps({"format": "surveyapp-backup", "version": 1, "revision": "0000", "tables": {}})
        + "\n",
        encoding="utf-8",
    )
    with app.app_context():
        upgrade()
        result = app.test_cli_runner().invoke(args=["restore", str(path)])
        assert result.exit_code != 0 and "0000" in result.output
        db.engine.dispose()


def test_damaged_backup_restores_nothing(runner, campaign, tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    runner.invoke(args=["backup", "--output", str(path)])
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5][:20]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _empty_database()
    result = runner.invoke(args=["restore", str(path)])
    assert result.exit_code != 0 and "Dòng 6" in result.output
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0
