from __future__ import annotations

from pathlib import Path

import pytest

from surveyapp.extensions import db
from surveyapp.models import AggregationRule, QuestionType
from surveyapp.services import instruments
from surveyapp.services.instruments import SIPAS_2022, InstrumentError, analysis_spec

LIKERT_VI = ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]


def test_sipas_instrument_has_33_items_in_nine_criteria(sipas) -> None:
    likert = [q for q in sipas.questions if q.type == QuestionType.LIKERT5]
    assert [q.code for q in likert] == [f"q{i}" for i in range(1, 34)]
    assert [o.label["vi"] for o in likert[0].option_set.options] == LIKERT_VI
    assert [o.value for o in likert[0].option_set.options] == [1, 2, 3, 4, 5]
    demographics = [q.code for q in sipas.questions if q.type == QuestionType.SINGLE]
    assert demographics == ["sex", "age_group", "ethnicity", "education", "occupation", "area"]
    nodes = {n.code: n for n in sipas.index_nodes}
    assert list(nodes) == [
        "1.1",
        "1.2",
        "1.3",
        "1.4",
        "2.1",
        "2.2",
        "2.3",
        "2.4",
        "2.5",
        "2.6",
        "1",
        "2",
        "overall",
    ]
    assert nodes["1.3"].part_codes == [f"q{i}" for i in range(5, 13)]
    assert nodes["2.6"].rule == AggregationRule.ITEM_WEIGHTED
    assert nodes["2"].rule == AggregationRule.DESIGNATED and nodes["2"].part_codes == ["2.6"]
    assert nodes["overall"].part_codes == ["1", "2"]
    assert sipas.satisfied_values == ["4", "5"]
    # Vietnamese first, English second, for every text.
    assert all(q.text["vi"] and q.text["en"] for q in sipas.questions)


def test_item_list_matches_the_shared_sipas_file(sipas) -> None:
    import csv

    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "sipas" / "items-2022.csv"
    if not shared.exists():
        pytest.skip("shared data not beside the checkout")
    with shared.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    nodes = {n.code: n.part_codes for n in sipas.index_nodes}
    for row in rows:
        assert f"q{row['item']}" in nodes[row["criterion_code"]]
        assert sipas.question(f"q{row['item']}").text["en"] == row["item_en"]


def test_analysis_spec_expands_the_rules(sipas) -> None:
    spec = dict(analysis_spec(sipas))
    assert spec["2.6"] == [f"q{i}" for i in range(15, 34)]
    assert spec["2"] == ["2.6"]
    assert spec["1"] == ["1.1", "1.2", "1.3", "1.4"]


def test_same_version_cannot_be_loaded_twice(sipas) -> None:
    with pytest.raises(InstrumentError, match="already exists"):
        instruments.load_file(SIPAS_2022)


def test_cli_loads_a_new_version(runner, sipas, tmp_path: Path) -> None:
    text = SIPAS_2022.read_text(encoding="utf-8").replace("version = 1", "version = 2", 1)
    path = tmp_path / "sipas-v2.toml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["questionnaires", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "sipas-2022 v2" in result.output and "40 câu hỏi" in result.output


def _mutate(old: str, new: str) -> str:
    text = SIPAS_2022.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('code = "q5"\nsection = "A"', 'code = "q5"\nsection = "Z"', "unknown section 'Z'"),
        (
            'code = "q7"\nsection = "A"\ntype = "likert5"',
            'code = "q7"\nsection = "A"\ntype = "slider"',
            "type must be one of",
        ),
        ('parts = ["q1", "q2"]', 'parts = ["q1", "q99"]', "part 'q99' is not a question"),
        (
            'rule = "designated"\nparts = ["2.6"]',
            'rule = "designated"\nparts = ["2.5", "2.6"]',
            "exactly one part",
        ),
        ('{ value = 5, vi = "Rất hài lòng"', '{ value = 12, vi = "Rất hài lòng"', "digits 0–9"),
        ('code = "q9"', 'code = "q8"', "defined twice"),
    ],
)
def test_malformed_files_are_refused_with_line_and_problem(
    app, old: str, new: str, problem: str
) -> None:
    text = _mutate(old, new)
    with pytest.raises(InstrumentError) as info:
        instruments.load(text)
    assert problem in info.value.problem
    assert info.value.line is not None
    # The line named is where the offending entry is.
    line = text.splitlines()[info.value.line - 1]
    assert "code" in line or "[" in line or "value" in line
    db.session.rollback()
    from surveyapp.models import Questionnaire

    assert db.session.query(Questionnaire).count() == 0


def test_toml_syntax_error_names_the_line(app) -> None:
    text = _mutate(
        'title.en = "Part A. Policy making and implementation"', 'title.en = "Part A. Policy making'
    )
    with pytest.raises(InstrumentError) as info:
        instruments.load(text)
    expected = next(
        i for i, line in enumerate(text.splitlines(), 1) if "Part A. Policy making" in line
    )
    assert info.value.line == expected


def test_cli_reports_malformed_file_in_one_line(runner, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        _mutate('code = "q5"\nsection = "A"', 'code = "q5"\nsection = "Z"'), encoding="utf-8"
    )
    result = runner.invoke(args=["questionnaires", "load", str(path)])
    assert result.exit_code != 0
    assert "line" in result.output and "unknown section 'Z'" in result.output
    # Vietnamese first for the admin, then the English naming the same problem.
    assert result.output.index("không có phần 'Z'") < result.output.index("unknown section 'Z'")
    assert "dòng" in result.output
