"""Loading a questionnaire definition (TOML, see ``surveyapp/instruments/``) into the database.

Validation happens on the parsed file before anything is written: a malformed file is refused
with the line it is on and what is wrong, and nothing is stored.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models.questionnaires import (
    AggregationRule,
    IndexLevel,
    IndexNode,
    IndexPart,
    Option,
    OptionSet,
    Question,
    Questionnaire,
    QuestionType,
    RespondentType,
    Section,
)
from surveyapp.services import ServiceError

INSTRUMENTS_DIR = Path(__file__).resolve().parent.parent / "instruments"
SIPAS_2022 = INSTRUMENTS_DIR / "sipas-2022.toml"
PAR_OFFICIALS = INSTRUMENTS_DIR / "par-officials-2024.toml"
LANGUAGES = ("vi", "en")
CODE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,20}$")

#: Question types that can be parts of an index, each scored to a 0–1 value per answer.
RATED_TYPES = ("likert5", "scale10", "yes_no")
#: How each rated type scores when the file's ``[scoring]`` table does not say otherwise.
#:   likert5  share of answers in ``values`` (the questionnaire's ``satisfied``, SIPAS: 4, 5)
#:   scale10  mean answer ÷ 10 (PAR INDEX and PAPI turn an average rating into points in
#:            proportion, so a 7 earns 70% of the item's points, not "satisfied or not")
#:   yes_no   share of "yes" (value 1): a compliance item is met or it is not
SCORING_DEFAULTS: dict[str, dict[str, Any]] = {
    "likert5": {"rule": "share", "values": [4, 5]},
    "scale10": {"rule": "mean"},
    "yes_no": {"rule": "share", "values": [1]},
}
SCALE10_VALUES = tuple(range(11))
POINTS_TOLERANCE = 1e-6


class InstrumentError(ServiceError):
    """A problem in an instrument file, for the admin who wrote it: Vietnamese first, then
    the English (which names the TOML keys as written), each with the line."""

    def __init__(self, line: int | None, problem: str, *, vi: str) -> None:
        self.line = line
        self.problem = problem
        where_vi = f"dòng {line}: " if line else ""
        where = f"line {line}: " if line else ""
        super().__init__(f"{where_vi}{vi} / {where}{problem}")


@dataclass(frozen=True)
class _Locator:
    """Finds the line of a code in the source, since TOML parsing forgets positions."""

    text: str

    def line_of(self, *needles: str) -> int | None:
        for needle in needles:
            pattern = re.compile(rf'^\s*code\s*=\s*"{re.escape(needle)}"', re.MULTILINE)
            match = pattern.search(self.text)
            if match:
                return self.text.count("\n", 0, match.start()) + 1
        return None

    def line_of_key(self, key: str) -> int | None:
        match = re.search(rf"^\s*{re.escape(key)}\s*=", self.text, re.MULTILINE)
        return self.text.count("\n", 0, match.start()) + 1 if match else None

    def line_of_table(self, name: str) -> int | None:
        match = re.search(rf"^\s*\[+{re.escape(name)}\]+", self.text, re.MULTILINE)
        return self.text.count("\n", 0, match.start()) + 1 if match else None


def parse(text: str) -> dict[str, Any]:
    """Parse and validate an instrument file; return the checked structure."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise InstrumentError(
            int(match.group(1)) if match else None,
            str(exc),
            vi="tệp không đúng cú pháp TOML",
        ) from exc
    loc = _Locator(text)
    _validate(data, loc)
    return data


def _texts(obj: dict[str, Any], key: str, line: int | None, what: str) -> dict[str, str]:
    texts = obj.get(key)
    if not isinstance(texts, dict) or not all(
        isinstance(texts.get(lang), str) for lang in LANGUAGES
    ):
        raise InstrumentError(
            line, f"{what} needs {key}.vi and {key}.en", vi=f"{what} cần có {key}.vi và {key}.en"
        )
    if not texts["vi"].strip():
        raise InstrumentError(
            line,
            f"{what} has an empty Vietnamese {key}",
            vi=f"{what}: {key}.vi (tiếng Việt) đang trống",
        )
    return {lang: texts[lang].strip() for lang in LANGUAGES}


