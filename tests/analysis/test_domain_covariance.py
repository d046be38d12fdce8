"""The joint covariance of the domain estimates, computed in one pass, equals the covariance
the variance of every pair's mean gives by polarization (the route the package took before,
kept here as the reference), on every kind of design the reports use."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from surveyapp.analysis import Spec, compare_domains, engine
from surveyapp.analysis.cells_api import (
    analyze_cell_frame,
    compare_cell_frame,
    compare_row_moments,
)
from surveyapp.analysis.compare import domain_differences

ITEMS = ("q1", "q2", "q3", "q4")
INDICES = (("i", ("q1", "q2")), ("j", ("q3", "q4")), ("all", ("i", "j")))
RAKED = (
    ("sex", (("F", 5200.0), ("M", 4800.0))),
    ("area", (("U", 3500.0), ("R", 6500.0))),
)
POSTSTRATIFIED = (("sex", (("F", 5200.0), ("M", 4800.0))),)


def _rows(seed: int = 11, n: int = 900) -> pd.DataFrame:
    """A stratified two-stage sample whose domains cut across strata, PSUs and SSUs: six
    strata (stratum 5 holds one PSU: lonely), PSUs of several households (one household
    alone in its PSU), domain E only in strata 0 and 1."""
    rng = np.random.default_rng(seed)
    stratum = rng.integers(0, 5, n)
    stratum[:20] = 5
    psu = np.where(stratum == 5, 0, rng.integers(0, 4, n))
    ssu = rng.integers(0, 6, n)
    ssu[(stratum == 0) & (psu == 3)] = 0
    d = rng.choice(["A", "B", "C", "D"], n)
    d = np.where((stratum <= 1) & (rng.random(n) < 0.2), "E", d)
    frame = pd.DataFrame(
        {
            "stratum": stratum,
            "psu": psu,
            "ssu": ssu,
            "d": d,
            "w": rng.uniform(5, 20, n),
            "sex": rng.choice(["F", "M"], n),
            "area": rng.choice(["U", "R"], n),
        }
    )
    for k, q in enumerate(ITEMS):
        p = np.where(frame["d"] == "A", 0.65, 0.5) - 0.05 * k + 0.04 * frame["stratum"]
        values = np.where(rng.random(n) < p, 5.0, 2.0)
        values[rng.random(n) < 0.1] = np.nan
        frame[q] = values
    return frame


def _cells(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per (keys) cell: n, sw and the moments of every item."""
    out = frame[keys].copy()
    out["n"] = 1.0
    out["sw"] = frame["w"]
    for q in ITEMS:
        answered = frame[q].notna().to_numpy(dtype=float)
        satisfied = frame[q].isin([4, 5]).to_numpy(dtype=float)
        out[f"{q}__wy"] = frame["w"] * satisfied
        out[f"{q}__wr"] = frame["w"] * answered
        out[f"{q}__r"] = answered
        out[f"{q}__y"] = satisfied
    return out.groupby(keys, sort=True).sum().reset_index()


def _pair_mean_reference(
    cells: pd.DataFrame, spec: Spec, variable: str, design: dict[str, Any]
) -> tuple[list[Any], np.ndarray]:
    """The joint covariance through one "pair mean" index per pair on a cell table widened
    with one set of moment columns per domain, all in one whole-sample run:
    ``Cov(a, b) = (4 Var((a + b)/2) − Var a − Var b) / 2``."""
    assert spec.by is not None
    indices = dict(spec.indices)
    items: list[str] = []
    nodes: list[str] = []

    def walk(name: str) -> None:
        if name in indices:
            nodes.append(name)
            for part in indices[name]:
                walk(part)
        elif name not in items:
            items.append(name)

    walk(variable)
    labels = sorted(set(cells[spec.by]), key=str)
    by_value = cells[spec.by].to_numpy()
    added = {}
    for i, label in enumerate(labels):
        inside = (by_value == label).astype(float)
        for item in items:
            for column in [c for c in cells.columns if c.startswith(f"{item}__")]:
                suffix = column.split("__", 1)[1]
                added[f"{item}@{i}__{suffix}"] = cells[column].to_numpy(float) * inside
    wide = pd.concat(
        [cells.drop(columns=[spec.by]), pd.DataFrame(added, index=cells.index)], axis=1
    )
    per_domain = [
        (f"{n}@{i}", tuple(f"{p}@{i}" for p in indices[n]))
        for i in range(len(labels))
        for n, _ in spec.indices
        if n in nodes
    ]
    pairs = [(i, j) for i in range(len(labels)) for j in range(i + 1, len(labels))]
    means = [(f"pair@{i}@{j}", (f"{variable}@{i}", f"{variable}@{j}")) for i, j in pairs]
    props = () if nodes else tuple((f"{variable}@{i}", spec.satisfied) for i in range(len(labels)))
    joint = Spec(
        props=props,
        indices=tuple(per_domain + means),
        satisfied=spec.satisfied,
        margins=spec.margins,
    )
    result = analyze_cell_frame(wide, joint, **design)
    var = {e.variable.split("=", 1)[0]: e.se**2 for e in result.estimates}
    cov = np.diag([var[f"{variable}@{i}"] for i in range(len(labels))])
    for i, j in pairs:
        cov[i, j] = cov[j, i] = (4 * var[f"pair@{i}@{j}"] - cov[i, i] - cov[j, j]) / 2
    return labels, cov


