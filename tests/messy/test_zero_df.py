"""A design with no degrees of freedom (one responding PSU in every stratum, as when a district's
other commune returns no form) is estimated, not crashed on (a NEW defect found by the
messy-campaign test: n_to_decide took ceil(NaN) from t's quantile at df = 0, so `analyze`, every
report and the dashboard failed with a traceback)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from surveyapp.analysis.cli import analyze


def test_analyze_with_zero_design_df_has_no_interval_and_no_traceback(tmp_path: Path) -> None:
    data = tmp_path / "df0.csv"
    data.write_text("stratum,psu,weight,q1\n1,1,10,4\n1,1,10,2\n2,1,10,5\n2,1,10,3\n")
    args = [str(data), "--strata", "stratum", "--cluster", "psu", "--weight", "weight"]
    args += ["--prop", "q1=4,5", "--target", "q1=0.8", "--lonely-psu", "adjust"]
    result = CliRunner().invoke(analyze, [*args, "--format", "json", "--extended"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["design"]["df"] == 0
    [row] = payload["estimates"]
    assert row["estimate"] == 0.5 and row["n"] == 4
    assert row["ci_low"] is None and row["ci_high"] is None and row["n_to_decide"] is None


def test_a_campaign_with_zero_design_df_opens_everywhere(databases) -> None:  # type: ignore[no-untyped-def]
    """Through the product: the report says df = 0, and the dashboard, its trend page and the
    API's trend answer (they crashed on the CI ends a df of 0 leaves empty)."""
    from messy_build import ZERO_DF, build, cli, primary_kind

    with databases.app(primary_kind()) as app:
        built = build(app, ZERO_DF)
        cid = built.campaign_id
        report = cli(app, ["report", "--campaign", str(cid)])
        assert report.exit_code == 0, report.output
        assert json.loads(report.output)["design"]["df"] == 0
        for url in (
            f"/dashboard/{cid}",
            f"/dashboard/{cid}/trend",
            f"/api/v1/campaigns/{cid}/trend",
        ):
            assert built.client.get(url).status_code == 200, url
