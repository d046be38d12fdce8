"""Non-response adjustment and calibration of the paper sample, from real form fates."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from paper_support import answers, plan_toml
from sqlalchemy import func, select
from support import analyze_args_shown

from surveyapp.extensions import db
from surveyapp.models import Household
from surveyapp.services import entry, exports, margins, reports, sampling

PROBABILITY = reports.SAMPLES["probability"]
# Equal-probability stages: the analysis takes their population sizes as fpc (a PPS stage's
# fpc is a per-unit inclusion probability, which a stratum-constant fpc cannot express).
SRS_PLAN = plan_toml(seed=5, communes=("srs", 2), villages=("srs", 1), households=4, reserve=1)


@pytest.fixture
def srs_paper(campaign, frame_units):  # type: ignore[no-untyped-def]
    from paper_support import frame_csv

    from surveyapp.services import frame

    frame.import_frame(frame_csv(frame_units), "frame.csv")
    stages, seed = sampling.parse_plan(SRS_PLAN)
    draw = sampling.draw(campaign, stages, seed)
    db.session.commit()
    return campaign, draw


def _respond(campaign, draw) -> dict[str, list]:  # type: ignore[no-untyped-def]
    """Finalise 1 to 3 of the 4 selected forms of every village (the rest do not answer);
    respondents vary in sex, age and area, and one leaves the area question blank."""
    by_village: dict[str, list] = defaultdict(list)
    for form in sampling.forms_of(draw.id):
        if not form.reserve:
            by_village[form.household.village.code].append(form)
    i = 0
    for k, (_code, forms) in enumerate(sorted(by_village.items())):
        for form in forms[: 1 + k % 3]:
            values = answers(campaign.questionnaire, 2 + i % 4)
            values.update(sex=1 + i % 2, age_group=1 + i % 5, area=1 + (i // 2) % 2)
            if i == 0:
                values["area"] = None
            entry.finalise(form, values)
            i += 1
    db.session.commit()
    return by_village


def test_nonresponse_adjustment_restores_the_selected_households_weight(paper) -> None:
    campaign, draw = paper
    by_village = _respond(campaign, draw)
    frame = reports.frame_for(campaign, PROBABILITY)
    selected = sum(f.weight for forms in by_village.values() for f in forms)
    # Every village has a respondent, so the adjusted weights add up to the selected
    # households' weight, which this self-weighting design makes the frame's size.
    assert frame["weight_nr"].sum() == pytest.approx(selected, rel=1e-12)
    households = db.session.scalar(select(func.count()).select_from(Household))
    assert selected == pytest.approx(households, rel=1e-12)
    for code, forms in by_village.items():
        rows = frame[frame["nr_class"] == code]
        assert rows["weight_nr"].sum() == pytest.approx(sum(f.weight for f in forms), rel=1e-12)
    exported = pd.DataFrame(exports.rows(campaign, sample="probability"))
    merged = frame.merge(exported, on="response_id", suffixes=("", "_export"))
    assert len(merged) == len(frame)
    assert np.allclose(merged["weight_nr"], merged["weight_nr_export"], rtol=1e-12)
    assert np.allclose(merged["weight_nr"], merged["weight"] * merged["nr_factor"], rtol=1e-12)


def test_report_adjusts_for_nonresponse_from_cells_as_from_rows(srs_paper) -> None:
    campaign, draw = srs_paper
    _respond(campaign, draw)
    report = reports.build(campaign)
    assert report.design["adjustments"] == ["design_weight", "nonresponse"]
    assert report.design["weighting"] == (
        "Quyền số thiết kế × điều chỉnh không trả lời (lớp điều chỉnh: thôn, ấp, khu phố)"
    )
    frame = reports.frame_for(campaign, PROBABILITY)
    assert (frame["weight_nr"] > frame["weight"]).any()
    from_rows = reports.run(campaign, frame, PROBABILITY).estimates
    from_cells = reports.run_cells(campaign, PROBABILITY).estimates
    assert len(from_rows) == len(from_cells) == 46
    for a, b in zip(from_rows, from_cells, strict=True):
        assert np.isclose(a.estimate, b.estimate, rtol=1e-9) and np.isclose(a.se, b.se, rtol=1e-9)


def test_raked_report_equals_export_then_analyze(srs_paper, runner, tmp_path: Path) -> None:
    """Non-response adjustment, then raking to area and district (one respondent without an
    area answer is calibrated in an ``unknown`` category): the printed ``analyze`` command on
    the export gives the report's numbers, and the raked weights meet every margin."""
    from click.testing import CliRunner

    from surveyapp.analysis import Spec, analyze
    from surveyapp.analysis.cli import analyze as analyze_cli

    campaign, draw = srs_paper
    _respond(campaign, draw)
    with runner.app.test_request_context():
        margins.import_margins(
            campaign,
            b"variable,category,population\narea,1,40000\narea,2,60000\n"
            b"district,75-1,30000\ndistrict,75-2,30000\ndistrict,75-3,40000\n",
            "m.csv",
        )
    db.session.commit()
    export = tmp_path / "export.csv"
    campaign_id = str(campaign.id)
    out = runner.invoke(
        args=[
            "export-responses",
            "--campaign",
            campaign_id,
            "--sample",
            "probability",
            "--output",
            str(export),
        ]
    )
    assert out.exit_code == 0, out.output
    shown = runner.invoke(args=["report", "--campaign", campaign_id, "--show-analyze-command"])
    args = analyze_args_shown(shown.output)
    assert "--margin" in args and args[args.index("--weight") + 1] == "weight_nr"
    result = CliRunner().invoke(analyze_cli, [str(export), *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    by_cli = {r["variable"]: r for r in json.loads(result.output)["estimates"]}
    payload = json.loads(runner.invoke(args=["report", "--campaign", campaign_id]).output)
    design = payload["design"]
    assert design["adjustments"] == ["design_weight", "nonresponse", "raking"]
    assert design["margins"] == ["area", "district"]
    data = pd.read_csv(export, dtype={"cal_area": str, "cal_district": str})
    blank = data["cal_area"] == margins.UNKNOWN
    assert blank.sum() == 1
    share = data.loc[blank, "weight_nr"].sum() / data["weight_nr"].sum()
    assert design["margins_unknown_share"]["area"] == pytest.approx(share, rel=1e-12)
    for row in payload["estimates"]:
        other = by_cli[row["variable"]]
        for key in ("estimate", "se", "ci_low", "ci_high"):
            assert np.isclose(row[key], other[key], rtol=1e-9, atol=0), (row["variable"], key)
    # The raked weights meet every margin: the estimated count of people per category is its
    # population total (the area total shared with the unknown category).
    data["one"] = 1.0
    expected = {
        "cal_area": {"1": 40000 * (1 - share), "2": 60000 * (1 - share), "unknown": 1e5 * share},
        "cal_district": {"75-1": 30000, "75-2": 30000, "75-3": 40000},
    }
    spec_margins = tuple((col, tuple(cats.items())) for col, cats in expected.items())
    for column, totals in expected.items():
        counted = analyze(
            data,
            Spec(totals=("one",), by=column, margins=spec_margins),
            weight="weight_nr",
            strata="stratum",
            cluster=("psu", "ssu"),
            fpc=("fpc1", "fpc2"),
            lonely_psu="adjust",
        )
        got = {e.domain[1]: e.estimate for e in counted.estimates}
        assert got == pytest.approx(totals, rel=1e-8)


def test_a_pps_draw_is_reported_with_replacement_at_its_pps_stage(paper, runner, tmp_path) -> None:
    """A PPS stage has no stratum-wide population size: its fpc is left empty, so the PSUs
    are treated as drawn with replacement (R's default without ``pps=``; a little
    conservative) and the report and export + analyze still agree."""
    campaign, draw = paper
    _respond(campaign, draw)
    frame = reports.frame_for(campaign, PROBABILITY)
    assert frame["fpc1"].isna().all() and frame["fpc2"].isna().all()
    report = reports.build(campaign)
    overall = next(r for r in report.rows() if r["code"] == "overall")
    assert 0 < overall["estimate"] < 1 and overall["se"] > 0
    assert report.design["psu"] == frame["psu"].nunique()
    # The printed analyze command omits --fpc and gives the same numbers from the export.
    from click.testing import CliRunner

    from surveyapp.analysis.cli import analyze

    shown = runner.invoke(args=["report", "--campaign", str(campaign.id), "--show-analyze-command"])
    args = analyze_args_shown(shown.output)
    assert "--fpc" not in args
    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False)
    out = CliRunner().invoke(analyze, [str(path), *args, "--format", "json"])
    assert out.exit_code == 0, out.output
    by_cli = {r["variable"]: r for r in json.loads(out.output)["estimates"]}
    for row in report.estimates:
        assert np.isclose(row["se"], by_cli[row["variable"]]["se"], rtol=1e-9)