def _validate(data: dict[str, Any], loc: _Locator) -> None:
    _validate_head(data, loc)
    option_sets = _validate_option_sets(data, loc)
    sections = _validate_sections(data, loc)
    questions = _validate_questions(data, loc, sections, option_sets)
    _validate_respondent_question(data, loc, questions, option_sets)
    _validate_scoring(data, loc)
    _validate_indices(data, loc, questions, _question_points(data, loc))


def _validate_head(data: dict[str, Any], loc: _Locator) -> None:
    head = data.get("questionnaire")
    if not isinstance(head, dict):
        raise InstrumentError(
            None, "missing the [questionnaire] table", vi="thiếu bảng [questionnaire]"
        )
    head_line = loc.line_of_table("questionnaire")
    if not isinstance(head.get("code"), str) or not CODE_RE.match(head["code"]):
        raise InstrumentError(
            head_line,
            "questionnaire.code must be a short code",
            vi="questionnaire.code phải là một mã ngắn",
        )
    if not isinstance(head.get("version"), int) or head["version"] < 1:
        raise InstrumentError(
            head_line,
            "questionnaire.version must be a whole number ≥ 1",
            vi="questionnaire.version phải là số nguyên ≥ 1",
        )
    _texts(head, "title", head_line, "the questionnaire")
    satisfied = head.get("satisfied", [4, 5])
    if not isinstance(satisfied, list) or not all(isinstance(v, int) for v in satisfied):
        raise InstrumentError(
            head_line,
            "questionnaire.satisfied must be a list of values",
            vi="questionnaire.satisfied phải là một danh sách giá trị",
        )
    kinds = {t.value for t in RespondentType}
    respondents = head.get("respondents", ["citizen"])
    if (
        not isinstance(respondents, list)
        or not respondents
        or not all(isinstance(r, str) and r in kinds for r in respondents)
        or len(set(respondents)) != len(respondents)
    ):
        raise InstrumentError(
            loc.line_of_key("respondents") or head_line,
            f"questionnaire.respondents must list some of {', '.join(sorted(kinds))}, each once",
            vi="questionnaire.respondents phải liệt kê một hoặc nhiều loại người trả lời "
            f"trong {', '.join(sorted(kinds))}, mỗi loại một lần",
        )


def _validate_option_sets(data: dict[str, Any], loc: _Locator) -> dict[str, set[int]]:
    """Each option set's values, by code."""
    option_sets: dict[str, set[int]] = {}
    for oset in data.get("option_sets", []):
        code = oset.get("code")
        line = loc.line_of(str(code)) or loc.line_of_table("option_sets")
        if not isinstance(code, str) or not CODE_RE.match(code):
            raise InstrumentError(
                line, "an option set needs a code", vi="bộ phương án trả lời cần có mã"
            )
        if code in option_sets:
            raise InstrumentError(
                line,
                f"option set {code!r} is defined twice",
                vi=f"bộ phương án {code!r} được khai báo hai lần",
            )
        values: set[int] = set()
        for opt in oset.get("options", []):
            value = opt.get("value")
            if not isinstance(value, int) or not 0 <= value <= 9:
                raise InstrumentError(
                    line,
                    f"option set {code!r}: values must be digits 0–9",
                    vi=f"bộ phương án {code!r}: giá trị phải là chữ số 0–9",
                )
            if value in values:
                raise InstrumentError(
                    line,
                    f"option set {code!r}: value {value} repeated",
                    vi=f"bộ phương án {code!r}: giá trị {value} bị lặp",
                )
            if not isinstance(opt.get("vi"), str) or not isinstance(opt.get("en"), str):
                raise InstrumentError(
                    line,
                    f"option set {code!r}: option {value} needs vi and en",
                    vi=f"bộ phương án {code!r}: phương án {value} cần có vi và en",
                )
            values.add(value)
        if not values:
            raise InstrumentError(
                line,
                f"option set {code!r} has no options",
                vi=f"bộ phương án {code!r} chưa có phương án nào",
            )
        option_sets[code] = values
    return option_sets


def _validate_sections(data: dict[str, Any], loc: _Locator) -> set[str]:
    sections: set[str] = set()
    for sec in data.get("sections", []):
        code = sec.get("code")
        line = loc.line_of(str(code)) or loc.line_of_table("sections")
        if not isinstance(code, str) or not CODE_RE.match(code) or code in sections:
            raise InstrumentError(
                line,
                f"section code {code!r} is missing or repeated",
                vi=f"mã phần {code!r} bị thiếu hoặc bị lặp",
            )
        _texts(sec, "title", line, f"section {code!r}")
        sections.add(code)
    return sections


