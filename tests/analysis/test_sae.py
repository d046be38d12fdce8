"""Fay–Herriot small-area estimation (surveyapp/analysis/sae.py, ``surveyapp sae``).

Reference values: ``reference/make_sae_reference.R`` (an independent implementation from
Rao & Molina 2015, ch. 6) and ``reference/samplics_crosscheck.py`` (samplics 0.6
``EblupAreaModel``), both committed as CSV.
"""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from analysis_helpers import REFERENCE
from click.testing import CliRunner
from scipy import stats

from surveyapp.analysis.errors import AnalysisError
from surveyapp.analysis.sae import benchmark, fay_herriot, normal_qq, smooth_variances
from surveyapp.analysis.sae_cli import sae

API = str(REFERENCE / "sae-api.csv")
FLAT = str(REFERENCE / "sae-flat.csv")
CASES = {
    "api:meals+ell": (API, "county", ["meals", "ell"]),
    "api:none": (API, "county", []),
    "flat:online": (FLAT, "commune", ["online"]),
}
REL = 1e-6


def run_cli(path: str, area: str, covs: list[str], *extra: str) -> tuple[int, str]:
    args = [path, "--area", area, "--estimate", "estimate", "--se", "se"]
    for c in covs:
        args += ["--covariate", c]
    res = CliRunner().invoke(sae, [*args, *extra])
    return res.exit_code, res.output


def close(ours: float | None, ref: float) -> bool:
    assert ours is not None
    # gamma and sigma2_u are exactly 0 when truncated: compare those absolutely
    return math.isclose(ours, ref, rel_tol=REL, abs_tol=1e-15)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "sae-reference.csv", keep_default_na=False)


@pytest.mark.parametrize("method", ["reml", "ml", "fh"])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_independent_r_implementation(
    reference: pd.DataFrame, case: str, method: str
) -> None:
    path, area, covs = CASES[case]
    code, out = run_cli(path, area, covs, "--method", method)
    assert code == 0, out
    doc = json.loads(out)
    ref = reference[(reference.case == case) & (reference.method == method)]
    model = ref[ref.area == ""].set_index("what")["value"].astype(float)
    assert doc["model"]["method"] == method
    assert close(doc["model"]["sigma2_u"], model["sigma2_u"])
    p = len(covs) + 1
    assert len(doc["model"]["beta"]) == len(doc["model"]["beta_se"]) == p
    for j in range(p):
        assert close(doc["model"]["beta"][j], model[f"beta{j}"])
        assert close(doc["model"]["beta_se"][j], model[f"beta_se{j}"])
    per_area = ref[ref.area != ""].pivot(index="area", columns="what", values="value")
    assert len(doc["areas"]) == len(per_area)
    checked = 0
    for a in doc["areas"]:
        row = per_area.loc[a["area"]]
        assert close(a["eblup"], float(row["eblup"])), (a["area"], "eblup")
        assert close(a["mse"], float(row["mse"])), (a["area"], "mse")
        if a["synthetic"]:
            assert a["gamma"] is None and row["gamma"] == ""
            assert a["direct"] is None and a["direct_se"] is None
        else:
            assert close(a["gamma"], float(row["gamma"]))
        checked += 1
    assert checked == len(per_area)


def test_fixtures_exercise_out_of_sample_and_truncation(reference: pd.DataFrame) -> None:
    code, out = run_cli(API, "county", ["meals", "ell"])
    doc = json.loads(out)
    oos = [a for a in doc["areas"] if a["synthetic"]]
    assert len(oos) >= 5
    assert code == 0 and doc["model"]["sigma2_u"] > 0
    code, out = run_cli(FLAT, "commune", ["online"])
    assert code == 0
    doc = json.loads(out)
    # sigma2_u truncated at 0: every area keeps synthetic=false and gets the regression value
    assert doc["model"]["sigma2_u"] == 0.0
    beta = doc["model"]["beta"]
    flat = pd.read_csv(FLAT)
    for a, x in zip(doc["areas"], flat["online"], strict=True):
        assert a["synthetic"] is False and a["gamma"] == 0.0
        assert a["eblup"] == pytest.approx(beta[0] + beta[1] * x, rel=1e-12)


