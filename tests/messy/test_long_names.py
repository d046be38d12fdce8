"""A village with a long name (up to its column's 200 characters) still gets its batch (a NEW
defect found by the messy-campaign test: the batch is named "<code> <village name>" in a
100-character column, so PostgreSQL refused the draw with a traceback, and SQLite stored a
name that a restore into PostgreSQL then refused)."""

from __future__ import annotations

from paper_support import PLAN, build_units, frame_csv
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Batch


def test_a_long_village_name_fits_its_batch_name(app, campaign, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    villages = build_units(campaign.units[0], districts=1, communes=2, villages=1)
    for village in villages:
        village.name = "Ấp " + "Tân Phú " * 24  # 195 characters
    db.session.commit()
    frame = tmp_path / "frame.csv"
    frame.write_bytes(frame_csv(villages))
    assert runner.invoke(args=["frame", "import", str(frame)]).exit_code == 0
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN, encoding="utf-8")
    result = runner.invoke(
        args=["sample", "draw", "--campaign", str(campaign.id), "--plan", str(plan)]
    )
    assert result.exit_code == 0, result.output
    names = list(db.session.scalars(select(Batch.name)))
    assert names and all(len(name) <= Batch.__table__.c.name.type.length for name in names)
    assert all(name.startswith("75-1-") and "Ấp Tân Phú" in name for name in names)
