"""Pairwise differences between units (probability sample) from the joint covariance of the
calibrated estimates, with t on the design df."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from surveyapp.analysis import Spec, compare_domains
from surveyapp.analysis.cells_api import analyze_cell_frame
from surveyapp.analysis.compare import domain_differences
from surveyapp.extensions import db
from surveyapp.models import Campaign
from surveyapp.services import reports


def _campaign(demo_data) -> Campaign:  # type: ignore[no-untyped-def]
    return db.session.get(Campaign, demo_data.campaign_id)


def test_differences_use_the_reports_own_domain_estimates(app, demo_data) -> None:
    campaign = _campaign(demo_data)
    report = reports.build(campaign, by="district")
    result = reports.differences(campaign, by="district")
    shown = {
        r["domain"]["district"]: r
        for r in report.estimates
        if r["domain"] is not None and r["variable"] == "overall"
    }
    assert set(result.labels) == set(shown)
    for label, est, se in zip(result.labels, result.estimates, result.se, strict=True):
        assert est == pytest.approx(shown[label]["estimate"], rel=1e-9)
        assert se == pytest.approx(shown[label]["se"], rel=1e-9)
    n = len(result.labels)
    assert len(result.pairs) == n * (n - 1) // 2
    df = report.design["df"]
    assert result.df == df
    q = stats.t.ppf(0.975, df)
    for pair in result.pairs:
        i, j = result.labels.index(pair.a), result.labels.index(pair.b)
        var = result.cov[i, i] + result.cov[j, j] - 2 * result.cov[i, j]
        assert pair.se == pytest.approx(math.sqrt(var), rel=1e-9)
        assert pair.estimate == pytest.approx(result.estimates[i] - result.estimates[j])
        assert pair.ci_low == pytest.approx(pair.estimate - q * pair.se)
        assert pair.p_value == pytest.approx(2 * stats.t.sf(abs(pair.estimate) / pair.se, df))
    # The covariance is a covariance: symmetric, positive semi-definite.
    assert np.allclose(result.cov, result.cov.T)
    assert np.linalg.eigvalsh(result.cov).min() > -1e-12


def _one_stage(seed: int = 3) -> pd.DataFrame:
    """Rows of a stratified one-stage design whose strata cut across the domains."""
    rng = np.random.default_rng(seed)
    n = 600
    frame = pd.DataFrame(
        {
            "stratum": rng.integers(0, 6, n),
            "psu": np.arange(n),
            "w": rng.uniform(1, 4, n),
            "d": rng.choice(["A", "B", "C"], n),
            "sex": rng.choice(["F", "M"], n),
            "area": rng.choice(["U", "R"], n),
        }
    )
    for q in ("q1", "q2", "q3"):
        base = np.where(frame["d"] == "A", 0.6, 0.5)
        value = np.where(rng.random(n) < base, 5, 2)
        frame[q] = np.where(rng.random(n) < 0.1, np.nan, value)
    return frame


def _cells(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = frame[keys].copy()
    out["n"] = 1.0
    out["sw"] = frame["w"]
    for q in ("q1", "q2", "q3"):
        answered = frame[q].notna().to_numpy()
        satisfied = frame[q].isin([4, 5]).to_numpy()
        out[f"{q}__wy"] = frame["w"] * satisfied
        out[f"{q}__wr"] = frame["w"] * answered
        out[f"{q}__r"] = answered.astype(float)
        out[f"{q}__y"] = satisfied.astype(float)
    return out


SPEC = Spec(indices=(("i", ("q1", "q2")), ("all", ("i", "q3"))), by="d")


def test_without_calibration_the_covariance_is_the_stage_one_formula() -> None:
    """One stage, no calibration: compare_domains' off-diagonal covariance is exact."""
    frame = _one_stage()
    by_rows = compare_domains(
        frame, SPEC, "all", weight="w", strata="stratum", cluster=("psu",), lonely_psu="adjust"
    )
    result = domain_differences(
        _cells(frame, ["stratum", "psu", "d"]), SPEC, "all", strata="stratum", psu="psu"
    )
    assert result.labels == by_rows.labels
    assert np.allclose(result.cov, by_rows.cov, rtol=1e-9, atol=1e-15)
    diff = by_rows.difference("A", "C")
    pair = next(p for p in result.pairs if (p.a, p.b) == ("A", "C"))
    assert pair.se == pytest.approx(diff.se, rel=1e-9)
    assert pair.ci_low == pytest.approx(diff.ci_low, rel=1e-9)


