"""Citizen submissions: which campaign a desk is surveying, the questionnaire as a cached
spec, one-time nonces, and storing a response exactly once.

A response is counted once because the database says so: every form carries a server-issued
nonce, ``responses.nonce`` is UNIQUE, and a second insert of the same nonce (a double tap, a
back-button resubmit, a network retry, concurrent or not) fails on that constraint and is
answered as the first one was. There is no check-then-insert anywhere on this path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    cast,
    func,
    insert,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from surveyapp.data.locks import write_lock
from surveyapp.extensions import db
from surveyapp.models.base import utcnow
from surveyapp.models.campaigns import (
    Channel,
)
from surveyapp.models.invitations import Invitation
from surveyapp.models.receipts import ReceiptCode
from surveyapp.models.responses import Answer, Response, ResponseStatus
from surveyapp.models.units import Unit
from surveyapp.services import ServiceError, abuse
<<<<<<< HEAD:surveyapp/services/submissions.py

# ---------------------------------------------------------------------------------------------
# The questionnaire as an immutable spec (questionnaires are immutable once answered).


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
        return dict(self.respondent_values).get(answers.get(self.respondent_question))  # type: ignore[arg-type]


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


# ---------------------------------------------------------------------------------------------
# Which campaign a desk is surveying.


def desk_by_token(token: str) -> ServicePoint | None:
    """An active desk with this token, or None (unknown and revoked look the same)."""
    if not token or len(token) > 64:
        return None
    desk = db.session.scalar(select(ServicePoint).where(ServicePoint.token == token))
    if desk is None or not desk.active:
        return None
    return desk


def _unit_chain(unit: Unit) -> list[int]:
    ids = []
    current: Unit | None = unit
    while current is not None:
        ids.append(current.id)
        current = current.parent
    return ids


def campaigns_for(unit: Unit | None, channel: Channel) -> list[Campaign]:
    """Campaigns that cover ``unit`` (or one of its ancestors) on ``channel``, any status."""
    stmt = (
        select(Campaign)
        .join(CampaignChannel, CampaignChannel.campaign_id == Campaign.id)
        .where(CampaignChannel.channel == channel)
        .order_by(Campaign.starts.desc(), Campaign.id.desc())
    )
    if unit is not None:
        stmt = stmt.join(
            campaign_units_table, campaign_units_table.c.campaign_id == Campaign.id
        ).where(campaign_units_table.c.unit_id.in_(_unit_chain(unit)))
    return list(db.session.scalars(stmt).unique())


def today() -> date:
    """Today where the campaign runs (Vietnam), not where the server's clock is set."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Ho_Chi_Minh")
    return datetime.now(zone).date()


def active_campaign(
    unit: Unit | None, channel: Channel, day: date | None = None
) -> tuple[Campaign | None, Campaign | None]:
    """``(open campaign, None)`` or ``(None, the campaign to explain)`` for a desk's unit.

    The campaign to explain is the next one to open, else the last one that ran, else None.
    """
    day = day or today()
    found = campaigns_for(unit, channel)
    for campaign in found:
        if campaign.is_open_on(day):
            return campaign, None
    upcoming = [c for c in found if c.status != CampaignStatus.CLOSED and c.starts > day]
    if upcoming:
        return None, min(upcoming, key=lambda c: c.starts)
    return None, (found[0] if found else None)


@dataclass(frozen=True)
class Target:
    """What a submission is stored against."""

    campaign_id: int
    questionnaire_id: int
    unit_id: int | None
    desk_id: int | None


def _target_cache() -> dict[tuple[str, str], tuple[float, Target]]:
    cache: dict[tuple[str, str], tuple[float, Target]]
    cache = current_app.extensions.setdefault("surveyapp_target_cache", {})
    return cache


def cached_target(channel: Channel, token: str) -> Target | None:
    """A desk's resolved campaign, remembered for ``CITIZEN_CACHE_SECONDS`` after a submission.

    Only the submit path uses it, so a revoked desk or a closed campaign stops taking
    answers within that many seconds, and pages always show the current state.
    """
    entry = _target_cache().get((channel.value, token))
    if entry is None or entry[0] < time.monotonic():
        return None
    return entry[1]


def remember_target(channel: Channel, token: str, target: Target) -> None:
    ttl = float(current_app.config.get("CITIZEN_CACHE_SECONDS") or 0)
    if ttl <= 0:
        return
    cache = _target_cache()
    if len(cache) > 10_000:
        cache.clear()
    cache[(channel.value, token)] = (time.monotonic() + ttl, target)


# ---------------------------------------------------------------------------------------------
# Nonces: random, signed with the app's secret and bound to the channel and desk or code.


