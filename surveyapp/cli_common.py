"""What every command module shares: output, one-line failures, the campaign look-up.

Command modules (surveyapp.cli and each blueprint's cli) import this module, never each other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from flask import current_app
from flask_babel import gettext as _

from surveyapp.extensions import db
from surveyapp.hygiene import clean_text
from surveyapp.models.campaigns import Campaign
from surveyapp.services import ServiceError

T = TypeVar("T")


def emit(payload: Any, fmt: str, columns: list[str] | None = None) -> None:
    """Print JSON (UTF-8, diacritics intact) or an aligned table."""
    if fmt == "json":
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
        return
    rows = payload if isinstance(payload, list) else [payload]
    columns = columns or (list(rows[0]) if rows else [])
    widths = {c: max([len(c)] + [len(_cell(r.get(c))) for r in rows]) for c in columns}
    click.echo("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        click.echo("  ".join(_cell(r.get(c)).ljust(widths[c]) for c in columns))


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def fail(message: str) -> NoReturn:
    """One clear line on stderr and a non-zero exit."""
    raise click.ClickException(message)


class CleanText(click.ParamType[str, Any]):
    """A one-line text option, cleaned of control characters like every other text input
    (:mod:`surveyapp.hygiene`): a NUL typed into ``--username`` would fail on PostgreSQL."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return clean_text(str(value), multiline=False)


TEXT = CleanText()


FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True
)


def import_file(importer: Callable[[bytes, str], T], file: str) -> T:
    """Hand FILE's bytes and name to an all-or-nothing importer and commit what it did; an
    unreadable file or a refusal ends the command with the problems, nothing kept."""
    try:
        data = Path(file).read_bytes()
        done = importer(data, Path(file).name)
    except OSError as exc:
        fail(str(exc))
    except ServiceError as exc:
        db.session.rollback()
        fail(_("Nothing was imported.") + "\n" + str(exc))
    db.session.commit()
    return done


def campaign_or_fail(campaign_id: int) -> Campaign:
    """The campaign, or one clear line and a non-zero exit (shared by every command)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        fail(_("No campaign with id %(id)d.", id=campaign_id))
    return campaign


BASE_URL_OPTION = click.option(
    "--base-url",
    help="Public address for the printed links, e.g. https://khaosat.example.vn.",
)


def use_base_url(base_url: str | None) -> None:
    if base_url:
        current_app.config["BASE_URL"] = base_url.rstrip("/")
