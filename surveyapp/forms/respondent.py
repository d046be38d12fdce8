"""The citizen questionnaire form, built at runtime from the stored questionnaire.

Parsing is strict where a person cannot have made the mistake and forgiving where they can:

* refused outright (400, nothing stored): a field name outside the allow-list (question
  codes, ``nonce``, the honeypot), a repeated field, a value outside a question's options,
  a missing or forged nonce;
* re-shown with the answers kept and a message beside the field: a required question left
  blank (none in SIPAS), a comment that is too long, a form with no rating at all.

Required-ness: SIPAS items are optional, as on paper (a blank is keyed 0); only answered
items are stored. A submission must rate at least one item, since an empty form is not a
response. A question becomes required when its ``required`` column says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from surveyapp.forms.base import Form
from surveyapp.forms.registry import build_field, supported
from surveyapp.hygiene import clean_text
from surveyapp.services.abuse import HONEYPOT_FIELD
from surveyapp.services.submissions import COMMENT_MAX, FormSpec, QuestionSpec

NONCE_FIELD = "nonce"
RECEIPT_FIELD = "receipt"
# "2" when the form showed its conditional questions (in place with JavaScript, or the
# server's second page): the answers are then final and stored.
STEP_FIELD = "step"
PLUMBING = frozenset({NONCE_FIELD, HONEYPOT_FIELD, RECEIPT_FIELD, STEP_FIELD})
MULTI_SEPARATOR = ","  # a multiple-choice answer is stored as its values, e.g. "1,3"


class Refused(ValueError):
    """A submission no honest form could have sent; nothing is stored."""


class RespondentForm(Form):
    class Meta:
        csrf = False  # the signed one-time nonce protects the anonymous form (no session)


def shown_questions(spec: FormSpec) -> list[QuestionSpec]:
    cached = _SHOWN.get(id(spec))
    if cached is None or cached[0] is not spec:
        cached = _SHOWN[id(spec)] = (spec, [q for q in spec.questions if supported(q)])
    return cached[1]


_SHOWN: dict[int, tuple[FormSpec, list[QuestionSpec]]] = {}


_CLASSES: dict[int, type[RespondentForm]] = {}


def form_class(spec: FormSpec) -> type[RespondentForm]:
    """One form class per questionnaire spec (a spec is immutable), built on first use."""
    cls = _CLASSES.get(id(spec))
    if cls is None or getattr(cls, "_spec", None) is not spec:
        attrs: dict[str, Any] = {q.code: build_field(q) for q in shown_questions(spec)}
        attrs["_spec"] = spec
        cls = type(f"RespondentForm{spec.questionnaire_id}", (RespondentForm,), attrs)
        _CLASSES[id(spec)] = cls
    return cls


def allowed_fields(spec: FormSpec) -> frozenset[str]:
    """Field names a form of ``spec`` may send (computed once per spec: every POST asks)."""
    cached = _ALLOWED.get(id(spec))
    if cached is None or cached[0] is not spec:
        names = frozenset(q.code for q in shown_questions(spec)) | PLUMBING
        cached = _ALLOWED[id(spec)] = (spec, names)
    return cached[1]


_ALLOWED: dict[int, tuple[FormSpec, frozenset[str]]] = {}


def check_shape(spec: FormSpec, formdata: MultiDict[str, str]) -> MultiDict[str, str]:
    """Refuse what no honest form sends; return the data with blanks removed."""
    allowed = allowed_fields(spec)
    by_code = spec.by_code
    kept: dict[str, str] = {}
    several: list[tuple[str, str]] = []
    # One pass over (name, values): this runs on every submission.
    for name, values in formdata.lists():
        if name not in allowed:
            unknown = sorted(set(formdata.keys()) - allowed)
            raise Refused(f"unknown fields: {', '.join(unknown[:5])}")
        if name not in PLUMBING and by_code[name].is_multi:
            several += _multi_values(by_code[name], values)
            continue
        if len(values) > 1:
            raise Refused(f"field {name} sent {len(values)} times")
        value = values[0]
        if name in PLUMBING:
            kept[name] = value
            continue
        question = by_code[name]
        if question.is_choice:
            value = value.strip()
            if value == "":
                continue
            if not value.isdigit() or int(value) not in question.values:
                raise Refused(f"value out of range for {name}")
        else:
            # Free text: the one shared filter (the request layer removed NULs already;
            # this keeps the rule here for data that does not come from a request).
            value = clean_text(value, multiline=True)
            if value.strip() == "":
                continue
        kept[name] = value
    if several:
        return MultiDict([*kept.items(), *several])
    return MultiDict(kept)


def _multi_values(question: QuestionSpec, values: list[str]) -> list[tuple[str, str]]:
    """A multiple-choice question's ticked values, each once, all among its choices."""
    seen: list[tuple[str, str]] = []
    if len(values) > len(question.values):
        raise Refused(f"field {question.code} sent {len(values)} times")
    for raw in values:
        value = raw.strip()
        if value == "":
            continue
        if not value.isdigit() or int(value) not in question.values:
            raise Refused(f"value out of range for {question.code}")
        if (question.code, value) in seen:
            raise Refused(f"field {question.code} repeats {value}")
        seen.append((question.code, value))
    return seen


