"""The questionnaire as an immutable spec a form is drawn from (questionnaires are immutable
once answered)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from flask import current_app

from surveyapp.extensions import db
from surveyapp.models.questionnaires import Questionnaire, QuestionType


@dataclass(frozen=True)
class OptionSpec:
    value: int
    label: dict[str, str]


@dataclass(frozen=True)
class QuestionSpec:
    id: int
    code: str
    type: QuestionType
    text: dict[str, str]
    section: str
    required: bool
    options: tuple[OptionSpec, ...] = ()

    @cached_property
    def values(self) -> frozenset[int]:
        return frozenset(o.value for o in self.options)

    @cached_property
    def is_choice(self) -> bool:
        return self.type in CHOICE_TYPES

    @cached_property
    def is_rating(self) -> bool:
        return self.type in RATING_TYPES

    @cached_property
    def is_scale10(self) -> bool:
        return self.type == QuestionType.SCALE10


@dataclass(frozen=True)
class SectionSpec:
    code: str
    title: dict[str, str]
    questions: tuple[QuestionSpec, ...]


@dataclass(frozen=True)
class FormSpec:
    questionnaire_id: int
    title: dict[str, str]
    sections: tuple[SectionSpec, ...]
    by_code: dict[str, QuestionSpec] = field(hash=False)
    # Who answers (the instrument's respondent types) and, with several, which question says.
    respondent_types: tuple[str, ...] = ("citizen",)
    respondent_question: str | None = None
    respondent_values: tuple[tuple[int, str], ...] = ()

    @cached_property
    def questions(self) -> list[QuestionSpec]:
        return [q for s in self.sections for q in s.questions]

    @cached_property
    def rating_codes(self) -> list[str]:
        return [q.code for q in self.questions if q.is_rating]

    @cached_property
    def scale_types(self) -> frozenset[QuestionType]:
        """The rating scales the form uses (each gets its one-line hint)."""
        return frozenset(q.type for q in self.questions if q.is_rating)

    def respondent_type(self, answers: Mapping[str, int | str]) -> str | None:
        """Who answered: the one declared type, or the one the respondent question names."""
        if self.respondent_question is None:
            return self.respondent_types[0] if len(self.respondent_types) == 1 else None
        answer = answers.get(self.respondent_question)
        return dict(self.respondent_values).get(answer) if isinstance(answer, int) else None


CHOICE_TYPES = frozenset(
    {QuestionType.LIKERT5, QuestionType.SINGLE, QuestionType.YES_NO, QuestionType.SCALE10}
)
RATING_TYPES = frozenset({QuestionType.LIKERT5, QuestionType.SCALE10})
#: A 0–10 question's answers, labelled at both ends as PAPI's and PAR INDEX's forms do.
SCALE10_LABELS = {
    0: {"vi": "0 – Rất kém", "en": "0 – Very poor"},
    10: {"vi": "10 – Rất tốt", "en": "10 – Very good"},
}
COMMENT_MAX = 1000


def form_spec(questionnaire_id: int) -> FormSpec:
    """The questionnaire's spec, built once per application process."""
    cache: dict[int, FormSpec] = current_app.extensions.setdefault("surveyapp_form_specs", {})
    spec = cache.get(questionnaire_id)
    if spec is None:
        qn = db.session.get(Questionnaire, questionnaire_id)
        if qn is None:
            raise LookupError(questionnaire_id)
        spec = cache[questionnaire_id] = _build_spec(qn)
    return spec


def _build_spec(qn: Questionnaire) -> FormSpec:
    sections = []
    by_code: dict[str, QuestionSpec] = {}
    for section in qn.sections:
        questions = []
        for q in section.questions:
            if q.type == QuestionType.SCALE10:
                options = tuple(
                    OptionSpec(v, SCALE10_LABELS.get(v, {"vi": str(v), "en": str(v)}))
                    for v in range(11)
                )
            else:
                options = tuple(
                    OptionSpec(o.value, dict(o.label))
                    for o in (q.option_set.options if q.option_set else [])
                )
            spec = QuestionSpec(
                id=q.id,
                code=q.code,
                type=q.type,
                text=dict(q.text),
                section=section.code,
                required=q.required,
                options=options,
            )
            questions.append(spec)
            by_code[q.code] = spec
        sections.append(SectionSpec(section.code, dict(section.title), tuple(questions)))
    who = qn.respondent or {}
    return FormSpec(
        qn.id,
        dict(qn.title),
        tuple(sections),
        by_code,
        respondent_types=tuple(who.get("types") or ("citizen",)),
        respondent_question=who.get("question"),
        respondent_values=tuple((int(k), v) for k, v in (who.get("values") or {}).items()),
    )