@pytest.mark.parametrize("method", ["reml", "ml", "fh"])
def test_matches_samplics_eblup_area_model(method: str) -> None:
    ref = pd.read_csv(REFERENCE / "sae-samplics.csv", keep_default_na=False)
    ref = ref[(ref.method == method) & (ref.tol.astype(float) == 1e-12)]
    d = pd.read_csv(API)
    r = fay_herriot(
        d["estimate"], d["se"] ** 2, d[["meals", "ell"]], areas=d["county"], method=method
    )
    ours: dict[tuple[str, str], float] = {("", "sigma2_u"): r.model.sigma2_u}
    for j, b in enumerate(r.model.beta):
        ours[("", f"beta{j}")] = b
    for j, b in enumerate(r.model.beta_se):
        ours[("", f"beta_se{j}")] = b
    for a in r.areas:
        ours[(a.area, "eblup")] = a.eblup
        ours[(a.area, "mse")] = a.mse
    assert len(ref) > 50
    for row in ref.itertuples():
        assert ours[(row.area, row.what)] == pytest.approx(float(row.value), rel=REL), row


def test_json_and_csv_contract(tmp_path: object) -> None:
    code, out = run_cli(API, "county", ["meals"], "--format", "json")
    doc = json.loads(out)
    assert list(doc) == ["model", "areas"]
    assert list(doc["model"]) == ["method", "beta", "beta_se", "sigma2_u"]
    assert doc["model"]["method"] == "reml"
    keys = ["area", "direct", "direct_se", "eblup", "mse", "gamma", "synthetic"]
    assert all(list(a) == keys for a in doc["areas"])
    alameda = doc["areas"][0]
    assert alameda["area"] == "Alameda" and alameda["direct"] == 0.682143
    assert alameda["direct_se"] == 0.039603
    code, text = run_cli(API, "county", ["meals"], "--format", "csv")
    assert code == 0
    rows = pd.read_csv(io.StringIO(text), keep_default_na=False, dtype=str)
    assert list(rows.columns) == keys
    assert len(rows) == len(doc["areas"])
    assert rows["eblup"].astype(float).tolist() == pytest.approx(
        [a["eblup"] for a in doc["areas"]], rel=1e-15
    )
    assert set(rows["synthetic"]) == {"true", "false"}
    assert (rows.loc[rows.synthetic == "true", "gamma"] == "").all()


def test_output_file(tmp_path: pytest.TempPathFactory) -> None:
    target = f"{tmp_path}/out.json"
    code, out = run_cli(API, "county", [], "--output", target)
    assert code == 0 and out == ""
    with open(target, encoding="utf-8") as fh:
        assert json.load(fh)["model"]["method"] == "reml"


def test_registered_on_the_surveyapp_command() -> None:
    from surveyapp.entry_point import group

    res = CliRunner().invoke(
        group, ["sae", API, "--area", "county", "--estimate", "estimate", "--se", "se"]
    )
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.output)["areas"]) == 57


def write(tmp_path: object, text: str) -> str:
    p = f"{tmp_path}/in.csv"
    with open(p, "w", encoding="utf-8") as fh:
        fh.write(text)
    return p


GOOD = "area,y,s,x\nA,0.5,0.1,1\nB,0.6,0.1,2\nC,0.7,0.1,3\nD,0.4,0.1,4\n"


@pytest.mark.parametrize(
    ("text", "args", "needle"),
    [
        (GOOD, ["--se", "nope"], "'nope'"),
        (GOOD, ["--covariate", "z"], "'z'"),
        (GOOD.replace("B,0.6,0.1", "B,0.6,0"), [], "data row 2"),
        (GOOD.replace("C,0.7,0.1", "C,0.7,-0.2"), [], "data row 3"),
        (GOOD.replace("D,0.4,0.1", "D,0.4,"), [], "data row 4"),
        (GOOD.replace("D,0.4,0.1", "D,,0.1"), [], "data row 4"),
        (GOOD.replace("B,0.6", "B,abc"), [], "'abc' in data row 2"),
        (GOOD.replace("C,0.7,0.1,3", "C,0.7,0.1,"), [], "'x': empty value in data row 3"),
        (GOOD.replace("D,", "A,"), [], "data row 4 repeats data row 1"),
        (GOOD.replace("C,0.7,0.1", "C,,").replace("D,0.4,0.1", "D,,"), [], "need"),
    ],
)
def test_bad_input_exits_with_one_line(
    tmp_path: object, text: str, args: list[str], needle: str
) -> None:
    path = write(tmp_path, text)
    base = {"--area": "area", "--estimate": "y", "--se": "s", "--covariate": "x"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    flat = [v for kv in base.items() for v in kv]
    res = CliRunner().invoke(sae, [path, *flat])
    assert res.exit_code != 0
    lines = res.output.strip().splitlines()
    assert len(lines) == 1, res.output
    assert needle in lines[0], lines[0]
    assert "Traceback" not in res.output


def test_fewer_areas_than_parameters_plus_one() -> None:
    # 2 covariates + intercept = 3 parameters, 3 in-sample areas: refused; 4 suffice
    x = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 5.0], [4.0, 3.0]])
    y = np.array([0.5, 0.6, 0.7, np.nan])
    psi = np.array([0.01, 0.01, 0.01, np.nan])
    with pytest.raises(AnalysisError, match="3 in-sample areas for 3 parameters"):
        fay_herriot(y, psi, x)
    y[3], psi[3] = 0.4, 0.01
    assert len(fay_herriot(y, psi, x).areas) == 4


