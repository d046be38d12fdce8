"""Running tallies of the desk ratings: sums per cell, kept exact as responses change.

A report on ratings stratified by desk (every rating its own draw) needs, per cell (one
desk, channel, unit and questionnaire), only the number of ratings and the sums of products
of their answered/satisfied flags (:class:`surveyapp.analysis.cells.RowMoments`). Those are
kept here, so the report reads as many rows as there are desks, not ratings.

How they stay exact (:mod:`surveyapp.data.tallies`): triggers in the database put the id of
every response (of a rating channel) that is inserted, changed in a way a report sees, or
deleted, and of every response whose answers change, in ``tally_journal``, in the very
transaction that makes the change, whatever code makes it. Before reading the cells a
report folds the journal: each journalled response's recorded contribution
(``tally_members``) is taken out of its cell, and its present one, if it counts, put in.
Integer counts, so taking out gives back exactly what was put in.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.models.base import Base

# The channels whose responses are tallied: the desk ratings and the answers to standalone
# invitation codes (both every answer its own draw). Paper forms have a two-stage design and
# are read per household.
TALLIED_CHANNELS = ("qr", "kiosk", "web_invite")


class TallyCell(Base):
    """The ratings of one (campaign, questionnaire layout, channel, desk, unit) cell.

    ``service_point_id`` and ``unit_id`` are -1 for none (a unique key treats NULLs as
    distinct). ``products``: the int64 matrix (K x K, row-major) of the sums of ``x x'``,
    ``x`` a rating's satisfied and answered flags per rated item in the layout's order.
    """

    __tablename__ = "tally_cells"
    __table_args__ = (
        UniqueConstraint(
            "campaign_id",
            "layout",
            "questionnaire_id",
            "channel",
            "service_point_id",
            "unit_id",
            name="uq_tally_cells_key",
        ),
        # Derived: a backup leaves the tallies out; restoring the responses journals them
        # again (the triggers fire on every insert) and the first report rebuilds the cells.
        {"info": {"cache": True}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    layout: Mapped[str] = mapped_column(String(16))
    questionnaire_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    service_point_id: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(BigInteger)
    products: Mapped[bytes] = mapped_column(LargeBinary)


class TallyMember(Base):
    """A response counted in a cell, with the flags it added (to take them out again)."""

    __tablename__ = "tally_members"
    __table_args__ = {"info": {"cache": True}}

    # No foreign key to responses: a deleted response's contribution must outlive it until
    # the next fold takes it out.
    response_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cell_id: Mapped[int] = mapped_column(
        ForeignKey("tally_cells.id", ondelete="CASCADE"), index=True
    )
    flags: Mapped[bytes] = mapped_column(LargeBinary)


class TallyJournal(Base):
    """A response whose tally may be out of date (written by the database's triggers).

    One row per change, not per response: a fold deletes the rows it read by ``id``, so a
    change committed while it ran leaves a row of its own for the next fold.
    """

    __tablename__ = "tally_journal"
    __table_args__ = {"info": {"cache": True}}

    # INTEGER like every id (routing.ID_MAX): two billion changes before it wraps.
    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(Integer, index=True)


_CHANNELS = ", ".join(f"'{c}'" for c in TALLIED_CHANNELS)
# What a report of the tallied samples reads from a response: a change to any of them may
# move the response in or out of a cell.
_WATCHED = "campaign_id, questionnaire_id, channel, status, unit_id, service_point_id, weight, held"

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER tally_response_insert AFTER INSERT ON responses
    WHEN NEW.channel IN ({_CHANNELS})
    BEGIN INSERT INTO tally_journal (response_id) VALUES (NEW.id); END""",
    f"""CREATE TRIGGER tally_response_update AFTER UPDATE OF {_WATCHED} ON responses
    WHEN OLD.channel IN ({_CHANNELS}) OR NEW.channel IN ({_CHANNELS})
    BEGIN INSERT INTO tally_journal (response_id) VALUES (NEW.id); END""",
    f"""CREATE TRIGGER tally_response_delete AFTER DELETE ON responses
    WHEN OLD.channel IN ({_CHANNELS})
    BEGIN INSERT INTO tally_journal (response_id) VALUES (OLD.id); END""",
    # A new response's answers find it journalled already: one key lookup per answer (the
    # fold holds the one SQLite writer's lock, so no fold runs between the two).
    f"""CREATE TRIGGER tally_answer_insert AFTER INSERT ON answers
    WHEN NOT EXISTS (SELECT 1 FROM tally_journal WHERE response_id = NEW.response_id)
      AND EXISTS (SELECT 1 FROM responses
                  WHERE id = NEW.response_id AND channel IN ({_CHANNELS}))
    BEGIN INSERT INTO tally_journal (response_id) VALUES (NEW.response_id); END""",
    f"""CREATE TRIGGER tally_answer_update AFTER UPDATE OF response_id, question_id, value
    ON answers
    WHEN EXISTS (SELECT 1 FROM responses
                 WHERE id IN (OLD.response_id, NEW.response_id) AND channel IN ({_CHANNELS}))
    BEGIN
      INSERT INTO tally_journal (response_id) VALUES (OLD.response_id);
      INSERT INTO tally_journal (response_id) VALUES (NEW.response_id);
    END""",
    f"""CREATE TRIGGER tally_answer_delete AFTER DELETE ON answers
    WHEN EXISTS (SELECT 1 FROM responses
                 WHERE id = OLD.response_id AND channel IN ({_CHANNELS}))
    BEGIN INSERT INTO tally_journal (response_id) VALUES (OLD.response_id); END""",
)

