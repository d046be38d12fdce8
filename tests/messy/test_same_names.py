"""Units and desks that share a name stay apart in every breakdown (a NEW defect found by the
messy-campaign test: ``report --by district`` pooled two districts called "Xã Tân Phú", so the
report disagreed with ``export-responses`` + ``analyze``, which keep them apart by code)."""

from __future__ import annotations

import json
from pathlib import Path

from messy_build import SAME_NAMES, build, cli, primary_kind
from messy_checks import compare_report_and_analyze


def test_same_named_districts_and_desks_are_separate_domains(databases) -> None:  # type: ignore[no-untyped-def]
    plan = SAME_NAMES
    with databases.app(primary_kind()) as app:
        built = build(app, plan)
        assert built.paper > 0 and built.convenience > 0
        cid = str(built.campaign_id)
        report = cli(app, ["report", "--campaign", cid, "--by", "district"])
        assert report.exit_code == 0, report.output
        domains = {
            row["domain"]["district"]
            for row in json.loads(report.output)["estimates"]
            if row["domain"] is not None
        }
        assert domains == {"Xã Tân Phú (75-0)", "Xã Tân Phú (75-1)"}
        desks = cli(app, ["report", "--campaign", cid, "--sample", "convenience", "--by", "desk"])
        assert desks.exit_code == 0, desks.output
        labels = {
            row["domain"]["desk"]
            for row in json.loads(desks.output)["estimates"]
            if row["domain"] is not None
        }
        assert labels == {f"Quầy (#{d})" for d in built.desk_ids}
        tmp = Path(app.instance_path).parent / "same"
        tmp.mkdir()
        assert compare_report_and_analyze(app, built, tmp) == []