def multi_answer(values: list[int]) -> str:
    """How a multiple-choice answer is stored: its values in order, e.g. ``"1,3"``."""
    return MULTI_SEPARATOR.join(str(v) for v in sorted(set(values)))


def _quick_answers(spec: FormSpec, cleaned: MultiDict[str, str]) -> dict[str, int | str] | None:
    """The answers of a form that needs no message (the common case), without building the
    WTForms form; None when a rule needs a closer look (the form then says what is wrong).

    The rules are the registry's: a required question answered, text within ``COMMENT_MAX``,
    at least one rating. Values were already checked by :func:`check_shape`.
    """
    answers: dict[str, int | str] = {}
    rated = False
    for q in shown_questions(spec):
        if q.is_multi:
            ticked = cleaned.getlist(q.code)
            if ticked:
                answers[q.code] = multi_answer([int(v) for v in ticked])
            elif q.required and not q.conditional:
                return None
            continue
        raw = cleaned.get(q.code)
        if raw is None:
            if q.required and not q.conditional:
                return None
            continue
        if q.is_choice:
            answers[q.code] = int(raw)
            rated = rated or q.is_rating
        else:
            text = raw.strip()
            if len(raw) > COMMENT_MAX:
                return None
            answers[q.code] = text
    if spec.rating_codes and not rated:
        return None
    return spec.without_hidden(answers)


@dataclass
class Parsed:
    form: RespondentForm | None
    answers: dict[str, int | str]
    valid: bool
    summary: list[tuple[str, str]]  # (field code, message) for the error summary


def parse(spec: FormSpec, formdata: MultiDict[str, str]) -> Parsed:
    """Refuse (raise :class:`Refused`) or validate; answers hold answered questions only."""
    cleaned = check_shape(spec, formdata)
    quick = _quick_answers(spec, cleaned)
    if quick is not None:
        return Parsed(form=None, answers=quick, valid=True, summary=[])
    form = form_class(spec)(formdata=cleaned)
    valid = form.validate()
    answers: dict[str, int | str] = {}
    for q in shown_questions(spec):
        data = form[q.code].data
        if q.is_choice and isinstance(data, int):
            answers[q.code] = data
        elif q.is_multi and isinstance(data, list) and data:
            answers[q.code] = multi_answer([int(v) for v in data])
        elif not q.is_choice and isinstance(data, str) and data.strip():
            answers[q.code] = data.strip()
    answers = spec.without_hidden(answers)
    ratings = [c for c in spec.rating_codes if supported(spec.by_code[c])]
    if ratings and not any(c in answers for c in ratings):
        valid = False
        form[ratings[0]].errors = [
            *form[ratings[0]].errors,
            str(_l("Please rate at least one item before sending.")),
        ]
    summary = [(name, str(errs[0])) for name, errs in form.errors.items() if errs]
    return Parsed(form=form, answers=answers, valid=valid, summary=summary)


def empty_form(spec: FormSpec) -> RespondentForm:
    return form_class(spec)(formdata=None)