def test_collinear_covariates_are_refused() -> None:
    x = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [4.0, 8.0], [5.0, 10.0]])
    with pytest.raises(AnalysisError, match="collinear"):
        fay_herriot([0.1, 0.2, 0.3, 0.2, 0.5], [0.01] * 5, x)


def test_unknown_method() -> None:
    with pytest.raises(AnalysisError, match="--method"):
        fay_herriot([0.1, 0.2, 0.3], [0.01] * 3, method="bayes")


def test_simulation_mse_and_coverage() -> None:
    """Data generated from the model: EBLUP beats the direct estimator, intervals cover.

    80 areas (psi from 0.2 to 2 times sigma2_u, so shrinkage matters), 150 replicates with a
    fixed seed: 12,000 intervals per method.
    """
    rng = np.random.default_rng(20260701)
    m, reps, sigma2 = 80, 150, 0.004
    x = np.column_stack([rng.uniform(0, 1, m), rng.binomial(1, 0.4, m)])
    beta = np.array([0.6, 0.2, -0.05])
    psi = sigma2 * np.linspace(0.2, 2.0, m)
    theta_fix = np.column_stack([np.ones(m), x]) @ beta
    z = 1.959963984540054
    for method in ("reml", "ml", "fh"):
        cover = 0
        est_mse = true_se_eblup = true_se_direct = 0.0
        for _ in range(reps):
            theta = theta_fix + rng.normal(0, math.sqrt(sigma2), m)
            y = theta + rng.normal(0, np.sqrt(psi))
            r = fay_herriot(y, psi, x, method=method)
            eb = np.array([a.eblup for a in r.areas])
            mse = np.array([a.mse for a in r.areas])
            cover += int((np.abs(eb - theta) <= z * np.sqrt(mse)).sum())
            est_mse += float(mse.mean())
            true_se_eblup += float(((eb - theta) ** 2).mean())
            true_se_direct += float(((y - theta) ** 2).mean())
        coverage = cover / (m * reps)
        assert 0.93 <= coverage <= 0.97, (method, coverage)
        # model-based MSE on average below the direct estimator's (psi), estimated and actual
        assert est_mse / reps < psi.mean(), method
        assert true_se_eblup < true_se_direct, method
        # and the MSE estimator is close to the actual MSE (within 10 %)
        assert est_mse / true_se_eblup == pytest.approx(1.0, abs=0.1), method


def test_benchmark_ratio_and_difference() -> None:
    d = pd.read_csv(API)
    r = fay_herriot(d["estimate"], d["se"] ** 2, d[["meals"]], areas=d["county"])
    w = d["schools"].to_numpy(dtype=float)
    for kind in ("ratio", "difference"):
        b = benchmark(r, 0.7, w, kind=kind)  # type: ignore[arg-type]
        theta = np.array([a.eblup for a in b.areas])
        assert float(w @ theta / w.sum()) == pytest.approx(0.7, rel=1e-12)
        assert b.benchmark is not None and b.benchmark.kind == kind
        assert b.benchmark.before == pytest.approx(
            sum(wi * a.eblup for wi, a in zip(w, r.areas, strict=True)) / w.sum()
        )
        assert [a.mse for a in b.areas] == [a.mse for a in r.areas]
        assert b.model == r.model
    ratio = benchmark(r, 0.7, w, kind="ratio")
    assert ratio.areas[0].eblup / r.areas[0].eblup == pytest.approx(ratio.benchmark.adjustment)  # type: ignore[union-attr]
    with pytest.raises(AnalysisError, match="weights"):
        benchmark(r, 0.7, w[:-1])
    with pytest.raises(AnalysisError, match="expected one of"):
        benchmark(r, 0.7, w, kind="scale")  # type: ignore[arg-type]


