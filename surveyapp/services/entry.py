"""Heads-down keying of paper forms and double entry.

Every form is keyed twice by two different keyers. The second save compares the two entries:
equal entries become the final response at once; different ones wait for a verifier
(:mod:`surveyapp.services.reconciliation`). A save first bumps ``Form.entry_version`` with an
UPDATE, which takes the form's row lock (PostgreSQL) or the write lock (SQLite) before anything
is read, so two keyers saving at the same instant are serialised: the later one sees the
earlier one's entry. The final response's nonce ``paper-<serial>`` is UNIQUE, so even a
failure of that reasoning could not store a second final response.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update

from surveyapp import localtime
from surveyapp.extensions import db
from surveyapp.models.base import utcnow
from surveyapp.models.campaigns import Channel
from surveyapp.models.entry import Keying
from surveyapp.models.questionnaires import Question, Questionnaire, QuestionType
from surveyapp.models.responses import Answer, Response, ResponseStatus
from surveyapp.models.sampling import Form, FormFate
from surveyapp.models.users import User
from surveyapp.services import ServiceError
from surveyapp.services.sampling import serial_is_valid

KEYED_TYPES = (QuestionType.LIKERT5, QuestionType.SINGLE, QuestionType.YES_NO)
BLANK = 0


class EntryState(enum.StrEnum):
    OPEN = "open"  # not keyed yet
    ONCE = "once"  # keyed by one keyer
    CONFLICT = "conflict"  # keyed twice, entries differ: waits for a verifier
    FINAL = "final"


def nonce_for(serial: str) -> str:
    return f"paper-{serial}"


def keyed_questions(qn: Questionnaire) -> list[Question]:
    """The items keyed one digit each, in form order (q1…q33, then demographics)."""
    return [q for q in qn.questions if q.type in KEYED_TYPES]


def allowed_keys(question: Question) -> list[int]:
    return [BLANK, *question.values]


def find_form(serial: str) -> Form:
    serial = serial.strip().replace(" ", "").replace("-", "")
    if not serial_is_valid(serial):
        raise ServiceError(_("Serial %(serial)s is wrong: check the digits.", serial=serial))
    form = db.session.scalar(select(Form).where(Form.serial == serial))
    if form is None:
        raise ServiceError(_("No form has the serial %(serial)s.", serial=serial))
    return form


def parse_values(
    qn: Questionnaire, data: Mapping[str, Any]
) -> tuple[dict[str, int | None], dict[str, str]]:
    """Digits per item → values (None = blank) and problems per item."""
    values: dict[str, int | None] = {}
    problems: dict[str, str] = {}
    for q in keyed_questions(qn):
        raw = str(data.get(q.code, "") or "").strip()
        allowed = allowed_keys(q)
        if not raw:
            problems[q.code] = _("Type a digit (0 = left blank).")
        elif not raw.isdigit() or int(raw) not in allowed:
            problems[q.code] = _(
                "%(value)s is not allowed: type one of %(keys)s.",
                value=raw,
                keys=", ".join(str(k) for k in allowed),
            )
        else:
            values[q.code] = int(raw) or None
    return values, problems


def final_response(form: Form) -> Response | None:
    return db.session.scalar(select(Response).where(Response.nonce == nonce_for(form.serial)))


def keyings(form: Form) -> list[Keying]:
    return list(
        db.session.scalars(select(Keying).where(Keying.form_id == form.id).order_by(Keying.id))
    )


def state(form: Form) -> EntryState:
    if final_response(form) is not None:
        return EntryState.FINAL
    n = len(keyings(form))
    return EntryState.OPEN if n == 0 else EntryState.ONCE if n == 1 else EntryState.CONFLICT


def differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    return [code for code in dict.fromkeys([*a, *b]) if a.get(code) != b.get(code)]


def check_can_key(form: Form, keyer: User) -> None:
    current = state(form)
    if current == EntryState.FINAL:
        raise ServiceError(_("Form %(serial)s is already final.", serial=form.serial))
    if form.invitation is not None and form.invitation.used_at is not None:
        raise ServiceError(_("This household answered online; the paper form is not keyed."))
    if current == EntryState.CONFLICT:
        raise ServiceError(
            _("Form %(serial)s was keyed twice and waits for the verifier.", serial=form.serial)
        )
    if any(k.keyer_id == keyer.id for k in keyings(form)):
        raise ServiceError(
            _(
                "You have already keyed form %(serial)s; a second keyer must key it.",
                serial=form.serial,
            )
        )


@dataclass(frozen=True)
class SaveResult:
    state: EntryState
    keying: Keying
    response: Response | None


def save_keying(
    form: Form, keyer: User, values: Mapping[str, int | None], keystrokes: int
) -> SaveResult:
    """Store one keyer's entry; finalise the form when it matches the other keyer's."""
    # Take the form's lock first (see the module docstring), then look at its entries.
    db.session.execute(
        update(Form)
        .where(Form.id == form.id)
        .values(entry_version=Form.entry_version + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(form)
    check_can_key(form, keyer)
    others = keyings(form)
    keying = Keying(form=form, keyer=keyer, values=dict(values), keystrokes=keystrokes)
    db.session.add(keying)
    db.session.flush()
    if not others:
        return SaveResult(EntryState.ONCE, keying, None)
    other = others[0]
    if differences(other.values, values):
        return SaveResult(EntryState.CONFLICT, keying, None)
    keying.errors = 0
    other.errors = 0
    response = finalise(form, values)
    return SaveResult(EntryState.FINAL, keying, response)


def finalise(form: Form, values: Mapping[str, int | None]) -> Response:
    """Create the form's final response, with the design fields of its draw."""
    qn = form.campaign.questionnaire
    village = form.household.village
    response = Response(
        campaign=form.campaign,
        questionnaire=qn,
        channel=Channel.PAPER,
        status=ResponseStatus.FINAL,
        nonce=nonce_for(form.serial),
        unit=village.parent or village,
        serial=form.serial,
        stratum=form.stratum,
        psu=form.psu,
        ssu=form.ssu,
        weight=form.weight,
        fpc1=form.fpc1,
        fpc2=form.fpc2,
        flags=[],
    )
    by_code = {q.code: q.id for q in keyed_questions(qn)}
    # The wave of the local day it is keyed on (06:30 on its first day is 23:30 UTC the day
    # before, and already that wave's).
    now = utcnow()
    today = localtime.local_date(now)
    response.period_id = next(
        (p.id for p in form.campaign.periods if p.starts <= today <= p.ends), None
    )
    db.session.add(response)
    form.set_fate(FormFate.RETURNED, now)
    db.session.flush()
    # One multi-row INSERT: ORM answer objects are written one statement each (SQLite cannot
    # return a batch's ids in order), which made keying or importing a form ~40 round trips.
    answers = [
        {"response_id": response.id, "question_id": by_code[code], "value": value}
        for code, value in values.items()
        if value is not None and code in by_code
    ]
    if answers:
        db.session.execute(insert(Answer), answers)
    if form.invitation is not None and form.invitation.used_at is None:
        # The household answered on paper: its invitation code must not count a second time.
        form.invitation.used_at = now
        form.invitation.response_id = response.id
    return response


def keyer_stats() -> list[dict[str, Any]]:
    """Per keyer: forms keyed, keystrokes, errors found by reconciliation, errors per 1,000."""
    rows = db.session.execute(
        select(
            User.username,
            User.full_name,
            func.count(Keying.id),
            func.coalesce(func.sum(Keying.keystrokes), 0),
            func.coalesce(func.sum(Keying.errors), 0),
            func.count(Keying.errors),
        )
        .join(Keying, Keying.keyer_id == User.id)
        .group_by(User.id, User.username, User.full_name)
        .order_by(User.username)
    ).all()
    out = []
    for username, full_name, forms, keystrokes, errors, checked in rows:
        checked_strokes = int(
            db.session.scalar(
                select(func.coalesce(func.sum(Keying.keystrokes), 0))
                .join(User, Keying.keyer_id == User.id)
                .where(User.username == username, Keying.errors.is_not(None))
            )
            or 0
        )
        out.append(
            {
                "username": username,
                "full_name": full_name,
                "forms": forms,
                "keystrokes": int(keystrokes or 0),
                "checked": checked,
                "errors": int(errors or 0),
                "per_1000": (1000.0 * (errors or 0) / checked_strokes) if checked_strokes else None,
            }
        )
    return out
