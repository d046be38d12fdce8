"""Issue 12: the analysis on messy data, and statistics that claim no more than they know.

Missing design values are refused with one line; an empty item blanks only the indices that
use it; verdicts need a positive SE and an estimate not flagged small; ``n_to_decide`` is on
the CI's scale with a stated power; zero-weight PSUs count in neither df nor n (pinned to R);
rows with a missing ``--by`` value form their own domain; pairwise differences between domains
come from the joint covariance with t on the design df.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from analysis_helpers import DATA, REFERENCE, sipas_indices
from click.testing import CliRunner
from test_cells import _group_by

from surveyapp.analysis import AnalysisError, Spec, analyze, targets
from surveyapp.analysis.cells_api import analyze_cell_frame
from surveyapp.analysis.ci import quantile
from surveyapp.analysis.cli import analyze as analyze_cli
from surveyapp.analysis.design import Design
from surveyapp.analysis.estimate import compare_domains

DESIGN = {"weight": "w", "strata": "stratum", "cluster": ("psu",)}
CLI_DESIGN = ["--weight", "w", "--strata", "stratum", "--cluster", "psu"]


def _cli(path: Path, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(analyze_cli, [str(path), *args])
    return res.exit_code, res.output


# --- defect 1: a missing design value is one clear line ------------------------------------


@pytest.mark.parametrize(
    ("column", "blank"),
    [("stratum", ""), ("psu", ""), ("w", ""), ("fpc1", "")],
)
def test_cli_refuses_a_missing_design_value_in_one_line(
    sipas: pd.DataFrame, tmp_path: Path, column: str, blank: str
) -> None:
    frame = sipas.astype({column: object})
    frame.loc[6, column] = blank
    path = tmp_path / "messy.csv"
    frame.to_csv(path, index=False)
    code, out = _cli(path, *CLI_DESIGN, "--fpc", "fpc1", "--prop", "q1=4,5")
    assert code != 0
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert repr(column) in lines[0] and "row 7" in lines[0]


def test_design_from_arrays_refuses_missing_labels() -> None:
    with pytest.raises(AnalysisError, match="strata: missing value in row 2"):
        Design.from_arrays(weights=[1.0, 1.0, 1.0], strata=["a", None, "a"])
    with pytest.raises(AnalysisError, match="cluster stage 1: missing value in row 3"):
        Design.from_arrays(weights=[1.0, 1.0, 1.0], clusters=[np.array([1.0, 2.0, np.nan])])


@pytest.mark.parametrize("column", ["stratum", "psu", "sw"])
def test_cell_frame_refuses_a_missing_design_value(sipas: pd.DataFrame, column: str) -> None:
    """The crash of issue 12: a NULL stratum reached ``np.bincount`` in the cell path."""
    cells = _group_by(sipas, ["stratum", "psu"], ["q1"], False).astype({column: object})
    cells.loc[3, column] = None
    with pytest.raises(AnalysisError, match=rf"'{column}'.*row 4"):
        analyze_cell_frame(cells, Spec(props=(("q1", (4, 5)),)))


# --- defect 2: one empty item blanks only the indices that use it ---------------------------


def _q31_empty_in_d1(sipas: pd.DataFrame) -> pd.DataFrame:
    return sipas.assign(q31=sipas.q31.where(sipas.district != "D1"))


def _check_index_rows(result: object, indices: tuple) -> None:
    uses_q31 = {"2.5", "2.6", "2", "overall"}
    rows = {e.variable: e for e in result.estimates if e.domain == ("district", "D1")}  # type: ignore[attr-defined]
    assert set(rows) >= {name for name, _ in indices}
    for name, _ in indices:
        row = rows[name]
        if name in uses_q31:
            assert row.to_dict()["estimate"] is None, name
            assert row.reason == "empty_part:q31", (name, row.reason)
        else:
            assert math.isfinite(row.estimate) and row.se > 0, name
            assert row.reason is None


def test_empty_item_blanks_only_its_indices_rows(sipas: pd.DataFrame, items: pd.DataFrame) -> None:
    indices = sipas_indices(items)
    spec = Spec(indices=indices, by="district")
    res = analyze(_q31_empty_in_d1(sipas), spec, **DESIGN)
    _check_index_rows(res, indices)
    row = res.to_dict()["estimates"]
    assert any(r["reason"] == "empty_part:q31" for r in row)
    assert json.loads(res.to_json()) == res.to_dict()


def test_empty_item_blanks_only_its_indices_cells(sipas: pd.DataFrame, items: pd.DataFrame) -> None:
    indices = sipas_indices(items)
    frame = _q31_empty_in_d1(sipas)
    cells = _group_by(frame, ["stratum", "psu", "district"], [f"q{k}" for k in range(1, 34)], False)
    res = analyze_cell_frame(cells, Spec(indices=indices, by="district"))
    _check_index_rows(res, indices)


def test_empty_item_cli_by(sipas: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "q31.csv"
    _q31_empty_in_d1(sipas).to_csv(path, index=False)
    code, out = _cli(
        path, *CLI_DESIGN, "--by", "district", "--index", "a=q1,q2", "--index", "b=q30,q31"
    )
    assert code == 0, out
    rows = {(r["variable"], r["domain"]["district"]): r for r in json.loads(out)["estimates"]}
    assert rows[("a", "D1")]["estimate"] is not None and rows[("a", "D1")]["reason"] is None
    assert rows[("b", "D1")]["estimate"] is None and rows[("b", "D1")]["reason"] == "empty_part:q31"
    assert rows[("b", "D2")]["estimate"] is not None
    code, table = _cli(
        path, *CLI_DESIGN, "--by", "district", "--index", "b=q30,q31", "--format", "table"
    )
    assert code == 0 and "empty_part:q31" in table


# --- verdicts ---------------------------------------------------------------------------------


def test_one_respondent_answering_5_is_not_met(sipas: pd.DataFrame) -> None:
    one = sipas.assign(q1=np.where(sipas.index == 0, 5.0, np.nan))
    res = analyze(one, Spec(props=(("q1", (4, 5)),), targets=(("q1", 0.8),)), **DESIGN)
    row = res.estimates[0]
    assert row.estimate == 1.0 and row.n == 1
    assert row.verdict == "inconclusive"
    assert row.verdict_reason in {"se_zero", "small_sample"}
    assert row.to_dict()["verdict_reason"] == row.verdict_reason
    assert row.n_to_decide is None and row.n_to_decide_reason is not None


def test_small_domain_is_inconclusive_even_when_the_ci_clears_the_target(
    sipas: pd.DataFrame,
) -> None:
    few = sipas.groupby("psu").head(1).head(20).assign(q1=5)
    rest = sipas[~sipas.index.isin(few.index)].assign(q1=np.nan)
    frame = pd.concat([few, rest]).assign(q1=lambda f: f.q1.where(f.index != few.index[0], 3))
    res = analyze(frame, Spec(props=(("q1", (4, 5)),), targets=(("q1", 0.5),)), **DESIGN)
    row = res.estimates[0]
    assert row.ci_low >= 0.5 and row.se > 0 and row.n < 30
    assert (row.verdict, row.verdict_reason) == ("inconclusive", "small_sample")


def test_verdict_labels_and_reasons_live_in_one_place(sipas: pd.DataFrame) -> None:
    spec = Spec(
        props=(("q1", (4, 5)), ("q2", (4, 5))),
        targets=(("q1", 0.01), ("q2", 0.99)),
        by="district",
        national=True,
    )
    res = analyze(sipas, spec, **DESIGN)
    seen = {(e.verdict, e.verdict_reason) for e in res.estimates}
    assert ("met", None) in seen and ("not_met", None) in seen
    for verdict, reason in seen:
        assert verdict in targets.VERDICTS
        assert reason is None or reason in targets.VERDICT_REASONS


# --- p_meets_target and n_to_decide -----------------------------------------------------------


def test_n_to_decide_is_on_the_logit_scale_with_power(sipas: pd.DataFrame) -> None:
    spec = Spec(props=(("q1", (4, 5)),), by="district", targets=(("q1", 0.0),))
    base = analyze(sipas, spec, **DESIGN)
    # a target inside each district's interval, so no district is decided yet
    checked = 0
    for row in base.estimates:
        target = (row.ci_low + row.estimate) / 2
        res = analyze(sipas, dataclasses.replace(spec, targets=(("q1", target),)), **DESIGN).find(
            "q1", row.domain[1] if row.domain else None
        )
        if res.verdict != "inconclusive" or res.verdict_reason != "ci_contains_target":
            continue
        p, se = res.estimate, res.se
        se_logit = se / (p * (1 - p))
        delta = abs(math.log(p / (1 - p)) - math.log(target / (1 - target)))
        z = quantile(0.95, res.df) + quantile(0.6, res.df)  # 80% power: one-sided 0.8
        expected = math.ceil(res.n * (z * se_logit / delta) ** 2)
        assert res.n_to_decide == expected
        assert res.n_to_decide > res.n and res.n_to_decide_reason is None
        # at that size the same estimate's logit interval clears the target with room to spare
        se_new = se_logit * math.sqrt(res.n / res.n_to_decide)
        assert delta / se_new >= quantile(0.95, res.df)
        checked += 1
    assert checked >= 3


def test_n_to_decide_is_null_with_reason_when_decided(sipas: pd.DataFrame) -> None:
    res = analyze(sipas, Spec(props=(("q1", (4, 5)),), targets=(("q1", 0.01),)), **DESIGN)
    row = res.estimates[0]
    assert row.verdict == "met"
    assert row.n_to_decide is None and row.n_to_decide_reason == "decided"
    d = row.to_dict(extended=True)
    assert d["n_to_decide"] is None and d["n_to_decide_reason"] == "decided"
    assert 0.99 < d["p_meets_target"] <= 1


def test_p_meets_target_is_a_probability_on_the_ci_scale(sipas: pd.DataFrame) -> None:
    row = analyze(sipas, Spec(props=(("q1", (4, 5)),), targets=(("q1", 0.5),)), **DESIGN)
    e = row.estimates[0]
    # at the estimate itself the probability is one half
    at = analyze(
        sipas, Spec(props=(("q1", (4, 5)),), targets=(("q1", e.estimate),)), **DESIGN
    ).estimates[0]
    assert at.p_meets_target == pytest.approx(0.5)
    assert 0 <= e.p_meets_target <= 1


# --- zero-weight units, pinned to R ----------------------------------------------------------


def test_zero_weight_psus_count_in_neither_df_nor_n() -> None:
    """``reference/make_zero_weight.R``: R's degf counts PSUs and strata with a weight."""
    data = pd.read_csv(REFERENCE / "zero-weight.csv")
    ref = pd.read_csv(REFERENCE / "zero-weight-ref.csv", keep_default_na=False)
    spec = Spec(props=(("q1", (4, 5)),), means=("y",), by="district", national=True)
    res = analyze(data, spec, **DESIGN)
    first = ref.iloc[0]
    assert res.design.df == first.df == 5
    assert res.design.n == first.n_design
    assert (res.design.strata, res.design.psu) == (first.strata_design, first.psu_design)
    for r in ref.itertuples():
        var = "q1" if r.stat == "prop" else "y"
        e = res.find(var, r.domain or None, r.stat)
        assert e.n == r.n and e.df == 5
        for got, want in ((e.estimate, r.est), (e.se, r.se), (e.ci_low, r.ci_low)):
            assert got == pytest.approx(float(want), rel=1e-9)
        assert e.ci_high == pytest.approx(float(r.ci_high), rel=1e-9)
        assert e.deff == pytest.approx(float(r.deff), rel=1e-9)
    # the cell path agrees
    data["q1"] = data.q1.astype(float)
    cells = _group_by(data, ["stratum", "psu", "district"], ["q1"], False)
    got = analyze_cell_frame(cells, Spec(props=(("q1", (4, 5)),), by="district"))
    assert got.design.df == 5
    assert got.find("q1", "A").df == 5