def _validate_questions(
    data: dict[str, Any], loc: _Locator, sections: set[str], option_sets: dict[str, set[int]]
) -> dict[str, str]:
    """Each question's type, by code."""
    questions: dict[str, str] = {}
    types = {t.value for t in QuestionType}
    for q in data.get("questions", []):
        code = q.get("code")
        line = loc.line_of(str(code)) or loc.line_of_table("questions")
        if not isinstance(code, str) or not CODE_RE.match(code):
            raise InstrumentError(line, "a question needs a code", vi="câu hỏi cần có mã")
        if code in questions:
            raise InstrumentError(
                line,
                f"question {code!r} is defined twice",
                vi=f"câu hỏi {code!r} được khai báo hai lần",
            )
        if q.get("section") not in sections:
            raise InstrumentError(
                line,
                f"question {code!r}: unknown section {q.get('section')!r}",
                vi=f"câu hỏi {code!r}: không có phần {q.get('section')!r}",
            )
        if q.get("type") not in types:
            raise InstrumentError(
                line,
                f"question {code!r}: type must be one of {', '.join(sorted(types))}",
                vi=f"câu hỏi {code!r}: loại phải là một trong {', '.join(sorted(types))}",
            )
        if q["type"] not in ("text", "scale10") and q.get("options") not in option_sets:
            raise InstrumentError(
                line,
                f"question {code!r}: unknown option set {q.get('options')!r}",
                vi=f"câu hỏi {code!r}: không có bộ phương án {q.get('options')!r}",
            )
        _texts(q, "text", line, f"question {code!r}")
        questions[code] = q["type"]
    if not questions:
        raise InstrumentError(
            None, "the questionnaire has no questions", vi="bảng hỏi chưa có câu hỏi nào"
        )
    return questions


def _validate_respondent_question(
    data: dict[str, Any],
    loc: _Locator,
    questions: dict[str, str],
    option_sets: dict[str, set[int]],
) -> None:
    """With several respondent types, a single-choice question says which one answered."""
    head = data["questionnaire"]
    respondents = head.get("respondents", ["citizen"])
    code = head.get("respondent_question")
    line = loc.line_of_key("respondent_question") or loc.line_of_table("questionnaire")
    if len(respondents) == 1 and code is None:
        return
    if len(respondents) > 1 and code is None:
        raise InstrumentError(
            loc.line_of_key("respondents"),
            "several respondent types need questionnaire.respondent_question (a single-choice "
            "question) and questionnaire.respondent_values",
            vi="có nhiều loại người trả lời thì cần questionnaire.respondent_question (một câu "
            "hỏi chọn một) và questionnaire.respondent_values",
        )
    if not isinstance(code, str) or questions.get(code) != "single":
        raise InstrumentError(
            line,
            f"questionnaire.respondent_question: {code!r} is not a single-choice question",
            vi=f"questionnaire.respondent_question: {code!r} không phải câu hỏi chọn một",
        )
    question = next(q for q in data["questions"] if q.get("code") == code)
    values = head.get("respondent_values")
    expected = {str(v) for v in option_sets[question["options"]]}
    if (
        not isinstance(values, dict)
        or set(values) != expected
        or set(values.values()) != set(respondents)
    ):
        raise InstrumentError(
            loc.line_of_key("respondent_values") or line,
            f"questionnaire.respondent_values must map each option of {code!r} "
            f"({', '.join(sorted(expected))}) to one of the respondents, using each",
            vi=f"questionnaire.respondent_values phải gán mỗi phương án của {code!r} "
            f"({', '.join(sorted(expected))}) cho một loại người trả lời đã khai báo, "
            "dùng đủ mọi loại",
        )