def _assert_same(cov: np.ndarray, ref: np.ndarray) -> None:
    """Equal to 1e-9 of the scale of each entry, sqrt(Var a · Var b)."""
    scale = np.sqrt(np.outer(np.diag(ref), np.diag(ref)))
    assert np.all(np.abs(cov - ref) <= 1e-9 * scale), np.max(np.abs(cov - ref) / scale)
    # and the domains are really coupled (not a diagonal matrix compared with itself)
    off = ~np.eye(len(ref), dtype=bool)
    assert np.max(np.abs(ref[off]) / scale[off]) > 1e-3


def _by_run_variances(
    cells: pd.DataFrame, spec: Spec, variable: str, design: dict[str, Any]
) -> dict[Any, float]:
    result = analyze_cell_frame(
        cells, dataclasses.replace(spec, props=tuple((q, (4, 5)) for q in ITEMS)), **design
    )
    return {
        e.domain[1]: e.se**2
        for e in result.estimates
        if e.domain is not None and e.variable.split("=", 1)[0] == variable
    }


TWO_STAGE = {
    "strata": "stratum",
    "psu": "psu",
    "ssu": "ssu",
    "stratum_popsize": {h: 40.0 + 10 * h for h in range(6)},
    "lonely_psu": "adjust",
}


def _two_stage_design(frame: pd.DataFrame) -> dict[str, Any]:
    psus = frame[["stratum", "psu"]].drop_duplicates().itertuples(index=False)
    return {**TWO_STAGE, "psu_popsize": {(h, p): 30.0 + h + p for h, p in psus}}


DESIGNS: dict[str, tuple[list[str], Callable[[pd.DataFrame], dict[str, Any]], tuple[Any, ...]]] = {
    "two-stage fpc": (["stratum", "psu", "ssu", "d"], _two_stage_design, ()),
    "one-stage fpc, raked": (
        ["stratum", "psu", "d", "sex", "area"],
        lambda f: {
            "strata": "stratum",
            "psu": "psu",
            "stratum_popsize": {h: 9.0 for h in range(6)},
            "lonely_psu": "adjust",
        },
        RAKED,
    ),
    "two-stage fpc, raked": (
        ["stratum", "psu", "ssu", "d", "sex", "area"],
        _two_stage_design,
        RAKED,
    ),
    "one-stage, post-stratified": (
        ["stratum", "psu", "d", "sex"],
        lambda f: {"strata": "stratum", "psu": "psu", "lonely_psu": "adjust"},
        POSTSTRATIFIED,
    ),
    "one-stage, lonely PSU averaged": (
        ["stratum", "psu", "d"],
        lambda f: {"strata": "stratum", "psu": "psu", "lonely_psu": "average"},
        (),
    ),
    "one-stage, lonely PSU removed": (
        ["stratum", "psu", "d"],
        lambda f: {"strata": "stratum", "psu": "psu", "lonely_psu": "remove"},
        (),
    ),
}


