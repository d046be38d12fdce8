"""The sufficient-statistics entry point equals the unit-level path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from analysis_helpers import sipas_indices

from surveyapp.analysis import Spec, analyze
from surveyapp.analysis.cells_api import analyze_cell_frame


def _group_by(
    frame: pd.DataFrame, keys: list[str], shares: list[str], raking: bool
) -> pd.DataFrame:
    """What a SQL GROUP BY would return (pandas stands in for the database)."""
    cols = {k: frame[k] for k in keys}
    cols["n"] = pd.Series(1.0, index=frame.index)
    cols["sw"] = frame.w
    for q in shares:
        r = frame[q].notna().astype(float)
        y = frame[q].isin([4, 5]).astype(float)
        cols[f"{q}__wy"] = frame.w * y
        cols[f"{q}__wr"] = frame.w * r
        cols[f"{q}__r"] = r
        if raking:
            cols[f"{q}__y"] = y
    return pd.DataFrame(cols).groupby(keys, as_index=False).sum()


@pytest.mark.parametrize("margins", [(), ("age",), ("sex", "age")])
def test_cell_table_equals_rows(sipas: pd.DataFrame, items: pd.DataFrame, margins: tuple) -> None:
    pops = {
        "sex": ("sex", (("F", 140000.0), ("M", 132000.0))),
        "age": ("age", (("18-34", 84000.0), ("35-54", 118000.0), ("55+", 70000.0))),
    }
    shares = [f"q{k}" for k in range(1, 34)]
    spec = Spec(
        props=(("q19", (4, 5)),),
        indices=sipas_indices(items),
        by="district",
        national=True,
        margins=tuple(pops[m] for m in margins),
    )
    rows = analyze(sipas, spec, weight="w", strata="stratum", cluster=("psu",), fpc=("fpc1",))
    keys = ["stratum", "psu", *margins, "district"]
    cells = _group_by(sipas, keys, shares, len(margins) > 1)
    assert len(cells) < len(sipas)
    pop = sipas.groupby("stratum").fpc1.first().to_dict()
    got = analyze_cell_frame(cells, spec, stratum_popsize=pop)
    a, b = rows.to_dict(), got.to_dict()
    assert a["design"] == b["design"]
    for x, y in zip(a["estimates"], b["estimates"], strict=True):
        assert x["variable"] == y["variable"] and x["domain"] == y["domain"]
        for k in ("estimate", "se", "ci_low", "ci_high", "deff"):
            np.testing.assert_allclose(x[k], y[k], rtol=1e-10)
        assert x["n"] == y["n"]


def _popsizes(sipas: pd.DataFrame) -> dict[str, Any]:
    """The stage population sizes of the rows, as the cell path takes them."""
    stage2 = sipas.groupby(["stratum", "psu"]).fpc2.first().reset_index()
    return {
        "stratum_popsize": sipas.groupby("stratum").fpc1.first().to_dict(),
        "psu_popsize": {(s, p): f for s, p, f in stage2.itertuples(index=False)},
    }


def test_two_stage_cells(sipas: pd.DataFrame) -> None:
    spec = Spec(props=(("q1", (4, 5)),), by="district")
    rows = analyze(
        sipas, spec, weight="w", strata="stratum", cluster=("psu", "rid"), fpc=("fpc1", "fpc2")
    )
    cells = _group_by(sipas, ["stratum", "psu", "rid", "district"], ["q1"], False)
    got = analyze_cell_frame(
        cells,
        spec,
        ssu="rid",
        **_popsizes(sipas),
    )
    for x, y in zip(rows.estimates, got.estimates, strict=True):
        np.testing.assert_allclose([x.estimate, x.se], [y.estimate, y.se], rtol=1e-10)


def test_two_stage_raking_cells_by_domain(sipas: pd.DataFrame, items: pd.DataFrame) -> None:
    """The calibrated variance per domain (its own loop over domains, every unit present in
    each) equals the row path on a two-stage design raked on two margins."""
    pops = (
        ("sex", (("F", 140000.0), ("M", 132000.0))),
        ("age", (("18-34", 84000.0), ("35-54", 118000.0), ("55+", 70000.0))),
    )
    shares = [f"q{k}" for k in range(1, 34)]
    spec = Spec(
        props=(("q19", (4, 5)), ("q3", (4, 5))),
        indices=sipas_indices(items),
        by="district",
        national=True,
        margins=pops,
    )
    rows = analyze(
        sipas, spec, weight="w", strata="stratum", cluster=("psu", "rid"), fpc=("fpc1", "fpc2")
    )
    keys = ["stratum", "psu", "rid", "sex", "age", "district"]
    cells = _group_by(sipas, keys, shares, True)
    got = analyze_cell_frame(
        cells.sample(frac=1.0, random_state=1),  # cells in no particular order
        spec,
        ssu="rid",
        **_popsizes(sipas),
    )
    assert len({e.domain for e in got.estimates}) > 2
    for x, y in zip(rows.estimates, got.estimates, strict=True):
        assert (x.variable, x.domain) == (y.variable, y.domain)
        np.testing.assert_allclose(
            [x.estimate, x.se, x.ci_low, x.ci_high],
            [y.estimate, y.se, y.ci_low, y.ci_high],
            rtol=1e-10,
        )


@pytest.mark.parametrize("layout", ["sorted", "unsorted", "one_per_group", "tiny_groups"])
@pytest.mark.parametrize("k", [0, 1, 3, 40])
def test_group_sum_equals_loop(layout: str, k: int) -> None:
    """Every path of group_sum (segmented, bincount, sparse indicator; small and big sums)
    adds like a loop over rows and drops negative codes."""
    from surveyapp.analysis.linearization import GroupSum, group_sum

    rng = np.random.default_rng(7)
    n = 3000
    codes = {
        "sorted": np.sort(rng.integers(-1, 20, n)),
        "unsorted": rng.integers(-1, 20, n),
        "one_per_group": np.arange(n),
        "tiny_groups": np.repeat(np.arange(n // 2), 2),
    }[layout]
    ngroups = int(codes.max()) + 1
    vals = rng.normal(size=(n, k))
    want = np.zeros((ngroups, k))
    for c, row in zip(codes, vals, strict=True):
        if c >= 0:
            want[c] += row
    np.testing.assert_allclose(group_sum(codes, vals, ngroups), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        GroupSum(codes, ngroups, reuse=True)(vals), want, rtol=1e-12, atol=1e-12
    )
    if k == 1:
        np.testing.assert_allclose(group_sum(codes, vals[:, 0], ngroups), want)


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["b", "a", None, "b"], dtype="str"),
        pd.Series(["b", "a", None, "b"], dtype="string[pyarrow]"),
        pd.Series([3, 1, None, 3], dtype="Int64"),
        pd.Series(pd.Categorical(["b", "a", "b"], categories=["a", "b"])),
        pd.Series([2.0, np.nan, 1.0]),
    ],
)
def test_factorize_reads_arrow_backed_columns_like_pandas(values: pd.Series) -> None:
    """Columns held in Arrow are hashed from their buffers, with pandas' codes and labels
    (first appearance, missing -1); a categorical keeps its order of appearance too."""
    from surveyapp.analysis.design import factorize

    codes, labels = factorize(values)
    expected_codes, expected_labels = pd.factorize(values, sort=False)
    np.testing.assert_array_equal(codes, expected_codes)
    assert [str(x) for x in labels] == [str(x) for x in expected_labels]
