"""``surveyapp analyze`` through click's CliRunner (no Flask app)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from analysis_helpers import REFERENCE
from click.testing import CliRunner

from surveyapp.analysis.cli import analyze

DATA = str(REFERENCE / "sipas-sim.csv")
DESIGN = ["--weight", "w", "--strata", "stratum", "--cluster", "psu"]


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(analyze, [DATA, *DESIGN, *args])
    return res.exit_code, res.output


def test_json_contract() -> None:
    code, out = run(
        "--prop",
        "q19=4,5",
        "--mean",
        "q5",
        "--total",
        "q5",
        "--index",
        "2.2=q19,q20,q21,q22",
        "--target",
        "2.2=0.3",
    )
    assert code == 0, out
    doc = json.loads(out)
    assert set(doc["design"]) == {"n", "strata", "psu", "df"}
    assert doc["design"] == {"n": 745, "strata": 6, "psu": 30, "df": 24}
    keys = [
        "statistic",
        "variable",
        "values",
        "domain",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "deff",
        "n",
        "target",
        "verdict",
    ]
    for row in doc["estimates"]:
        # the contract's keys in order, then the keys issue 12 added (why null / inconclusive)
        assert list(row) == [*keys, "reason", "verdict_reason"]
    stats = [r["statistic"] for r in doc["estimates"]]
    assert stats == ["prop", "mean", "total", "index"]
    prop, idx = doc["estimates"][0], doc["estimates"][3]
    assert prop["values"] == [4, 5] and prop["domain"] is None
    assert 0 <= prop["ci_low"] <= prop["estimate"] <= prop["ci_high"] <= 1
    assert idx["target"] == 0.3 and idx["verdict"] == "met"


def test_by_gives_rows_per_level() -> None:
    code, out = run("--prop", "q1=4,5", "--by", "district")
    assert code == 0
    rows = json.loads(out)["estimates"]
    assert [r["domain"] for r in rows] == [{"district": f"D{k}"} for k in range(1, 5)]
    code, out = run("--prop", "q1=4,5", "--by", "district", "--national")
    assert json.loads(out)["estimates"][0]["domain"] is None


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_text_formats(fmt: str) -> None:
    code, out = run("--prop", "q1=4,5", "--by", "district", "--format", fmt)
    assert code == 0
    assert "D3" in out


def test_xlsx_and_output(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    code, _ = run("--prop", "q1=4,5", "--format", "xlsx", "--output", str(target))
    assert code == 0
    from openpyxl import load_workbook

    ws = load_workbook(target)["estimates"]
    assert ws.cell(1, 1).value == "statistic"
    js = tmp_path / "o.json"
    code, _ = run("--prop", "q1=4,5", "--output", str(js))
    assert json.loads(js.read_text())["estimates"][0]["variable"] == "q1"


def test_parquet_same_as_csv(tmp_path: Path) -> None:
    pq = tmp_path / "d.parquet"
    pd.read_csv(DATA).to_parquet(pq)
    a = CliRunner().invoke(analyze, [DATA, *DESIGN, "--prop", "q1=4,5"]).output
    b = CliRunner().invoke(analyze, [str(pq), *DESIGN, "--prop", "q1=4,5"]).output
    assert json.loads(a) == json.loads(b)


def _bad(tmp_path: Path, args: list[str], frame: pd.DataFrame | None = None) -> str:
    path = DATA
    if frame is not None:
        path = str(tmp_path / "bad.csv")
        frame.to_csv(path, index=False)
    res = CliRunner().invoke(analyze, [path, *args])
    assert res.exit_code != 0
    msg = res.output.strip()
    assert "\n" not in msg and "Traceback" not in msg
    return msg


def test_bad_input_one_line(tmp_path: Path) -> None:
    assert "nosuch" in _bad(tmp_path, [*DESIGN, "--prop", "nosuch=4,5"])
    frame = pd.read_csv(DATA)
    frame["q5"] = frame["q5"].astype(object)
    frame.loc[7, "q5"] = "abc"
    msg = _bad(tmp_path, [*DESIGN, "--mean", "q5"], frame)
    assert "q5" in msg and "row 8" in msg
    msg = _bad(tmp_path, [*DESIGN, "--index", "x=q5,q6"], frame)
    assert "q5" in msg and "'abc'" in msg and "row 8" in msg
    lone = pd.read_csv(DATA)
    lone = lone[(lone.stratum != 6) | (lone.psu == "6-1")]
    msg = _bad(tmp_path, [*DESIGN, "--prop", "q1=4,5"], lone)
    assert "stratum 6" in msg and "one PSU" in msg
    msg = _bad(tmp_path, [*DESIGN, "--prop", "q1=4,5", "--margin", "sex:F=1000"])
    assert "sex" in msg and "not a margin category" in msg
    msg = _bad(
        tmp_path,
        [
            *DESIGN,
            "--prop",
            "q1=4,5",
            "--margin",
            "sex:F=100,M=100",
            "--margin",
            "age:18-34=500,35-54=500,55+=500",
        ],
    )
    assert "did not converge" in msg
    msg = _bad(
        tmp_path,
        [*DESIGN, "--prop", "q1=4,5", "--margin", "age:18-34=500,35-54=500,55+=500,90+=10"],
    )
    assert "90+" in msg
    assert "Error" in _bad(tmp_path, [*DESIGN, "--prop", "q1"])


def test_lonely_option_accepts() -> None:
    lone_path = REFERENCE / "sipas-sim.csv"
    res = CliRunner().invoke(
        analyze, [str(lone_path), *DESIGN, "--prop", "q1=4,5", "--lonely-psu", "adjust"]
    )
    assert res.exit_code == 0


def test_bad_value_after_the_sniffed_block(tmp_path: Path) -> None:
    """Types are sniffed from the first MiB; a bad value later still names its row."""
    n = 150_000
    frame = pd.DataFrame({"q5": ["4"] * n, "w": ["1.5"] * n})
    frame.loc[n - 10, "q5"] = "abc"
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    res = CliRunner().invoke(analyze, [str(path), "--weight", "w", "--mean", "q5"])
    assert res.exit_code != 0
    assert f"row {n - 9}" in res.output and "q5" in res.output


@pytest.mark.parametrize("typ", ["int8", "uint8", "int32", "int64"])
def test_arrow_integer_answers(tmp_path: Path, typ: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pd.read_csv(DATA)
    table = pa.table(
        {
            "w": frame.w,
            "stratum": frame.stratum,
            "psu": frame.psu,
            "q1": pa.array(frame.q1.to_numpy(dtype=float), mask=frame.q1.isna().to_numpy()).cast(
                typ
            ),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table.slice(3), path)  # a non-zero offset in the written data is fine
    got = CliRunner().invoke(analyze, [str(path), *DESIGN, "--prop", "q1=4,5"])
    want = CliRunner().invoke(analyze, [DATA, *DESIGN, "--prop", "q1=4,5"])
    assert got.exit_code == 0, got.output
    g, w = json.loads(got.output)["estimates"][0], json.loads(want.output)["estimates"][0]
    assert g["n"] == w["n"] - frame.q1.iloc[:3].notna().sum()