# --- --by with missing values ----------------------------------------------------------------


def test_rows_with_a_missing_by_value_form_their_own_domain(
    sipas: pd.DataFrame, tmp_path: Path
) -> None:
    frame = sipas.assign(district=sipas.district.where(sipas.index % 7 != 0))
    spec = Spec(props=(("q1", (4, 5)),), by="district")
    res = analyze(frame, spec, **DESIGN)
    missing = res.find("q1", None, "prop")
    assert missing.domain == ("district", None)
    assert missing.n == int((frame.district.isna() & frame.q1.notna()).sum())
    # the same as naming the missing rows
    named = analyze(frame.fillna({"district": "ZZ"}), spec, **DESIGN).find("q1", "ZZ")
    assert missing.estimate == pytest.approx(named.estimate, rel=1e-12)
    assert missing.se == pytest.approx(named.se, rel=1e-12)
    # the CLI reports it as {"district": null}
    path = tmp_path / "by.csv"
    frame.to_csv(path, index=False)
    code, out = _cli(path, *CLI_DESIGN, "--by", "district", "--prop", "q1=4,5")
    assert code == 0, out
    doms = [r["domain"] for r in json.loads(out)["estimates"]]
    assert {"district": None} in doms and len(doms) == frame.district.nunique() + 1
    # and the cell path
    named_frame = frame.fillna({"district": "ZZ"})
    cells = _group_by(named_frame, ["stratum", "psu", "district"], ["q1"], False)
    cells["district"] = cells.district.replace("ZZ", None)
    got = analyze_cell_frame(cells, spec)
    assert got.find("q1", None, "prop").domain == ("district", None)
    assert got.find("q1", None, "prop").estimate == pytest.approx(named.estimate, rel=1e-12)


