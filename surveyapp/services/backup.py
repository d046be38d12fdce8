"""Backup and restore: every table as JSON lines, portable between SQLite and PostgreSQL.

A backup records the schema revision it was taken at; a restore refuses a database at another
revision or one that already holds data, and loads everything in one transaction, so a failed
restore leaves the database as it was.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal

from flask_babel import gettext as _
from sqlalchemy import Date, DateTime, Numeric, Table, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from surveyapp.extensions import db
from surveyapp.models import Base
from surveyapp.models.base import utcnow
from surveyapp.services import ServiceError

FORMAT = "surveyapp-backup"
VERSION = 1


def _revision() -> str | None:
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _decoder(table: Table) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in table.columns:
        if isinstance(column.type, DateTime):
            out[column.name] = datetime.fromisoformat
        elif isinstance(column.type, Date):
            out[column.name] = date.fromisoformat
        elif isinstance(column.type, Numeric) and column.type.asdecimal:
            out[column.name] = Decimal
    return out


def _tables() -> list[Table]:
    # Caches (e.g. response_bits) are rebuilt from the other tables when first needed.
    return [t for t in Base.metadata.sorted_tables if not t.info.get("cache")]


def _ordered(table: Table) -> Any:
    keys = list(table.primary_key.columns) or list(table.columns)
    return select(table).order_by(*keys)


def dump_lines() -> Iterator[str]:
    """The backup as JSON lines: a header, then one line per row, tables in FK order."""
    header = {
        "format": FORMAT,
        "version": VERSION,
        "revision": _revision(),
        "created_at": utcnow().isoformat(),
        "tables": {
            t.name: db.session.scalar(select(func.count()).select_from(t)) for t in _tables()
        },
    }
    yield json.dumps(header, ensure_ascii=False)
    for table in _tables():
        for row in db.session.execute(_ordered(table)).mappings():
            record = {k: _encode(v) for k, v in row.items()}
            yield json.dumps({"t": table.name, "r": record}, ensure_ascii=False, sort_keys=True)


def write(path: str | Path | None, out: IO[str] | None = None) -> dict[str, int]:
    """Write a backup to ``path`` (gzip when it ends with .gz) or to ``out``."""
    lines = dump_lines()
    first = next(lines)
    counts: dict[str, int] = json.loads(first)["tables"]
    with contextlib.ExitStack() as stack:
        if path is None:
            target = out if out is not None else io.StringIO()
        else:
            target = stack.enter_context(_open(path, "w"))
        target.write(first + "\n")
        for line in lines:
            target.write(line + "\n")
    return counts


def _open(path: str | Path, mode: Literal["r", "w"] = "r") -> IO[str]:
    if str(path).endswith(".gz"):
        return gzip.open(path, "rt" if mode == "r" else "wt", encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def restore(path: str | Path) -> dict[str, int]:
    """Load a backup into an empty database at the same schema revision (all or nothing)."""
    try:
        handle = _open(path)
    except OSError as exc:
        raise ServiceError(str(exc)) from exc
    with handle:
        header = _read_header(handle.readline())
        tables = {t.name: t for t in _tables()}
        _refuse_rows(tables.values())
        decoders = {name: _decoder(t) for name, t in tables.items()}
        counts = dict.fromkeys(tables, 0)
        batch: list[dict[str, Any]] = []
        # (line of the backup, row number within its table) of each row in ``batch``
        where: list[tuple[int, int]] = []
        batch_table: str | None = None

        def flush() -> None:
            if batch and batch_table is not None:
                _insert(tables[batch_table], batch, where)
                batch.clear()
                where.clear()

        for number, line in enumerate(handle, start=2):
            try:
                item = json.loads(line)
                name, row = item["t"], item["r"]
                decode = decoders[name]
                values = {
                    k: (decode[k](v) if k in decode and v is not None else v)
                    for k, v in row.items()
                }
            except (ValueError, KeyError, TypeError) as exc:
                db.session.rollback()
                raise ServiceError(
                    _("Line %(line)d of the backup is damaged.", line=number)
                ) from exc
            if name != batch_table:
                flush()
                batch_table = name
            batch.append(values)
            counts[name] += 1
            where.append((number, counts[name]))
            if len(batch) >= 1000:
                flush()
        flush()
        if counts != {k: header["tables"].get(k, 0) for k in counts}:
            db.session.rollback()
            raise ServiceError(_("The backup is incomplete: its row counts do not match."))
        _reset_sequences(tables.values())
    return counts


def _read_header(line: str) -> dict[str, Any]:
    """The backup's first line, refused unless it is a surveyapp backup of this schema."""
    try:
        header: dict[str, Any] = json.loads(line)
    except ValueError as exc:
        raise ServiceError(_("This file is not a surveyapp backup.")) from exc
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise ServiceError(_("This file is not a surveyapp backup."))
    current = _revision()
    if header.get("revision") != current:
        raise ServiceError(
            _(
                "The backup was taken at schema revision %(backup)s but the database is at "
                "%(db)s; run surveyapp init-db with the matching version first.",
                backup=header.get("revision"),
                db=current,
            )
        )
    return header


def _refuse_rows(tables: Iterable[Table]) -> None:
    """Restore needs an empty database: refuse one whose tables have rows."""
    for table in tables:
        if db.session.scalar(select(func.count()).select_from(table)):
            raise ServiceError(
                _(
                    "The database is not empty (table %(table)s has rows); restore needs an "
                    "empty database.",
                    table=table.name,
                )
            )


def _insert(table: Table, rows: list[dict[str, Any]], where: list[tuple[int, int]]) -> None:
    """Insert a batch; when the database refuses it, find the row it refused and say which,
    in one line (e.g. a NUL byte SQLite stored but PostgreSQL cannot hold)."""
    if db.engine.dialect.name != "postgresql":
        # SQLite runs a batch row by row and keeps the rows before a failing one inside the
        # transaction, so the rows now in the table say which one failed. (Savepoints are
        # not used: the sqlite3 module opens no transaction before one, so releasing it
        # would commit the restore so far.)
        before = db.session.scalar(select(func.count()).select_from(table)) or 0
        try:
            db.session.execute(insert(table), rows)
            return
        except (DBAPIError, ValueError) as exc:
            after = db.session.scalar(select(func.count()).select_from(table)) or 0
            index = min(max(after - before, 0), len(rows) - 1)
            _refuse(table, where[index], exc)
    try:
        with db.session.begin_nested():
            db.session.execute(insert(table), rows)
        return
    except (DBAPIError, ValueError):
        pass  # rolled back to the savepoint: insert row by row to find the one refused
    for values, place in zip(rows, where, strict=True):
        try:
            with db.session.begin_nested():
                db.session.execute(insert(table), [values])
        except (DBAPIError, ValueError) as exc:
            _refuse(table, place, exc)


def _refuse(table: Table, place: tuple[int, int], exc: Exception) -> None:
    db.session.rollback()
    line, row = place
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    raise ServiceError(
        _(
            "Table %(table)s, row %(row)d (line %(line)d of the backup) cannot be written: "
            "%(reason)s. Nothing was restored.",
            table=table.name,
            row=row,
            line=line,
            reason=reason,
        )
    ) from exc


def _reset_sequences(tables: Any) -> None:
    """PostgreSQL hands out ids from sequences that a bulk insert with ids does not advance."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in tables:
        if "id" not in table.columns or not table.columns["id"].autoincrement:
            continue
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'
            )
        )