def _validate_scoring(data: dict[str, Any], loc: _Locator) -> None:
    """``[scoring]``: per rated type, ``rule = "share"`` (with ``values`` or, on 0–10,
    ``at_least``) or ``rule = "mean"`` (0–10 only)."""
    scoring = data.get("scoring", {})
    line = loc.line_of_table("scoring")
    if not isinstance(scoring, dict):
        raise InstrumentError(line, "[scoring] must be a table", vi="[scoring] phải là một bảng")
    for kind, rule in scoring.items():
        where = loc.line_of_key(kind) or line
        if kind not in RATED_TYPES:
            raise InstrumentError(
                where,
                f"scoring.{kind}: only {', '.join(RATED_TYPES)} are scored",
                vi=f"scoring.{kind}: chỉ chấm điểm các loại {', '.join(RATED_TYPES)}",
            )
        name = rule.get("rule") if isinstance(rule, dict) else None
        allowed = ("share", "mean") if kind == "scale10" else ("share",)
        if name not in allowed:
            raise InstrumentError(
                where,
                f"scoring.{kind}.rule must be one of {', '.join(allowed)}",
                vi=f"scoring.{kind}.rule phải là một trong {', '.join(allowed)}",
            )
        assert isinstance(rule, dict)
        if kind == "scale10" and name == "share":
            at_least = rule.get("at_least")
            if not isinstance(at_least, int) or not 1 <= at_least <= 10:
                raise InstrumentError(
                    where,
                    "scoring.scale10: a share rule needs at_least, a whole number 1–10",
                    vi="scoring.scale10: quy tắc tỷ lệ cần at_least là số nguyên từ 1 đến 10",
                )
        elif name == "share":
            values = rule.get("values")
            satisfied = data["questionnaire"].get("satisfied", [4, 5])
            if kind == "likert5" and isinstance(values, list) and values != satisfied:
                raise InstrumentError(
                    where,
                    "scoring.likert5.values must equal questionnaire.satisfied",
                    vi="scoring.likert5.values phải trùng với questionnaire.satisfied",
                )
            top = 5 if kind == "likert5" else 2
            if (
                not isinstance(values, list)
                or not values
                or not all(isinstance(v, int) and 1 <= v <= top for v in values)
            ):
                raise InstrumentError(
                    where,
                    f"scoring.{kind}.values must list the values that count (1–{top})",
                    vi=f"scoring.{kind}.values phải liệt kê các giá trị được tính (1–{top})",
                )