@pytest.fixture(params=["dense", "sparse"])
def route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of forming the covariance: from every domain's unit totals (small designs)
    and from sparse products that never form them (big ones)."""
    if request.param == "sparse":
        monkeypatch.setattr(engine, "COV_DENSE_LIMIT", 0)
    return str(request.param)


@pytest.mark.parametrize("variable", ["all", "q3"])
@pytest.mark.parametrize("name", list(DESIGNS))
def test_the_direct_covariance_is_the_pair_mean_covariance(
    name: str, variable: str, route: str
) -> None:
    keys, design_of, margins = DESIGNS[name]
    frame = _rows()
    cells = _cells(frame, keys)
    design = design_of(frame)
    spec = Spec(indices=INDICES, by="d", margins=margins)
    if variable not in dict(INDICES):
        spec = dataclasses.replace(spec, props=((variable, (4, 5)),))
    joint = compare_cell_frame(cells, spec, variable, **design)
    labels, ref = _pair_mean_reference(cells, spec, variable, design)
    assert list(joint.labels) == labels
    assert "E" in labels  # the domain absent from strata 2-5
    _assert_same(joint.cov, ref)
    # the diagonal is what the by run reports, and the differences use this covariance
    by_run = _by_run_variances(cells, spec, variable, design)
    for label, v in zip(joint.labels, np.diag(joint.cov), strict=True):
        assert v == pytest.approx(by_run[label], rel=1e-10)
    result = domain_differences(cells, spec, variable, **design)
    pair = next(p for p in result.pairs if (p.a, p.b) == ("A", "E"))
    a, e = labels.index("A"), labels.index("E")
    se = math.sqrt(ref[a, a] + ref[e, e] - 2 * ref[a, e])
    assert pair.se == pytest.approx(se, rel=1e-8)


def test_compare_domains_on_rows_gives_the_same_joint_covariance(route: str) -> None:
    """On the respondents' rows (raked, two stages with fpc) the covariance is the one of
    the cell table."""
    frame = _rows()
    frame["fpc1"] = frame["stratum"].map(lambda h: 40.0 + 10 * h)
    frame["fpc2"] = 30.0 + frame["stratum"] + frame["psu"]
    spec = Spec(indices=INDICES, by="d", margins=RAKED)
    by_rows = compare_domains(
        frame,
        spec,
        "all",
        weight="w",
        strata="stratum",
        cluster=("psu", "ssu"),
        fpc=("fpc1", "fpc2"),
        lonely_psu="adjust",
    )
    cells = _cells(frame, ["stratum", "psu", "ssu", "d", "sex", "area"])
    design = _two_stage_design(frame)
    labels, ref = _pair_mean_reference(cells, spec, "all", design)
    assert list(by_rows.labels) == labels
    _assert_same(by_rows.cov, ref)


# Desk ratings: every rating its own PSU, strata = desks.


def _ratings(seed: int = 5, n: int = 700) -> pd.DataFrame:
    """Nine desks; desks 0-5 lie in one commune each, desks 6-8 rate in several; desk 9 has a
    single rating (lonely); the channel cuts across every desk."""
    rng = np.random.default_rng(seed)
    desk = rng.integers(0, 9, n)
    desk[0] = 9
    commune = np.where(desk < 3, "A", np.where(desk < 6, "B", "C"))
    spans = desk >= 6
    commune = np.where(spans, rng.choice(["A", "B", "C", "D"], n), commune)
    frame = pd.DataFrame(
        {"desk": desk, "commune": commune, "channel": rng.choice(["qr", "kiosk", "web"], n)}
    )
    for k, q in enumerate(ITEMS):
        p = 0.4 + 0.05 * (desk % 4) + 0.03 * k
        values = np.where(rng.random(n) < p, 5.0, 1.0)
        values[rng.random(n) < 0.12] = np.nan
        frame[q] = values
    volume = {d: float(rng.integers(50, 500)) for d in range(10)}
    count = frame.groupby("desk")["desk"].transform("size")
    frame["w"] = frame["desk"].map(volume) / count
    return frame


def _moment_cells(
    frame: pd.DataFrame, keys: list[str]
) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Per (keys) cell: the first moments and the sums of products of the ratings' unweighted
    values, as the tallies keep them."""
    columns = [f"{q}__{m}" for q in ITEMS for m in ("y", "r")]
    x = np.column_stack(
        [
            (frame[q].isin([4, 5]) if m == "y" else frame[q].notna()).to_numpy(dtype=float)
            for q in ITEMS
            for m in ("y", "r")
        ]
    )
    per_row = _cells(frame.assign(row=np.arange(len(frame))), [*keys, "row"]).drop(columns=["row"])
    groups = per_row.groupby(keys, sort=True)
    cells = groups.sum().reset_index()
    cells["w"] = cells["sw"] / cells["n"]
    codes = frame.groupby(keys, sort=True).ngroup().to_numpy()
    products = np.zeros((len(cells), len(columns), len(columns)))
    np.add.at(products, codes, x[:, :, None] * x[:, None, :])
    return cells, products, columns


@pytest.mark.parametrize("by", ["commune", "channel"])
@pytest.mark.parametrize("variable", ["all", "q2"])
def test_desk_ratings_covariance_from_cell_sums_alone(by: str, variable: str, route: str) -> None:
    frame = _ratings()
    spec = Spec(indices=INDICES, by=by)
    if variable not in dict(INDICES):
        spec = dataclasses.replace(spec, props=((variable, (4, 5)),))
    cells, products, columns = _moment_cells(frame, ["desk", by])
    joint = compare_row_moments(
        cells, products, columns, spec, variable, strata="desk", lonely_psu="adjust"
    )
    per_row = _cells(frame.assign(row=np.arange(len(frame))), ["desk", "row", by])
    design = {"strata": "desk", "psu": "row", "lonely_psu": "adjust"}
    labels, ref = _pair_mean_reference(per_row, spec, variable, design)
    assert list(joint.labels) == labels
    _assert_same(joint.cov, ref)
    # the general route on one cell per rating agrees too
    rows_route = compare_cell_frame(per_row, spec, variable, **design)
    _assert_same(rows_route.cov, ref)