# --- pairwise differences and rank intervals ------------------------------------------------


def test_pairwise_differences_use_the_joint_covariance_and_t(sipas: pd.DataFrame) -> None:
    spec = Spec(props=(("q1", (4, 5)),), by="district")
    comp = compare_domains(sipas, spec, "q1", **DESIGN)
    pw = targets.pairwise_differences(comp.estimates, comp.cov, comp.df, 0.95, labels=comp.labels)
    assert isinstance(pw, targets.PairwiseDifferences)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pw.level = 0.9  # type: ignore[misc]
    k = len(comp.labels)
    assert len(pw.pairs) == k * (k - 1) // 2
    for pair in pw.pairs:
        d = comp.difference(pair.a, pair.b)
        assert pair.estimate == pytest.approx(d.estimate)
        assert pair.se == pytest.approx(d.se)
        q = quantile(0.95, comp.df)
        assert pair.ci_low == pytest.approx(pair.estimate - q * pair.se)
        assert 0 <= pair.p_value <= 1
        assert pair.differ == (pair.ci_low > 0 or pair.ci_high < 0)
    assert pw.df == comp.df and math.isfinite(comp.df)
    assert comp.pairwise() == pw
    first = pw.pairs[0]
    flipped = pw.get(first.b, first.a)
    assert flipped.estimate == -first.estimate and flipped.ci_low == -first.ci_high