def test_raking_couples_the_domains_and_keeps_their_variances() -> None:
    """Raked on sex and area, every domain's variance is the by run's, and the domains'
    covariance is no longer the uncalibrated one."""
    frame = _one_stage()
    margins = (("sex", (("F", 5000.0), ("M", 4800.0))), ("area", (("U", 3000.0), ("R", 6800.0))))
    spec = Spec(indices=SPEC.indices, by="d", margins=margins)
    cells = _cells(frame, ["stratum", "psu", "d", "sex", "area"])
    result = domain_differences(cells, spec, "all", strata="stratum", psu="psu")
    by_run = analyze_cell_frame(cells, spec, strata="stratum", psu="psu")
    se = {e.domain[1]: e.se for e in by_run.estimates if e.variable == "all" and e.domain}
    for label, value in zip(result.labels, result.se, strict=True):
        assert value == pytest.approx(se[label], rel=1e-9)
    plain = domain_differences(cells, SPEC, "all", strata="stratum", psu="psu")
    assert not np.allclose(result.cov, plain.cov, rtol=1e-3)
    assert np.linalg.eigvalsh(result.cov).min() > -1e-12


def test_dashboard_states_what_a_rank_interval_means_and_links_the_differences(
    login_as, demo_data
) -> None:
    client = login_as("analyst")
    cid = demo_data.campaign_id
    page = client.get(f"/dashboard/{cid}").get_data(as_text=True)
    assert "chưa phân biệt được" not in page  # the false "overlap = cannot be told apart"
    assert "Khoảng trong ngoặc là khoảng 95% cho thứ hạng của riêng từng đơn vị" in page
    assert "vẫn có thể khác nhau rõ rệt" in page
    link = f"/dashboard/{cid}/differences"
    assert f'href="{link}"' in page
    table = client.get(link)
    assert table.status_code == 200
    html = table.get_data(as_text=True)
    assert "Chênh lệch giữa các đơn vị (huyện)" in html and "Giá trị p" in html
    result = reports.differences(_campaign(demo_data), by="district")
    first = result.pairs[0]
    assert f"{first.estimate * 100:+.2f}" in html
    # Another index, and a filter, keep working; an unknown index is a 400 in Vietnamese.
    assert client.get(f"{link}?variable=1").status_code == 200
    bad = client.get(f"{link}?variable=zzz")
    assert bad.status_code == 400 and "không có chỉ số zzz" in bad.get_data(as_text=True)
    assert client.get(f"{link}?channel=qr").status_code == 400


def test_api_differences(client, demo_data) -> None:
    from support import make_user

    from surveyapp.services import users

    token = users.create_token(make_user("etl", "analyst"), "etl")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    base = f"/api/v1/campaigns/{demo_data.campaign_id}/differences"
    body = client.get(base, headers=headers).json
    assert body["by"] == "district" and body["variable"] == "overall"
    n = len(body["domains"])
    assert n >= 2 and len(body["pairs"]) == n * (n - 1) // 2
    pair = body["pairs"][0]
    assert pair["ci_low"] < pair["estimate"] < pair["ci_high"] and 0 <= pair["p_value"] <= 1
    assert client.get(f"{base}?variable=2.6", headers=headers).json["variable"] == "2.6"
    assert client.get(f"{base}?variable=nope", headers=headers).status_code == 400
    assert client.get(f"{base}?by=desk", headers=headers).status_code == 400
    assert client.get(f"{base}?smaple=1", headers=headers).status_code == 400
