"""``surveyapp alerts check``: run the desk alert rules on what is new and send what is due."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from surveyapp.extensions import db
from surveyapp.services import ServiceError, alerts

alerts_cli = AppGroup(
    "alerts", help="Desk and commune alerts (rating below the standard, volume collapse)."
)


@alerts_cli.command("check")
def check_command() -> None:
    """Read the ratings since the last check, open or close alerts, e-mail recipients."""
    try:
        result = alerts.check()
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(
        _(
            "%(ratings)d new ratings at %(desks)d desks (%(communes)d commune centres); "
            "%(opened)d alerts opened, %(closed)d closed; e-mails: %(sent)d sent, "
            "%(held)d held, %(failed)d failed.",
            ratings=result.ratings_read,
            desks=result.desks_updated,
            communes=result.communes_updated,
            opened=len(result.opened),
            closed=len(result.closed),
            sent=result.sent,
            held=result.held,
            failed=result.failed,
        )
    )
    if result.failed:
        raise SystemExit(1)


COMMANDS = (alerts_cli,)
