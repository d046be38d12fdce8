"""Every estimator, CI method, design type and calibration against R survey 4.1 fixtures.

``reference/make_reference.R`` produced ``reference/reference.csv`` from R survey (Debian
r-cran-survey) on the API data sets and the simulated SIPAS survey ``reference/sipas-sim.csv``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest
from analysis_helpers import DATA, REFERENCE, read_api, sipas_indices

from surveyapp.analysis import Spec, analyze
from surveyapp.analysis.calibration_frame import trim_weights
from surveyapp.analysis.design import Design

REF = pd.read_csv(REFERENCE / "reference.csv", dtype=str, keep_default_na=False)
# Every CI method, the likelihood one included: ci.py replays R's profile grid and spline.
RTOL = 1e-6

POP = None


def _pop() -> pd.DataFrame:
    global POP
    if POP is None:
        POP = read_api("apipop")
    return POP


def _margin(var: str) -> tuple[str, tuple[tuple[str, float], ...]]:
    counts = _pop()[var].value_counts()
    return var, tuple((str(k), float(v)) for k, v in sorted(counts.items()))


SIPAS_MARGINS = {
    "sex": ("sex", (("F", 140000.0), ("M", 132000.0))),
    "age": ("age", (("18-34", 84000.0), ("35-54", 118000.0), ("55+", 70000.0))),
}

API_CASES = {
    "apisrs": ("apisrs", {"weight": "pw", "fpc": ("fpc",)}, "stype", ()),
    "apisrs_nofpc": ("apisrs", {"weight": "pw"}, "stype", ()),
    "apistrat": ("apistrat", {"weight": "pw", "strata": "stype", "fpc": ("fpc",)}, "awards", ()),
    "apiclus1": ("apiclus1", {"weight": "pw", "cluster": ("dnum",), "fpc": ("fpc",)}, "stype", ()),
    "apiclus1_wr": ("apiclus1", {"weight": "pw", "cluster": ("dnum",)}, "stype", ()),
    "apiclus2": ("apiclus2", {"cluster": ("dnum", "snum"), "fpc": ("fpc1", "fpc2")}, "stype", ()),
    "apiclus2_frac": ("apiclus2", {"cluster": ("dnum", "snum"), "fpc": ("f1", "f2")}, "stype", ()),
    "apiclus1_ps": (
        "apiclus1",
        {"weight": "pw", "cluster": ("dnum",), "fpc": ("fpc",)},
        "awards",
        ("stype",),
    ),
    "apiclus1_rake": (
        "apiclus1",
        {"weight": "pw", "cluster": ("dnum",), "fpc": ("fpc",)},
        "awards",
        ("stype", "sch.wide"),
    ),
    "apistrat_rake": (
        "apistrat",
        {"weight": "pw", "strata": "stype", "fpc": ("fpc",)},
        "awards",
        ("stype", "sch.wide"),
    ),
    "apiclus2_ps": (
        "apiclus2",
        {"cluster": ("dnum", "snum"), "fpc": ("fpc1", "fpc2")},
        "awards",
        ("stype",),
    ),
    "apistrat_trim": (
        "apistrat",
        {"weight": "pw", "strata": "stype", "fpc": ("fpc",)},
        "awards",
        (),
    ),
}

SIPAS2 = {"weight": "w", "strata": "stratum", "cluster": ("psu", "rid"), "fpc": ("fpc1", "fpc2")}
SIPAS1 = {"weight": "w", "strata": "stratum", "cluster": ("psu",)}
SIPAS_CASES = {
    "sipas2": (SIPAS2, ()),
    "sipas1": (SIPAS1, ()),
    "sipas2_rake": (SIPAS2, ("sex", "age")),
    "sipas1_ps": (SIPAS1, ("age",)),
}
for _opt in ("adjust", "average", "certainty", "remove"):
    SIPAS_CASES[f"lonely_{_opt}"] = ({**SIPAS1, "fpc": ("fpc1",), "lonely_psu": _opt}, ())
    SIPAS_CASES[f"lonely_nofpc_{_opt}"] = ({**SIPAS1, "lonely_psu": _opt}, ())

METHOD = {"mean": "wald"}


@functools.cache
def _sipas_frame(case: str) -> pd.DataFrame:
    d = pd.read_csv(REFERENCE / "sipas-sim.csv")
    if case.startswith("lonely"):
        d = d[(d.stratum != 6) | (d.psu == "6-1")].reset_index(drop=True)
    return d


@functools.cache
def _items() -> pd.DataFrame:

    return pd.read_csv(DATA / "sipas" / "items-2022.csv", dtype={"criterion_code": str})


@functools.cache
def run_case(case: str, ci: str) -> dict[tuple[str, str, str], dict[str, float | None]]:
    """Analyse one reference case with one CI method; rows keyed by (stat, var, domain)."""
    if case in API_CASES:
        name, design, by, margins = API_CASES[case]
        frame = read_api(name)
        if case == "apiclus2_frac":
            frame = frame.assign(f1=1 / frame.fpc1, f2=1 / frame.fpc2)
        spec = Spec(
            props=(("sch.wide", ("Yes",)), ("stype", ("E", "M")), ("awards", ("Yes",))),
            means=("api00", "enroll", "acs.k3"),
            totals=("api00", "enroll", "acs.k3"),
            ratios=(("api00", "api99"),),
            by=by,
            national=True,
            margins=tuple(_margin(m) for m in margins),
            ci=ci,
        )
        kw = dict(design)
        if case == "apistrat_trim":
            base = Design.from_arrays(
                weights=frame.pw, strata=frame.stype, fpc=[frame.fpc], n=len(frame)
            )
            tw = trim_weights(base.weights, lower=20, upper=40)
            dz = Design.from_arrays(weights=tw, strata=frame.stype, fpc=[frame.fpc])
            res = analyze(frame, spec, design=dz)
        else:
            res = analyze(frame, spec, **kw)  # type: ignore[arg-type]
    else:
        design, margins = SIPAS_CASES[case]
        frame = _sipas_frame(case)
        spec = Spec(
            props=tuple((f"q{k}", (4, 5)) for k in (1, 19, 32)),
            means=("q5",),
            totals=("q5",),
            indices=sipas_indices(_items()),
            by="district",
            national=True,
            margins=tuple(SIPAS_MARGINS[m] for m in margins),
            ci=ci,
        )
        res = analyze(frame, spec, **design)  # type: ignore[arg-type]
        # item shares of all 33 items
        items = Spec(
            props=tuple((f"q{k}", (4, 5)) for k in range(1, 34)),
            by="district",
            national=True,
            margins=spec.margins,
        )
        res_items = analyze(frame, items, **design)  # type: ignore[arg-type]
    out: dict[tuple[str, str, str], dict[str, float | None]] = {}
    rows = res.to_dict()["estimates"]
    if case not in API_CASES:
        rows = rows + [dict(r, statistic="item") for r in res_items.to_dict()["estimates"]]
    for r in rows:
        dom = "" if r["domain"] is None else "{}={}".format(*next(iter(r["domain"].items())))
        out[(r["statistic"], r["variable"], dom)] = r
    return out


def _f(x: str) -> float:
    return math.nan if x.strip() in ("", "NA") else float(x)


def _cases() -> list[tuple[str, str]]:
    return sorted(
        {
            (c, s.split(":")[1] if ":" in s else "logit")
            for c, s in zip(REF.case, REF.stat, strict=True)
        }
    )


@pytest.mark.parametrize(("case", "ci"), _cases())
def test_matches_r(case: str, ci: str) -> None:
    ref = REF[REF.case == case]
    rows = run_case(case, METHOD.get(ci, ci))
    checked = 0
    for rec in ref.itertuples():
        stat = rec.stat
        if stat == "diff":
            continue
        if ":" in stat:
            if stat.split(":")[1] != ci:
                continue
            stat_name = "prop"
        elif ci != "logit":
            continue
        else:
            stat_name = stat
        got = rows[(stat_name, rec.var, rec.domain)]
        est = _f(rec.est)
        if math.isnan(est):
            assert got["estimate"] is None, (case, rec)
            checked += 1
            continue
        ctx = f"{case} {stat} {rec.var} {rec.domain}"
        np.testing.assert_allclose(got["estimate"], est, rtol=RTOL, err_msg=ctx)
        se = _f(rec.se)
        if se < 1e-6 * max(abs(est), 1e-3):
            # a calibration or stratification variable: R's variance is rounding noise, so
            # compare it absolutely and skip what divides by it (deff, beta's n_eff)
            np.testing.assert_allclose(got["se"], se, atol=1e-9 * max(abs(est), 1), err_msg=ctx)
            checked += 1
            continue
        np.testing.assert_allclose(got["se"], se, rtol=RTOL, err_msg=ctx)
        for key in ("ci_low", "ci_high"):
            want = _f(getattr(rec, key))
            if math.isnan(want):
                continue
            np.testing.assert_allclose(got[key], want, rtol=RTOL, atol=1e-9, err_msg=f"{ctx} {key}")
        want = _f(rec.deff)
        if not math.isnan(want) and math.isfinite(want):
            np.testing.assert_allclose(got["deff"], want, rtol=RTOL, err_msg=f"{ctx} deff")
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("case", ["sipas1", "apistrat"])
def test_domain_difference_matches_r(case: str) -> None:
    """Differences between domains: R svyby(covmat=TRUE) + svycontrast."""
    from surveyapp.analysis.estimate import compare_domains

    ref = REF[(REF.case == case) & (REF.stat == "diff")]
    if case == "sipas1":
        frame, var, by = _sipas_frame(case), "q19", "district"
        design: dict = dict(SIPAS1)
        values: tuple = (4, 5)
    else:
        frame, var, by = read_api("apistrat"), "sch.wide", "awards"
        design = {"weight": "pw", "strata": "stype", "fpc": ("fpc",)}
        values = ("Yes",)
    cmp = compare_domains(frame, Spec(props=((var, values),), by=by), var, **design)
    assert len(ref) > 0
    for rec in ref.itertuples():
        a, b = rec.domain.split("-")
        d = cmp.difference(a, b)
        np.testing.assert_allclose(d.estimate, _f(rec.est), rtol=RTOL)
        np.testing.assert_allclose(d.se, _f(rec.se), rtol=RTOL)
