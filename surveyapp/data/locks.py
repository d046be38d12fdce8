"""The writers' lock that every write path shares (submissions, bit and tally folds), and
whether the database takes writes at all (a read replica does not)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from surveyapp.extensions import db

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; SQLite's busy handler remains
    fcntl = None  # type: ignore[assignment]


@contextmanager
def write_lock() -> Iterator[None]:
    """On SQLite, queue writers on an OS file lock instead of SQLite's busy handler.

    SQLite lets one writer in at a time and makes the others poll with growing sleeps
    (1, 2, 5, 10 ms …), so two gunicorn workers spend their time asleep. ``flock`` wakes the
    next writer as soon as the lock is free. Other databases need nothing.
    """
    engine = db.engine
    if engine.dialect.name != "sqlite" or fcntl is None:
        yield
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}-writers.lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_only() -> bool:
    """Whether the database refuses writes: a PostgreSQL hot standby (a streaming read
    replica serving dashboards) or a server or role set to read-only transactions.

    A report's two writes on the way, the tallies' fold and the paper answers' bit fold,
    are then the primary's job (``surveyapp fold`` there, after imports and on a timer): the
    report reads the cells and bits as the primary last folded them, instead of failing.
    """
    if db.engine.dialect.name != "postgresql":
        return False
    setting = db.session.scalar(text("SELECT current_setting('transaction_read_only')"))
    return str(setting) == "on"
