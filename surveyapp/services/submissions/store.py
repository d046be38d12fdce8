"""Citizen submissions: which campaign a desk is surveying, the questionnaire as a cached
spec, one-time nonces, and storing a response exactly once.

A response is counted once because the database says so: every form carries a server-issued
nonce, ``responses.nonce`` is UNIQUE, and a second insert of the same nonce (a double tap, a
back-button resubmit, a network retry, concurrent or not) fails on that constraint and is
answered as the first one was. There is no check-then-insert anywhere on this path.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Mapping
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
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

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
from surveyapp.services.submissions.forms import FormSpec, form_spec


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
    link_id: str | None = None  # shared by a desk rating and the full survey after it


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
    "link_id",
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


@dataclass(frozen=True)
class _DriverStatement:
    """A statement compiled once for one dialect and run on the driver's own cursor.

    SQLAlchemy's execution (execution context, cursor and result wrappers, per-call
    parameter processing) cost as much CPU as the database's own work on the submit path.
    The SQL text and the column types' bind processors are SQLAlchemy's, taken once from
    the compiled statement, so the values reach the driver exactly as Core would send them.
    """

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool

    @classmethod
    def compile(cls, statement: Any, dialect: Dialect) -> _DriverStatement:
        compiled = statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup or compiled.binds)  # the names the SQL uses
        binds = compiled.binds
        processors = tuple(
            binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names
        )
        return cls(compiled.string, names, processors, bool(compiled.positiontup))

    def parameters(self, values: Mapping[str, Any]) -> Any:
        converted = [
            values[name] if proc is None else proc(values[name])
            for name, proc in zip(self.names, self.processors, strict=True)
        ]
        return (
            tuple(converted) if self.positional else dict(zip(self.names, converted, strict=True))
        )


#: Per dialect (an app has one engine; tests make many): the fast path's statements.
_DRIVER_STATEMENTS: weakref.WeakKeyDictionary[Dialect, _DriverStatement] = (
    weakref.WeakKeyDictionary()
)


def _driver_statement(dialect: Dialect) -> _DriverStatement:
    prepared = _DRIVER_STATEMENTS.get(dialect)
    if prepared is None:
        if dialect.name == "postgresql":
            statement = _INSERT_SUBMISSION_PG
        else:  # SQLite: the id comes from the cursor's lastrowid, no RETURNING needed
            statement = insert(_RESPONSES).values({n: bindparam(n) for n in _RESPONSE_FIELDS})
        prepared = _DRIVER_STATEMENTS[dialect] = _DriverStatement.compile(statement, dialect)
    return prepared


def _store_on_driver(
    engine: Engine,
    row: dict[str, Any],
    qids: list[int],
    values: list[int | None],
    texts: list[str | None],
) -> int:
    """The common submission (a desk's QR or kiosk form: no invitation, no receipt to claim)
    in one short transaction on a pooled connection's driver cursor.

    PostgreSQL: the one statement of :func:`_insert_response_with_answers` in autocommit
    (atomic: a repeated nonce stores nothing). SQLite: the response, then its answers by
    ``executemany``, under the writers' lock, committed before the caller answers 303.
    Driver errors come out as SQLAlchemy's (IntegrityError for a repeated nonce or link;
    an unreachable database stays an outage, answered 503), and a connection the error
    shows dead is dropped from the pool, as Core would do.
    """
    dialect = engine.dialect
    prepared = _driver_statement(dialect)
    driver_error = dialect.loaded_dbapi.Error
    try:
        connection = engine.raw_connection()
    except driver_error as exc:
        raise DBAPIError.instance(None, None, exc, driver_error, dialect=dialect) from exc
    cursor = None
    try:
        cursor = connection.cursor()
        if dialect.name == "postgresql":
            params = prepared.parameters({**row, "qids": qids, "vals": values, "texts": texts})
            driver = connection.driver_connection
            driver.autocommit = True  # type: ignore[union-attr]
            try:
                cursor.execute(prepared.sql, params)
                found = cursor.fetchone()
            finally:
                driver.autocommit = False  # type: ignore[union-attr]
            assert found is not None  # RETURNING gives the one new id
            return int(found[0])
        params = prepared.parameters(row)
        with write_lock():
            try:
                cursor.execute(prepared.sql, params)
                response_id = int(cursor.lastrowid)
                if qids:
                    cursor.executemany(
                        _INSERT_ANSWERS_SQLITE,
                        [
                            (response_id, q, v, t)
                            for q, v, t in zip(qids, values, texts, strict=True)
                        ],
                    )
                connection.commit()
            except BaseException:
                with contextlib.suppress(driver_error):
                    connection.rollback()
                raise
        return response_id
    except driver_error as exc:
        invalidated = dialect.is_disconnect(exc, connection.driver_connection, cursor)
        if invalidated:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            prepared.sql,
            None,
            exc,
            driver_error,
            connection_invalidated=invalidated,
            dialect=dialect,
        ) from exc
    finally:
        if cursor is not None:
            with contextlib.suppress(driver_error):
                cursor.close()
        connection.close()  # back to the pool (or gone, if invalidated)


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
        "link_id": sub.link_id,
    }
    engine = db.engine
    try:
        if (
            sub.invitation_id is None
            and sub.receipt_id is None
            and (qids or engine.dialect.name != "postgresql")
        ):
            # The common case (a desk's QR or kiosk form): straight on the driver.
            return Stored(_store_on_driver(engine, row, qids, values, texts), created=True)
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
        if existing is None and sub.link_id is not None:
            # The full survey of this desk rating was already answered (another form):
            # one answer per link and questionnaire, nothing more is stored.
            return Stored(None, created=False)
        if existing is None:
            raise
        return Stored(existing, created=False)
    return Stored(response_id, created=True)


def linked_rating(campaign_id: int, desk_id: int, link_id: str) -> tuple[bool, bool]:
    """``(a desk rating with this link exists, its full survey was already answered)``."""
    rows = db.session.execute(
        select(Response.questionnaire_id).where(
            Response.link_id == link_id,
            Response.campaign_id == campaign_id,
            Response.service_point_id == desk_id,
        )
    ).all()
    return bool(rows), len(rows) > 1
