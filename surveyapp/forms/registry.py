"""Question type → WTForms field: how a stored question becomes a form field.

Add a type by registering a builder; a question whose type has no builder is not shown on
the citizen form (and its code is not accepted in a submission).
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from wtforms import Field, RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from surveyapp.models.questionnaires import QuestionType
from surveyapp.services.submissions import COMMENT_MAX, QuestionSpec

try:  # WTForms >= 3.3 deprecates tuples as choices
    from wtforms.fields.choices import SelectChoice

    def _choice(value: int) -> object:
        return SelectChoice(value, str(value))

except ImportError:  # pragma: no cover - older WTForms

    def _choice(value: int) -> object:
        return (value, str(value))


FieldBuilder = Callable[[QuestionSpec], Field]
REGISTRY: dict[QuestionType, FieldBuilder] = {}


def register(*types: QuestionType) -> Callable[[FieldBuilder], FieldBuilder]:
    def decorator(builder: FieldBuilder) -> FieldBuilder:
        for t in types:
            REGISTRY[t] = builder
        return builder

    return decorator


def _presence(question: QuestionSpec) -> list[object]:
    if question.required:
        return [InputRequired(message=_l("Please answer this question."))]
    return [Optional()]


@register(QuestionType.LIKERT5, QuestionType.SINGLE, QuestionType.YES_NO, QuestionType.SCALE10)
def choice_field(question: QuestionSpec) -> Field:
    # The allowed values are checked before WTForms sees the data (an out-of-range value is
    # refused outright, not re-shown), so the field does not check choices itself.
    return RadioField(
        question.code,
        choices=[_choice(o.value) for o in question.options],
        coerce=int,
        validate_choice=False,
        validators=_presence(question),
    )


@register(QuestionType.TEXT)
def text_field(question: QuestionSpec) -> Field:
    return TextAreaField(
        question.code,
        validators=[
            *_presence(question),
            Length(
                max=COMMENT_MAX,
                message=_l("Please shorten your answer to at most %(max)d characters."),
            ),
        ],
    )


def supported(question: QuestionSpec) -> bool:
    return question.type in REGISTRY


def build_field(question: QuestionSpec) -> Field:
    return REGISTRY[question.type](question)
