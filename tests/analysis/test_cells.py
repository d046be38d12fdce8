"""The sufficient-statistics entry point equals the unit-level path."""

from __future__ import annotations

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
        stratum_popsize=sipas.groupby("stratum").fpc1.first().to_dict(),
        psu_popsize={
            (s, p): f
            for s, p, f in sipas.groupby(["stratum", "psu"])
            .fpc2.first()
            .reset_index()
            .itertuples(index=False)
        },
    )
    for x, y in zip(rows.estimates, got.estimates, strict=True):
        np.testing.assert_allclose([x.estimate, x.se], [y.estimate, y.se], rtol=1e-10)
