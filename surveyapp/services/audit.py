"""Writing the audit log."""

from __future__ import annotations

from typing import Any

from surveyapp.extensions import db
from surveyapp.models.audit import AuditLog


def record(
    action: str,
    entity: str,
    entity_id: object,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    user_id: int | None = None,
) -> AuditLog:
    """Add an audit entry to the session (committed with the change it describes)."""
    if user_id is None:
        user_id = _current_user_id()
    entry = AuditLog(
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=before,
        after=after,
        user_id=user_id,
    )
    db.session.add(entry)
    return entry


def _current_user_id() -> int | None:
    try:
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            return int(current_user.id)
    except (RuntimeError, AttributeError):  # outside a request (CLI)
        pass
    return None