def _mac(secret: str, scope: str, raw: str) -> str:
    digest = hmac.new(secret.encode(), f"{scope}|{raw}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def issue_nonce(scope: str) -> str:
    """A fresh nonce for one form shown; ``scope`` is e.g. ``"qr:<desk token>"``."""
    raw = secrets.token_urlsafe(18)
    return f"{raw}.{_mac(current_app.config['SECRET_KEY'], scope, raw)}"


def nonce_is_valid(nonce: str | None, scope: str) -> bool:
    if not nonce or len(nonce) > 64 or nonce.count(".") != 1:
        return False
    raw, mac = nonce.split(".")
    return hmac.compare_digest(mac, _mac(current_app.config["SECRET_KEY"], scope, raw))


# ---------------------------------------------------------------------------------------------
# Storing a submission.
=======
from surveyapp.services.submissions.forms import FormSpec, form_spec
>>>>>>> main:surveyapp/services/submissions/store.py


@dataclass
class Submission:
    campaign_id: int
    questionnaire_id: int
    channel: Channel
    nonce: str
    answers: Mapping[str, int | str]  # question code -> value (int) or text (str)
    unit_id: int | None = None
    service_point_id: int | None = None
    language: str = "vi"
    flags: list[str] = field(default_factory=list)
    invitation_id: int | None = None
    receipt_id: int | None = None


@dataclass(frozen=True)
class Stored:
    response_id: int | None
    created: bool


_DESIGN_KEYS = ("serial", "stratum", "psu", "ssu", "weight", "fpc1", "fpc2")

# Core statements compiled once: the ORM's unit of work adds nothing on this hot path.
_RESPONSES = Response.__table__
_ANSWERS = Answer.__table__
_INSERT_RESPONSE = insert(_RESPONSES).returning(_RESPONSES.c.id)
# SQLite: the answers go straight to the driver's executemany (runs in C), without
# SQLAlchemy building a parameter dict per answer row; their values need no conversion.
_INSERT_ANSWERS_SQLITE = (
    "INSERT INTO answers (response_id, question_id, value, text) VALUES (?, ?, ?, ?)"
)
_INSERT_ANSWERS_PG = text(
    "INSERT INTO answers (response_id, question_id, value, text) "
    "SELECT :rid, q, v, t FROM unnest(CAST(:qids AS integer[]), CAST(:vals AS integer[]), "
    "CAST(:texts AS varchar[])) AS u(q, v, t)"
)
_RESPONSE_FIELDS = (
    "campaign_id",
    "questionnaire_id",
    "channel",
    "status",
    "nonce",
    "unit_id",
    "service_point_id",
    "language",
    "respondent_type",
    "flags",
    "held",
    "submitted_at",
    *_DESIGN_KEYS,
)


def _insert_response_with_answers() -> Any:
    """PostgreSQL, one statement for a whole submission::

        WITH new_response AS (INSERT INTO responses … RETURNING id),
             new_answers AS (INSERT INTO answers SELECT new_response.id, q, v, t
                             FROM new_response, unnest(:qids, :vals, :texts))
        SELECT id FROM new_response

    Run in autocommit it is one round trip and one implicit transaction — atomic, so a
    repeated nonce still stores nothing — where BEGIN, two INSERTs and COMMIT took four.
    Built from the table objects, so column types convert the values as the ORM would.
    """
    response = (
        insert(_RESPONSES)
        .values({name: bindparam(name) for name in _RESPONSE_FIELDS})
        .returning(_RESPONSES.c.id)
        .cte("new_response")
    )
    given = (
        func.unnest(
            cast(bindparam("qids"), ARRAY(Integer)),
            cast(bindparam("vals"), ARRAY(Integer)),
            cast(bindparam("texts"), ARRAY(String)),
        )
        .table_valued("q", "v", "t")
        .render_derived(name="u")
    )
    answers = insert(_ANSWERS).from_select(
        ["response_id", "question_id", "value", "text"],
        select(response.c.id, given.c.q, given.c.v, given.c.t)
        .select_from(response)
        .join(given, true()),
    )
    return select(response.c.id).add_cte(answers.cte("new_answers"))


_INSERT_SUBMISSION_PG = _insert_response_with_answers()


def _paper_design(conn: Any, invitation_id: int) -> dict[str, Any]:
    """Design fields of the paper form that carried this invitation, if any.

    A household that answers online instead of on paper is still the household the sample
    drew: its response keeps the form's stratum, PSU, SSU, weight and population sizes (and
    the form's serial and commune), so it joins the probability sample like a keyed form.
    """
    from surveyapp.models.sampling import Form, Household

    village = Unit.__table__.alias("village")
    row = conn.execute(
        select(
            Form.serial,
            Form.stratum,
            Form.psu,
            Form.ssu,
            Form.weight,
            Form.fpc1,
            Form.fpc2,
            village.c.parent_id,
            village.c.id.label("village_id"),
        )
        .join(Household, Household.id == Form.household_id)
        .join(village, village.c.id == Household.village_id)
        .where(Form.invitation_id == invitation_id)
    ).first()
    if row is None:
        return {}
    return {
        "serial": row.serial,
        "stratum": row.stratum,
        "psu": row.psu,
        "ssu": row.ssu,
        "weight": row.weight,
        "fpc1": row.fpc1,
        "fpc2": row.fpc2,
        "unit_id": row.parent_id or row.village_id,
    }


class InvitationUsed(ServiceError):
    """The invitation code has already been used by another submission."""


class ReceiptUsed(ServiceError):
    """The receipt code has already rated its transaction."""


def _answer_columns(
    spec: FormSpec, answers: Mapping[str, int | str]
) -> tuple[list[int], list[int | None], list[str | None]]:
    """Question ids, values and texts of the answers, in three parallel lists."""
    qids: list[int] = []
    values: list[int | None] = []
    texts: list[str | None] = []
    by_code = spec.by_code
    for code, value in answers.items():
        qids.append(by_code[code].id)
        if isinstance(value, str):
            values.append(None)
            texts.append(value)
        else:
            values.append(value)
            texts.append(None)
    return qids, values, texts


def store(sub: Submission) -> Stored:
    """Insert the response and its answers; commit. A repeated nonce stores nothing.

    Returns ``Stored(id, created=True)`` for a new response, ``created=False`` when the
    nonce was already stored (the earlier response's id, if it can be seen).
    Raises :class:`InvitationUsed` if an invitation was answered by another form meanwhile.
    """
    spec = form_spec(sub.questionnaire_id)
    now = utcnow()
    # Everything is prepared before a connection is taken, so the write lock (SQLite) and
    # the transaction are held for the inserts only.
    qids, values, texts = _answer_columns(spec, sub.answers)
    row: dict[str, Any] = {
        **{k: None for k in _DESIGN_KEYS},
        "campaign_id": sub.campaign_id,
        "questionnaire_id": sub.questionnaire_id,
        "channel": sub.channel,
        "status": ResponseStatus.FINAL,
        "nonce": sub.nonce,
        "unit_id": sub.unit_id,
        "service_point_id": sub.service_point_id,
        "language": sub.language,
        "respondent_type": spec.respondent_type(sub.answers),
        "flags": list(sub.flags),
        # A burst is kept but left out of the estimates until an analyst releases it.
        "held": abuse.holds(sub.flags, sub.channel),
        "submitted_at": now,
    }
    engine = db.engine
    try:
        if (
            engine.dialect.name == "postgresql"
            and qids
            and sub.invitation_id is None
            and sub.receipt_id is None
        ):
            # The common case (a desk's QR or kiosk form): one atomic statement.
            with engine.connect() as conn:
                response_id = (
                    conn.execution_options(isolation_level="AUTOCOMMIT")
                    .execute(
                        _INSERT_SUBMISSION_PG,
                        {**row, "qids": qids, "vals": values, "texts": texts},
                    )
                    .scalar_one()
                )
            return Stored(response_id, created=True)
        # Straight on the engine, not the ORM session: one short transaction, nothing to track.
        with write_lock(), engine.begin() as conn:
            if sub.invitation_id:
                row.update(_paper_design(conn, sub.invitation_id))
            response_id = conn.execute(_INSERT_RESPONSE, row).scalar_one()
            if qids and conn.dialect.name == "postgresql":
                # One statement with three arrays: one round trip, one cached plan.
                conn.execute(
                    _INSERT_ANSWERS_PG,
                    {"rid": response_id, "qids": qids, "vals": values, "texts": texts},
                )
            elif qids:
                conn.exec_driver_sql(
                    _INSERT_ANSWERS_SQLITE,
                    [(response_id, q, v, t) for q, v, t in zip(qids, values, texts, strict=True)],
                )
            if sub.invitation_id is not None:
                claimed = conn.execute(
                    update(Invitation)
                    .where(Invitation.id == sub.invitation_id, Invitation.used_at.is_(None))
                    .values(used_at=now, response_id=response_id)
                ).rowcount
                if claimed != 1:
                    raise InvitationUsed("invitation already used")  # rolls the insert back
            if sub.receipt_id is not None:
                claimed = conn.execute(
                    update(ReceiptCode)
                    .where(ReceiptCode.id == sub.receipt_id, ReceiptCode.used_at.is_(None))
                    .values(used_at=now, response_id=response_id)
                ).rowcount
                if claimed != 1:
                    raise ReceiptUsed("receipt already used")  # rolls the insert back
    except IntegrityError:
        with engine.connect() as conn:
            existing = conn.scalar(select(Response.id).where(Response.nonce == sub.nonce))
        if existing is None:
            raise
        return Stored(existing, created=False)
    return Stored(response_id, created=True)
