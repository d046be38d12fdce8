"""``surveyapp officials import|codes|completion|remind|results``: the officials' survey."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from surveyapp.cli_common import FORMAT, TEXT, campaign_or_fail, emit, fail
from surveyapp.extensions import db
from surveyapp.services import ServiceError, officials

officials_cli = AppGroup(
    "officials",
    help="The officials' survey (PAR INDEX): frame by agency, codes, completion, reminders.",
)
CAMPAIGN = click.option("--campaign", "campaign_id", type=int, required=True)


@officials_cli.command("campaign")
@click.option("--name", type=TEXT, required=True)
@click.option("--starts", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--ends", type=click.DateTime(["%Y-%m-%d"]), required=True)
def campaign_command(name: str, starts: datetime, ends: datetime) -> None:
    """Open an officials' survey campaign on the PAR INDEX officials' instrument."""
    try:
        item = officials.create_campaign(name, starts.date(), ends.date())
    except ServiceError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    click.echo(_("Campaign %(id)d: %(name)s.", id=item.id, name=item.name))


@officials_cli.command("demo")
def demo_command() -> None:
    """The officials' survey demo: a campaign, a frame of 8 agencies, codes and answers
    (fictitious people, seeded)."""
    from surveyapp.services import officials_demo

    try:
        item = officials_demo.load()
    except ServiceError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    click.echo(_("Campaign %(id)d: %(name)s.", id=item.id, name=item.name))


@officials_cli.command("import")
@CAMPAIGN
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(campaign_id: int, path: Path) -> None:
    """Import the list of officials by agency (CSV or XLSX, all or nothing)."""
    campaign = campaign_or_fail(campaign_id)
    try:
        done = officials.import_frame(campaign, path.read_bytes(), path.name)
    except ServiceError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    click.echo(
        _(
            "%(agencies)d agencies; %(added)d officials added, %(updated)d updated.",
            agencies=done.agencies,
            added=done.added,
            updated=done.updated,
        )
    )


@officials_cli.command("codes")
@CAMPAIGN
@click.option("--agency", "agency_code", help="Only this agency's officials.")
@click.option("--format", "fmt", type=click.Choice(["csv", "pdf"]), default="csv")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
def codes_command(campaign_id: int, agency_code: str | None, fmt: str, output: Path) -> None:
    """Issue a code to every listed official without one, then write the list."""
    campaign = campaign_or_fail(campaign_id)
    try:
        issued = officials.issue_codes(campaign)
        db.session.commit()
        rows = officials.code_list(campaign, agency_code)
        data = officials.codes_csv(rows) if fmt == "csv" else officials.codes_pdf(campaign, rows)
    except ServiceError as exc:
        db.session.rollback()
        fail(str(exc))
    output.write_bytes(data)
    click.echo(
        _("%(issued)d new codes; %(n)d codes written to %(path)s.", issued=issued, n=len(rows),
          path=output)
    )  # fmt: skip


@officials_cli.command("completion")
@CAMPAIGN
@FORMAT
def completion_command(campaign_id: int, fmt: str) -> None:
    """Invited, answered and rate per agency."""
    campaign = campaign_or_fail(campaign_id)
    rows = officials.completion(campaign)
    emit(
        [
            {
                "agency": r.code or "*",
                "name": r.name,
                "listed": r.listed,
                "invited": r.invited,
                "answered": r.answered,
                "rate": None if r.rate is None else round(r.rate, 4),
            }
            for r in [*rows, officials.totals(rows)]
        ],
        fmt,
    )


@officials_cli.command("remind")
@CAMPAIGN
@click.option("--below", default=None, help="Completion rate under which an agency is behind.")
@click.option("--agency", "agency_codes", multiple=True, help="Remind these agencies instead.")
def remind_command(campaign_id: int, below: str | None, agency_codes: tuple[str, ...]) -> None:
    """List the codes not yet answered per agency behind; e-mail each agency's contact."""
    campaign = campaign_or_fail(campaign_id)
    try:
        result = officials.remind(
            campaign, officials.parse_below(below), agency_codes=list(agency_codes) or None
        )
    except ServiceError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    for reminder in result.reminders:
        click.echo(f"{reminder.agency.code}  {reminder.agency.name}")
        for code in reminder.codes:
            click.echo(f"  {code.staff_code}  {code.full_name}  {code.code}")
    click.echo(
        _(
            "%(n)d agencies reminded; e-mails: %(sent)d sent, %(failed)d failed.",
            n=len(result.reminders),
            sent=result.sent,
            failed=result.failed,
        )
    )


@officials_cli.command("results")
@CAMPAIGN
@FORMAT
def results_command(campaign_id: int, fmt: str) -> None:
    """Each index node per agency: share of its maximum with its CI, and points."""
    campaign = campaign_or_fail(campaign_id)
    try:
        res = officials.results(campaign)
    except ServiceError as exc:
        fail(str(exc))
    if res.message:
        fail(res.message)
    emit(officials.results_table(res), fmt)


COMMANDS = (officials_cli,)
