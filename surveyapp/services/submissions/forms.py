"""The questionnaire as an immutable spec a form is drawn from (questionnaires are immutable
once answered)."""

from __future__ import annotations

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
        return self.type == QuestionType.LIKERT5


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

    @cached_property
    def questions(self) -> list[QuestionSpec]:
        return [q for s in self.sections for q in s.questions]

    @cached_property
    def rating_codes(self) -> list[str]:
        return [q.code for q in self.questions if q.is_rating]


CHOICE_TYPES = frozenset({QuestionType.LIKERT5, QuestionType.SINGLE, QuestionType.YES_NO})
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
    return FormSpec(qn.id, dict(qn.title), tuple(sections), by_code)