def _points(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 1000


def _question_points(data: dict[str, Any], loc: _Locator) -> dict[str, float]:
    """Each question's ``max_points``, where given (a positive number)."""
    out: dict[str, float] = {}
    for q in data["questions"]:
        if "max_points" not in q:
            continue
        if not _points(q["max_points"]) or q["type"] not in RATED_TYPES:
            raise InstrumentError(
                loc.line_of(str(q["code"])),
                f"question {q['code']!r}: max_points must be a positive number on a rated item",
                vi=f"câu hỏi {q['code']!r}: max_points (điểm tối đa) phải là số dương, "
                "và chỉ cho câu hỏi đánh giá",
            )
        out[q["code"]] = float(q["max_points"])
    return out


def _check_points(
    node: dict[str, Any], line: int | None, parts: list[str], points: dict[str, float]
) -> float | None:
    """The node's maximum: its own ``max_points``, or for a ``points`` node the sum of its
    parts' (which its own, when given, must equal)."""
    code = node["code"]
    own = node.get("max_points")
    if own is not None and not _points(own):
        raise InstrumentError(
            line,
            f"index {code!r}: max_points must be a positive number",
            vi=f"chỉ số {code!r}: max_points (điểm tối đa) phải là số dương",
        )
    if node["rule"] != "points":
        return None if own is None else float(own)
    missing = [p for p in parts if p not in points]
    if missing:
        raise InstrumentError(
            line,
            f"index {code!r}: a points rule needs max_points on every part "
            f"({', '.join(missing)} have none)",
            vi=f"chỉ số {code!r}: quy tắc cộng điểm cần điểm tối đa ở mọi thành phần "
            f"({', '.join(missing)} chưa có)",
        )
    total = sum(points[p] for p in parts)
    if own is not None and abs(float(own) - total) > POINTS_TOLERANCE:
        raise InstrumentError(
            line,
            f"index {code!r}: max_points {own} is not the sum of its parts' ({total:g})",
            vi=f"chỉ số {code!r}: điểm tối đa {own} khác tổng điểm tối đa các thành phần "
            f"({total:g})",
        )
    return total


def _validate_indices(
    data: dict[str, Any], loc: _Locator, questions: dict[str, str], points: dict[str, float]
) -> None:
    points = dict(points)
    nodes: dict[str, list[str]] = {}
    rules = {r.value for r in AggregationRule}
    levels = {lv.value for lv in IndexLevel}
    for node in data.get("indices", []):
        code = node.get("code")
        line = loc.line_of(str(code)) or loc.line_of_table("indices")
        if not isinstance(code, str) or not CODE_RE.match(code):
            raise InstrumentError(line, "an index node needs a code", vi="chỉ số cần có mã")
        if code in nodes or code in questions:
            raise InstrumentError(
                line,
                f"index {code!r} repeats an existing code",
                vi=f"chỉ số {code!r} trùng một mã đã có",
            )
        if node.get("rule") not in rules:
            raise InstrumentError(
                line,
                f"index {code!r}: rule must be one of {sorted(rules)}",
                vi=f"chỉ số {code!r}: quy tắc gộp phải là một trong {sorted(rules)}",
            )
        if node.get("level") not in levels:
            raise InstrumentError(
                line,
                f"index {code!r}: level must be one of {sorted(levels)}",
                vi=f"chỉ số {code!r}: cấp phải là một trong {sorted(levels)}",
            )
        parts = node.get("parts")
        if not isinstance(parts, list) or not parts:
            raise InstrumentError(
                line, f"index {code!r} has no parts", vi=f"chỉ số {code!r} chưa có thành phần nào"
            )
        for part in parts:
            if part in questions:
                if questions[part] not in RATED_TYPES:
                    raise InstrumentError(
                        line,
                        f"index {code!r}: {part!r} is not a rating item",
                        vi=f"chỉ số {code!r}: {part!r} không phải câu hỏi đánh giá",
                    )
            elif part not in nodes:
                raise InstrumentError(
                    line,
                    f"index {code!r}: part {part!r} is not a question or an earlier index",
                    vi=f"chỉ số {code!r}: thành phần {part!r} không phải câu hỏi "
                    "hay chỉ số khai báo trước",
                )
        if node["rule"] == "designated" and len(parts) != 1:
            raise InstrumentError(
                line,
                f"index {code!r}: a designated rule takes exactly one part",
                vi=f"chỉ số {code!r}: quy tắc chỉ định cần đúng một thành phần",
            )
        _texts(node, "name", line, f"index {code!r}")
        node_max = _check_points(node, line, parts, points)
        if node_max is not None:
            points[code] = node_max
        nodes[code] = parts


def respondent_of(head: dict[str, Any]) -> dict[str, Any]:
    """Who answers, as stored on the questionnaire (see ``Questionnaire.respondent``)."""
    return {
        "types": list(head.get("respondents", ["citizen"])),
        "question": head.get("respondent_question"),
        "values": {str(k): v for k, v in head.get("respondent_values", {}).items()},
    }


def scoring_of(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every rated type's scoring rule, the defaults filled in (stored explicitly, so a
    report never depends on a default that later changes)."""
    satisfied = list(data["questionnaire"].get("satisfied", [4, 5]))
    out = {kind: dict(rule) for kind, rule in SCORING_DEFAULTS.items()}
    out["likert5"]["values"] = satisfied
    for kind, rule in data.get("scoring", {}).items():
        out[kind] = dict(rule)
    return out


def _node_points(data: dict[str, Any]) -> dict[str, float]:
    """Each node's maximum points (declared, or summed for a ``points`` node)."""
    points = {q["code"]: float(q["max_points"]) for q in data["questions"] if "max_points" in q}
    nodes: dict[str, float] = {}
    for node in data.get("indices", []):
        if node["rule"] == "points":
            total = sum(points[p] for p in node["parts"])
        elif "max_points" in node:
            total = float(node["max_points"])
        else:
            continue
        points[node["code"]] = nodes[node["code"]] = total
    return nodes


def load(text: str) -> Questionnaire:
    """Validate ``text`` and add the questionnaire to the session (flushed, not committed)."""
    data = parse(text)
    head = data["questionnaire"]
    existing = db.session.scalar(
        select(Questionnaire).where(
            Questionnaire.code == head["code"], Questionnaire.version == head["version"]
        )
    )
    if existing is not None:
        raise InstrumentError(
            None,
            f"questionnaire {head['code']} version {head['version']} already exists; "
            "questionnaires are immutable, give the changed one a new version",
            vi=f"bảng hỏi {head['code']} phiên bản {head['version']} đã có; bảng hỏi không "
            "sửa được, hãy đặt phiên bản mới cho bảng hỏi đã thay đổi",
        )
    qn = Questionnaire(
        code=head["code"],
        version=head["version"],
        title=_texts(head, "title", None, "questionnaire"),
        satisfied_values=[str(v) for v in head.get("satisfied", [4, 5])],
        respondent=respondent_of(head),
        scoring=scoring_of(data),
    )
    sets: dict[str, OptionSet] = {}
    for oset in data.get("option_sets", []):
        sets[oset["code"]] = OptionSet(
            code=oset["code"],
            options=[
                Option(value=o["value"], label={"vi": o["vi"], "en": o["en"]}, position=i)
                for i, o in enumerate(oset["options"])
            ],
        )
        qn.option_sets.append(sets[oset["code"]])
    sections: dict[str, Section] = {}
    for i, sec in enumerate(data.get("sections", [])):
        sections[sec["code"]] = Section(
            code=sec["code"], title=_texts(sec, "title", None, "section"), position=i
        )
        qn.sections.append(sections[sec["code"]])
    questions: dict[str, Question] = {}
    for i, q in enumerate(data["questions"]):
        question = Question(
            code=q["code"],
            type=QuestionType(q["type"]),
            text=_texts(q, "text", None, "question"),
            position=i,
            required=bool(q.get("required", False)),
            section=sections[q["section"]],
            option_set=sets.get(q.get("options", "")),
            max_points=float(q["max_points"]) if "max_points" in q else None,
        )
        questions[q["code"]] = question
        qn.questions.append(question)
    nodes: dict[str, IndexNode] = {}
    node_points = _node_points(data)
    for i, node in enumerate(data.get("indices", [])):
        index_node = IndexNode(
            code=node["code"],
            level=IndexLevel(node["level"]),
            rule=AggregationRule(node["rule"]),
            name=_texts(node, "name", None, "index"),
            position=i,
            max_points=node_points.get(node["code"]),
        )
        for j, part in enumerate(node["parts"]):
            if part in questions:
                index_node.parts.append(IndexPart(position=j, question=questions[part]))
            else:
                index_node.parts.append(IndexPart(position=j, child=nodes[part]))
        nodes[node["code"]] = index_node
        qn.index_nodes.append(index_node)
    db.session.add(qn)
    db.session.flush()
    return qn


def load_file(path: str | Path) -> Questionnaire:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InstrumentError(
            None, f"cannot read {path}: {exc}", vi=f"không đọc được tệp {path}"
        ) from exc
    return load(text)


def sipas() -> Questionnaire:
    """The default SIPAS 2022 instrument, loaded on first use."""
    existing = db.session.scalar(
        select(Questionnaire)
        .where(Questionnaire.code == "sipas-2022")
        .order_by(Questionnaire.version.desc())
    )
    return existing if existing is not None else load_file(SIPAS_2022)


def par_officials() -> Questionnaire:
    """The PAR INDEX officials' survey instrument, loaded on first use."""
    existing = db.session.scalar(
        select(Questionnaire)
        .where(Questionnaire.code == "par-officials-2024")
        .order_by(Questionnaire.version.desc())
    )
    return existing if existing is not None else load_file(PAR_OFFICIALS)


def item_parts(node: IndexNode) -> list[str]:
    """The question codes beneath a node, each once, in order (for item-weighted means)."""
    seen: list[str] = []
    for part in node.parts:
        codes = [part.question.code] if part.question else item_parts(part.child)  # type: ignore[arg-type]
        seen.extend(c for c in codes if c not in seen)
    return seen


def analysis_spec(qn: Questionnaire) -> list[tuple[str, list[str]]]:
    """The index tree as ``surveyapp analyze --index NAME=PARTS`` pairs, in dependency order.

    The analysis package knows only unweighted means of parts, so the other rules are
    expressed through their parts: item-weighted becomes the mean over all items beneath,
    designated becomes a one-part mean.
    """
    spec: list[tuple[str, list[str]]] = []
    for node in qn.index_nodes:
        if node.rule == AggregationRule.ITEM_WEIGHTED:
            spec.append((node.code, item_parts(node)))
        else:
            spec.append((node.code, node.part_codes))
    return spec