POSTGRESQL_TRIGGERS = (
    # Inserts are journalled once per statement (a submission is one statement; a bulk
    # import thousands of rows), from the statement's new rows.
    f"""CREATE OR REPLACE FUNCTION tally_new_responses() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO tally_journal (response_id)
        SELECT id FROM new_rows WHERE channel IN ({_CHANNELS});
      RETURN NULL;
    END $$""",
    """CREATE TRIGGER tally_response_insert AFTER INSERT ON responses
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION tally_new_responses()""",
    f"""CREATE OR REPLACE FUNCTION tally_new_answers() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO tally_journal (response_id)
        SELECT DISTINCT a.response_id FROM new_rows a JOIN responses r ON r.id = a.response_id
        WHERE r.channel IN ({_CHANNELS});
      RETURN NULL;
    END $$""",
    """CREATE TRIGGER tally_answer_insert AFTER INSERT ON answers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION tally_new_answers()""",
    """CREATE OR REPLACE FUNCTION tally_changed_response() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO tally_journal (response_id) VALUES (OLD.id);
      RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER tally_response_update AFTER UPDATE OF {_WATCHED} ON responses
    FOR EACH ROW WHEN (OLD.channel IN ({_CHANNELS}) OR NEW.channel IN ({_CHANNELS}))
    EXECUTE FUNCTION tally_changed_response()""",
    f"""CREATE TRIGGER tally_response_delete AFTER DELETE ON responses
    FOR EACH ROW WHEN (OLD.channel IN ({_CHANNELS}))
    EXECUTE FUNCTION tally_changed_response()""",
    f"""CREATE OR REPLACE FUNCTION tally_changed_answer() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO tally_journal (response_id)
        SELECT id FROM responses
        WHERE id IN (OLD.response_id, CASE WHEN TG_OP = 'UPDATE' THEN NEW.response_id END)
          AND channel IN ({_CHANNELS})
       ;
      RETURN NULL;
    END $$""",
    """CREATE TRIGGER tally_answer_update AFTER UPDATE OF response_id, question_id, value
    ON answers FOR EACH ROW EXECUTE FUNCTION tally_changed_answer()""",
    """CREATE TRIGGER tally_answer_delete AFTER DELETE ON answers
    FOR EACH ROW EXECUTE FUNCTION tally_changed_answer()""",
)


# Every trigger above, by name (the migration drops them; a test checks they exist).
TRIGGER_NAMES = (
    "tally_response_insert",
    "tally_response_update",
    "tally_response_delete",
    "tally_answer_insert",
    "tally_answer_update",
    "tally_answer_delete",
)


def trigger_statements(dialect: str) -> tuple[str, ...]:
    """The DDL of the journal's triggers on ``dialect`` (the migration creates the same)."""
    return POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS


@event.listens_for(Base.metadata, "after_create")
def _create_triggers(target: object, connection: Connection, **kw: Any) -> None:
    # After every table (the triggers name responses, answers and the journal), and only
    # when this create_all made the journal (not on a second create_all of a full schema).
    if not any(getattr(t, "name", None) == "tally_journal" for t in kw.get("tables") or ()):
        return
    for statement in trigger_statements(connection.dialect.name):
        connection.exec_driver_sql(statement)
