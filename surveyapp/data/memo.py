"""Reads kept for the rest of a session's transaction, until it writes.

A report page asks for the same small tables several times (every unit with its parent for
each breakdown label, the campaign's levels for the breakdown's check, its default, the
response rates and the form's choices). Kept per session, they are forgotten when the
session flushes, commits or rolls back, so a page never reads a value its own writes, or a
later transaction, changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from surveyapp.extensions import db

_KEY = "surveyapp.memo"


def memo(name: str) -> dict[Any, Any]:
    """The current session's memo called ``name`` (empty after any write or transaction
    end)."""
    kept: dict[str, dict[Any, Any]] = db.session.info.setdefault(_KEY, {})
    return kept.setdefault(name, {})


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    session.info.pop(_KEY, None)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _ended(session: Session) -> None:
    session.info.pop(_KEY, None)
