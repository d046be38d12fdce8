"""Desk ratings from per-cell sums of products give the estimates of the rows themselves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from surveyapp.analysis import AnalysisError, Spec
from surveyapp.analysis.cells_api import analyze_cell_frame, analyze_row_moments

ITEMS = ("q1", "q2", "q3", "q4", "q5")


def _rows(rng: np.random.Generator, n: int = 600) -> pd.DataFrame:
    desk = rng.integers(0, 9, n)
    desk[0] = 9  # a desk with a single rating: a lonely PSU
    frame = pd.DataFrame(
        {
            "desk": desk,
            "commune": np.where(desk < 4, "A", np.where(desk < 7, "B", "C")),
            "channel": rng.choice(["qr", "kiosk"], n),
        }
    )
    for q in ITEMS:
        values = rng.integers(1, 6, n).astype(float)
        values[rng.random(n) < 0.15] = np.nan
        frame[q] = values
    # a weight per desk (its volume over its ratings), one desk without volume at zero
    volume = {d: float(rng.integers(50, 500)) for d in range(10)}
    volume[3] = 0.0
    count = frame.groupby("desk")["desk"].transform("size")
    frame["w"] = frame["desk"].map(volume) / count
    return frame


def _cells_per_row(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[["desk", "commune", "channel"]].copy()
    out["psu"] = np.arange(len(frame))
    out["n"] = 1.0
    out["sw"] = frame["w"]
    for q in ITEMS:
        r = frame[q].notna().to_numpy(dtype=float)
        y = frame[q].isin([4, 5]).to_numpy(dtype=float)
        out[f"{q}__wy"] = frame["w"] * y
        out[f"{q}__wr"] = frame["w"] * r
        out[f"{q}__r"] = r
    return out


def _moment_cells(
    frame: pd.DataFrame, keys: list[str]
) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    columns = [f"{q}__{m}" for q in ITEMS for m in ("y", "r")]
    x = np.column_stack(
        [
            (frame[q].isin([4, 5]) if m == "y" else frame[q].notna()).to_numpy(dtype=float)
            for q in ITEMS
            for m in ("y", "r")
        ]
    )
    rows = _cells_per_row(frame)
    groups = rows.groupby(keys, sort=True)
    cells = groups[[c for c in rows.columns if c not in (*keys, "psu")]].sum().reset_index()
    cells["w"] = groups["sw"].sum().to_numpy() / groups["n"].sum().to_numpy()
    codes = groups.ngroup().to_numpy()
    products = np.zeros((len(cells), len(columns), len(columns)))
    np.add.at(products, codes, x[:, :, None] * x[:, None, :])
    return cells, products, columns


def _spec(by: str | None, ci: str = "logit") -> Spec:
    return Spec(
        props=tuple((q, (4, 5)) for q in ITEMS),
        indices=(("1.1", ("q1", "q2", "q3")), ("1.2", ("q4", "q5")), ("all", ("1.1", "1.2"))),
        by=by,
        national=True,
        ci=ci,
        targets=(("all", 0.5),),
    )


@pytest.mark.parametrize("by", [None, "commune", "desk", "channel"])
@pytest.mark.parametrize("ci", ["logit", "wald"])
def test_row_moments_equal_one_psu_per_row(by: str | None, ci: str) -> None:
    frame = _rows(np.random.default_rng(11))
    spec = _spec(by, ci)
    rows = analyze_cell_frame(
        _cells_per_row(frame), spec, strata="desk", psu="psu", lonely_psu="adjust"
    )
    keys = ["desk", *([by] if by and by != "desk" else [])]
    cells, products, columns = _moment_cells(frame, keys)
    got = analyze_row_moments(cells, products, columns, spec, strata="desk", lonely_psu="adjust")
    want_rows, got_rows = rows.to_dict()["estimates"], got.to_dict()["estimates"]
    assert got.to_dict()["design"] == rows.to_dict()["design"]
    assert len(got_rows) == len(want_rows) > 0
    for a, b in zip(want_rows, got_rows, strict=True):
        assert a.keys() == b.keys()
        for key, value in a.items():
            if isinstance(value, float):
                assert b[key] == pytest.approx(value, rel=1e-9, abs=1e-12), (a["variable"], key)
            else:
                assert b[key] == value, (a["variable"], key)
    # the cells are the desks (and their domains), not the 600 ratings
    assert len(cells) <= 10 * 3 * 2


def test_row_moments_refuse_what_needs_rows() -> None:
    frame = _rows(np.random.default_rng(3))
    cells, products, columns = _moment_cells(frame, ["desk"])
    with pytest.raises(AnalysisError, match="average"):
        analyze_row_moments(
            cells, products, columns, _spec(None), strata="desk", lonely_psu="average"
        )
    with pytest.raises(AnalysisError, match="K x K"):
        analyze_row_moments(cells, products[:, :2, :2], columns, _spec(None), strata="desk")
