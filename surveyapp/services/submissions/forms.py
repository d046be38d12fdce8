"""The questionnaire as an immutable spec a form is drawn from (questionnaires are immutable
once answered)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from flask import current_app

from surveyapp.extensions import db
from surveyapp.models.questionnaires import FormStyle, Questionnaire, QuestionType


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
    # A show_if condition (see services.instruments), None when always shown.
    show_if: Mapping[str, Any] | None = field(default=None, hash=False, compare=False)

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

    @cached_property
    def is_multi(self) -> bool:
        return self.type == QuestionType.MULTI

    @property
    def conditional(self) -> bool:
        return self.show_if is not None

    def shown_given(self, answers: Mapping[str, int | str]) -> bool:
        """Whether this question is shown once ``answers`` are given."""
        return self.show_if is None or condition_met(self.show_if, answers)


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
    style: FormStyle = FormStyle.FULL
    headline: str | None = None
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

    @cached_property
    def conditional_codes(self) -> list[str]:
        return [q.code for q in self.questions if q.conditional]

    @property
    def is_desk(self) -> bool:
        return self.style == FormStyle.DESK

    def visible(self, answers: Mapping[str, int | str]) -> list[str]:
        """The conditional questions ``answers`` make visible, in order."""
        kept = self.without_hidden(answers)
        return [c for c in self.conditional_codes if self.by_code[c].shown_given(kept)]

    def without_hidden(self, answers: Mapping[str, int | str]) -> dict[str, int | str]:
        """``answers`` less those to questions their conditions keep hidden (judged in
        question order, on the answers kept so far): a hidden question is never stored,
        whatever was sent."""
        if not self.conditional_codes:
            return dict(answers)
        kept: dict[str, int | str] = {}
        for q in self.questions:
            if q.code in answers and q.shown_given(kept):
                kept[q.code] = answers[q.code]
        return kept

    def respondent_type(self, answers: Mapping[str, int | str]) -> str | None:
        """Who answered: the one declared type, or the one the respondent question names."""
        if self.respondent_question is None:
            return self.respondent_types[0] if len(self.respondent_types) == 1 else None
        answer = answers.get(self.respondent_question)
        return dict(self.respondent_values).get(answer) if isinstance(answer, int) else None


def condition_met(cond: Mapping[str, Any], answers: Mapping[str, int | str]) -> bool:
    """Evaluate a validated ``show_if`` condition on the answers given so far."""
    if "any" in cond:
        return any(condition_met(part, answers) for part in cond["any"])
    if "all" in cond:
        return all(condition_met(part, answers) for part in cond["all"])
    value = answers.get(str(cond.get("question")))
    return isinstance(value, int) and value in cond.get("in", ())


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
                show_if=q.show_if,
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
        style=FormStyle(qn.style or FormStyle.FULL),
        headline=qn.headline,
        respondent_types=tuple(who.get("types") or ("citizen",)),
        respondent_question=who.get("question"),
        respondent_values=tuple((int(k), v) for k, v in (who.get("values") or {}).items()),
    )
