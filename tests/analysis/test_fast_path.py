"""The pandas-free path of ``surveyapp analyze`` gives what the DataFrame path gives.

``surveyapp analyze`` reads files into a :class:`~surveyapp.analysis.columns.ColumnTable`
(numpy straight from Arrow buffers) and writes JSON column by column; these tests pin that
it is the same, byte for byte, as the DataFrame path and ``json.dumps`` of ``to_dict``, and
that it really does without pandas.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from analysis_helpers import REFERENCE
from click.testing import CliRunner

from surveyapp.analysis import Analysis, DesignSummary, Spec, analyze
from surveyapp.analysis.cells import codes_for
from surveyapp.analysis.cli import analyze as analyze_cmd
from surveyapp.analysis.columns import ColumnTable
from surveyapp.analysis.design import factorize
from surveyapp.analysis.results import EstimateBlock

DATA = REFERENCE / "sipas-sim.csv"
DESIGN = ["--weight", "w", "--strata", "stratum", "--cluster", "psu"]
REPORT = [
    *("--prop", "q1=4,5", "--prop", "q2=4,5", "--prop", "q33=1,2"),
    *("--mean", "q5", "--total", "q6", "--ratio", "q7/q8"),
    *("--index", "1.1=q1,q2", "--index", "2.2=q19,q20,q21,q22", "--index", "all=1.1,2.2"),
    *("--target", "all=0.5", "--target", "q1=40"),
    *("--by", "district", "--national"),
]
SPEC = Spec(
    props=(("q1", (4, 5)), ("q2", (4, 5)), ("q33", (1, 2))),
    means=("q5",),
    totals=("q6",),
    ratios=(("q7", "q8"),),
    indices=(("1.1", ("q1", "q2")), ("2.2", ("q19", "q20", "q21", "q22")), ("all", ("1.1", "2.2"))),
    targets=(("all", 0.5), ("q1", 40.0)),
    by="district",
    national=True,
)
KW = {"weight": "w", "strata": "stratum", "cluster": ("psu",)}


def _cli(path: Path | str, *args: str) -> str:
    res = CliRunner().invoke(analyze_cmd, [str(path), *DESIGN, *REPORT, *args])
    assert res.exit_code == 0, res.output
    return res.output


def test_csv_and_parquet_give_the_same_bytes(tmp_path: Path) -> None:
    pq_path = tmp_path / "d.parquet"
    pd.read_csv(DATA).to_parquet(pq_path)
    assert _cli(DATA) == _cli(pq_path)


def test_column_table_equals_dataframe_path(sipas: pd.DataFrame) -> None:
    frame = sipas.copy()
    frame["q5"] = frame["q5"].astype(float)  # a float answer column with NaN
    table = ColumnTable(pa.Table.from_pandas(frame, preserve_index=False))
    fast = analyze(table, SPEC, **KW)
    slow = analyze(frame, SPEC, **KW)
    expected = json.dumps(slow.to_dict(), ensure_ascii=False)
    assert fast.to_json() == expected
    assert json.dumps(fast.to_dict(), ensure_ascii=False) == expected  # Estimate objects too


def test_cli_json_is_json_dumps_of_to_dict(sipas: pd.DataFrame) -> None:
    frame = sipas.assign(district=sipas["district"].map(lambda d: f"Quận {d}"))
    res = analyze(frame, SPEC, **KW)
    text = res.to_json()
    assert text == json.dumps(res.to_dict(), ensure_ascii=False)
    assert "Quận D1" in text
    assert any(e["verdict"] for e in json.loads(text)["estimates"])


def test_cli_runs_without_pandas() -> None:
    code = (
        "import sys\n"
        "from surveyapp.analysis.cli import analyze\n"
        f"analyze({[str(DATA), *DESIGN, *REPORT]!r}, standalone_mode=False)\n"
        "assert 'pandas' not in sys.modules, 'pandas was imported'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["design"]["psu"] == 30


def test_json_floats_are_repr() -> None:
    """``Analysis.to_json`` formats the float columns in one go; each number reads as
    ``json.dumps`` (``float.__repr__``) writes it, non-finite ones as null."""
    rng = np.random.default_rng(3)
    x = np.concatenate(
        [
            rng.random(20_000),
            np.exp(rng.uniform(-40, 60, 20_000)) * rng.choice([-1, 1], 20_000),
            np.round(rng.random(2_000), 3),
            [0.0, -0.0, 1.0, 2.0, 1e-4, 9.999999999999999e-05, 1e15, 1e16, 0.1, 1 / 3],
            [math.nan, math.inf, -math.inf, 5e-324, 1.7976931348623157e308],
        ]
    )

    def analysis() -> Analysis:
        k = len(x)
        block = EstimateBlock(
            kind="mean",
            variable="v",
            values=None,
            domains=[None] * k,
            est=x,
            se=x[::-1].copy(),
            lo=x,
            hi=x,
            deff=x,
            n=np.arange(k, dtype=np.int64),
            target=None,
            verdict=None,
            p_meets=None,
            n_decide=None,
            df=math.inf,
        )
        return Analysis(DesignSummary(n=k, strata=1, psu=2, df=1), blocks=[block])

    fast = analysis().to_json()
    assert fast == json.dumps(analysis().to_dict(), ensure_ascii=False)


@pytest.mark.parametrize(
    "values",
    [
        np.array([3, 1, 3, 2, 1]),
        np.array([1, 1, 2, 5, 5]),
        np.array([2.5, np.nan, 1.0, 2.5]),
        np.array(["b", "a", None, "b"], dtype=object),
        np.array([1, 1.0, 2], dtype=object),
        pa.array(["x", None, "y", "x"]),
        pa.array([4, None, 4, 2], pa.int8()),
    ],
)
def test_factorize_and_codes_match_pandas(values: object) -> None:
    ref = (
        pd.Series(values.to_pylist(), dtype=object)
        if isinstance(values, pa.Array)
        else pd.Series(values)
    )
    codes, labels = factorize(values)
    pcodes, plabels = pd.factorize(ref, sort=False)
    assert codes.tolist() == pcodes.tolist()
    assert [str(x) for x in labels] == [str(x) for x in plabels]
    scodes, slabels = codes_for(values)
    pcodes, plabels = pd.factorize(ref, sort=True)
    assert scodes.tolist() == pcodes.tolist()
    assert [str(x) for x in slabels] == [str(x) for x in plabels]


def test_parquet_with_several_row_groups(tmp_path: Path, sipas: pd.DataFrame) -> None:
    path = tmp_path / "rg.parquet"
    pq.write_table(pa.Table.from_pandas(sipas, preserve_index=False), path, row_group_size=100)
    assert _cli(path) == _cli(DATA)