def test_gvf_proportion_replaces_zero_and_small_n() -> None:
    est = np.array([0.8, 1.0, 0.7, 0.75, np.nan, 0.9])
    se = np.array([0.05, 0.0, 0.06, 0.04, np.nan, 0.1])
    n = np.array([40.0, 5.0, 30.0, 60.0, 0.0, 4.0])
    out = smooth_variances(est, se, n, min_n=10)
    pbar = float((n[[0, 1, 2, 3, 5]] * est[[0, 1, 2, 3, 5]]).sum() / n[[0, 1, 2, 3, 5]].sum())
    rel = [0, 2, 3]
    d = float((se[rel] ** 2).sum() / (pbar * (1 - pbar) / n[rel]).sum())
    assert out.params == pytest.approx((d, pbar))
    assert out.fitted_on == 3
    assert out.smoothed.tolist() == [False, True, False, False, False, True]
    assert out.variance[1] == pytest.approx(d * pbar * (1 - pbar) / 5)
    assert out.variance[0] == se[0] ** 2
    assert math.isnan(out.variance[4])
    every = smooth_variances(est, se, n, replace_all=True)
    assert every.smoothed.tolist() == [True, True, True, True, False, True]
    # the smoothed variances feed the model: the SE-0 area is no longer "perfect"
    r = fay_herriot(est, out.variance)
    assert r.areas[1].gamma is not None and r.areas[1].gamma < 1


def test_gvf_loglinear_recovers_a_power_law() -> None:
    n = np.array([4.0, 8.0, 16.0, 32.0, 64.0])
    se = np.sqrt(0.3 / n**1.2)
    out = smooth_variances(np.full(5, 0.5), se, n, form="loglinear", min_n=1, replace_all=True)
    a, b, smear = out.params
    assert b == pytest.approx(-1.2) and math.exp(a) == pytest.approx(0.3)
    assert smear == pytest.approx(1.0)
    assert out.variance == pytest.approx(se**2)


def test_gvf_needs_enough_areas() -> None:
    with pytest.raises(AnalysisError, match="generalised variance function"):
        smooth_variances([0.5, 0.6], [0.0, 0.1], [5, 5])


def test_standardised_residuals_and_qq() -> None:
    d = pd.read_csv(API)
    r = fay_herriot(d["estimate"], d["se"] ** 2, d[["meals", "ell"]], areas=d["county"])
    res = np.array([a.residual for a in r.areas if a.residual is not None])
    a0 = r.areas[0]
    assert a0.residual == pytest.approx(
        (a0.direct - a0.synthetic_estimate) / math.sqrt(r.model.sigma2_u + a0.direct_se**2)  # type: ignore[operator]
    )
    theo, sample = normal_qq(res)
    assert sample.tolist() == sorted(res.tolist())
    assert theo[0] < 0 < theo[-1] and theo == pytest.approx(-theo[::-1])
    k = len(res)
    assert theo[0] == pytest.approx(float(stats.norm.ppf(0.625 / (k + 0.25))))
    lo, hi = a0.interval(0.95)
    assert hi - lo == pytest.approx(2 * 1.959963984540054 * math.sqrt(a0.mse))


def test_gvf_fits_the_reference_when_no_area_has_a_usable_se() -> None:
    """Communes that are each one PSU have no design SE (0 here): with the province as the
    reference, d is its design effect and every commune gets d·p̄(1 − p̄)/n."""
    est = np.array([0.6, 0.7, 0.8, np.nan])
    n = np.array([5.0, 10.0, 20.0, 0.0])
    se = np.array([0.0, 0.0, 0.0, np.nan])
    p_r, s_r, n_r = 0.72, 0.03, 400.0
    out = smooth_variances(est, se, n, min_n=30, reference=(p_r, s_r, n_r))
    d = s_r**2 / (p_r * (1 - p_r) / n_r)
    pbar = (5 * 0.6 + 10 * 0.7 + 20 * 0.8) / 35
    assert out.params == pytest.approx((d, pbar), rel=1e-12)
    assert out.fitted_on == 0 and out.smoothed.tolist() == [True, True, True, False]
    assert out.variance[:3] == pytest.approx(d * pbar * (1 - pbar) / n[:3], rel=1e-12)
    assert np.isnan(out.variance[3])
    # without the reference, as before: too few areas with a positive SE
    with pytest.raises(AnalysisError):
        smooth_variances(est, se, n, min_n=30)
    with pytest.raises(AnalysisError):
        smooth_variances(est, se, n, min_n=30, reference=(0.72, 0.0, 400.0))


def test_gvf_with_a_reference_and_no_area_in_sample_smooths_nothing() -> None:
    """Every area out of sample (a messy campaign whose respondents have no commune): there
    is nothing to average or smooth, and no 0/0 (it answered 500 on the report files)."""
    est = np.array([np.nan, np.nan])
    out = smooth_variances(est, [np.nan, np.nan], [0.0, 0.0], reference=(0.7, 0.05, 12.0))
    assert np.isnan(out.variance).all() and not out.smoothed.any()
    assert out.params[1] == pytest.approx(0.7)