def test_rank_intervals_with_t_are_at_least_as_wide(sipas: pd.DataFrame) -> None:
    from surveyapp.analysis.targets import rank_intervals

    spec = Spec(props=(("q1", (4, 5)),), by="district")
    comp = compare_domains(sipas, spec, "q1", **DESIGN)
    normal = rank_intervals(list(comp.estimates), comp.cov, 0.95)
    with_t = rank_intervals(list(comp.estimates), comp.cov, 0.95, df=2.0)
    assert all(t[0] <= n[0] and t[1] >= n[1] for t, n in zip(with_t, normal, strict=True))
    assert with_t != normal


# --- field aggregation against the published 2023 figures ------------------------------------


def test_published_field_figures_and_the_aggregation_rules() -> None:
    """Which rule reproduces Đồng Nai's published 2023 fields from its criteria (issue 12).

    Criterion 2.6 is the item-weighted mean of 2.1-2.5 (to the published rounding) and field 2
    equals 2.6 exactly. No rule tried reproduces field 1 (80.23 %): the plain mean gives 79.87,
    the item-weighted mean 79.93, and every mean of a subset of 1.1-1.4 misses too. The TOML
    keeps the rule as data and says so; this test fails if either finding changes.
    """
    import itertools
    import tomllib

    pub = pd.read_csv(DATA / "sipas" / "dong-nai-targets-2025.csv", dtype={"code": str})
    items = pd.read_csv(DATA / "sipas" / "items-2022.csv", dtype={"criterion_code": str})
    value = dict(zip(pub.code, pub.result_2023_pct, strict=True))
    n_items = items.criterion_code.value_counts().to_dict()
    toml_path = Path(__file__).parents[2] / "surveyapp" / "instruments" / "sipas-2022.toml"
    tree = {n["code"]: n for n in tomllib.loads(toml_path.read_text())["indices"]}

    def by_rule(code: str) -> float:
        node = tree[code]
        parts = node["parts"]
        if node["rule"] == "designated":
            return value[parts[0]]
        if node["rule"] == "item_weighted":
            return sum(value[p] * n_items[p] for p in parts) / sum(n_items[p] for p in parts)
        return sum(value[p] for p in parts) / len(parts)

    assert abs(by_rule("2.6") - value["2.6"]) < 0.01  # 80.745 published as 80.74
    assert by_rule("2") == value["2"]
    # field 1: the gap the TOML documents
    assert by_rule("1") == pytest.approx(79.87)
    assert value["1"] == 80.23
    crit = ["1.1", "1.2", "1.3", "1.4"]
    candidates = [
        sum(value[c] for c in crit) / 4,
        sum(value[c] * n_items[c] for c in crit) / sum(n_items[c] for c in crit),
        *(
            sum(value[c] for c in sub) / len(sub)
            for r in range(1, 5)
            for sub in itertools.combinations(crit, r)
        ),
        float(np.median([value[c] for c in crit])),
    ]
    # published criteria are rounded to 0.01, so a true rule would land within 0.01
    assert min(abs(x - value["1"]) for x in candidates) > 0.05
    assert "80.23" in toml_path.read_text()
