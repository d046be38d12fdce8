"""Citizen-channel commands: ``surveyapp qr`` and ``surveyapp invitations``."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from surveyapp.cli_common import BASE_URL_OPTION, campaign_or_fail, fail, use_base_url
from surveyapp.extensions import db
from surveyapp.models.units import ServicePoint
from surveyapp.services import ServiceError, links, qr


@click.command("qr")
@click.option("--desk", "desk_id", type=int, help="The desk's id (see `surveyapp desks list`).")
@click.option("--all", "all_desks", is_flag=True, help="Every active desk, one file each.")
@click.option("--format", "fmt", type=click.Choice(qr.FORMATS), default="pdf", show_default=True)
@click.option("--paper", type=click.Choice(sorted(qr.PAPERS)), default=None, help="A4 or A5.")
@click.option(
    "--output",
    "--out",
    "output",
    type=click.Path(),
    help="File to write (with --all: a directory). Without it, one sheet goes to stdout.",
)
@BASE_URL_OPTION
def qr_command(
    desk_id: int | None,
    all_desks: bool,
    fmt: str,
    paper: str | None,
    output: str | None,
    base_url: str | None,
) -> None:
    """Printable QR sheets: desk name, Vietnamese instruction, QR code and short URL."""
    use_base_url(base_url)
    if bool(desk_id) == all_desks:
        fail("Give either --desk ID or --all.")
    try:
        if all_desks:
            if not output:
                fail("--all writes one file per desk: give --output DIRECTORY.")
            directory = Path(output)
            directory.mkdir(parents=True, exist_ok=True)
            desks = db.session.scalars(
                select(ServicePoint).where(ServicePoint.active.is_(True)).order_by(ServicePoint.id)
            ).all()
            for each in desks:
                (directory / qr.filename(each, fmt)).write_bytes(qr.render(each, fmt, paper))
            click.echo(f"Wrote {len(desks)} {fmt.upper()} sheets to {directory}.", err=True)
            return
        desk = db.session.get(ServicePoint, desk_id)
        if desk is None:
            fail(f"No desk with id {desk_id}.")
        if not desk.active:
            fail(f"Desk {desk_id} is not active: its link no longer works.")
        data = qr.render(desk, fmt, paper)
    except ServiceError as exc:
        fail(str(exc))
    if output:
        Path(output).write_bytes(data)
        click.echo(f"Wrote {output} for {qr.survey_url(desk)}", err=True)
    else:
        click.echo(data, nl=False)


invitations_cli = AppGroup("invitations", help="One-time invitation codes for /i/<code>.")


@invitations_cli.command("create")
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option("--count", type=click.IntRange(1, 100_000), required=True)
@click.option("--output", "--out", "output", type=click.Path(dir_okay=False))
@BASE_URL_OPTION
def invitations_create(
    campaign_id: int, count: int, output: str | None, base_url: str | None
) -> None:
    """Create COUNT codes and write them as CSV (code, printed code, URL)."""
    from surveyapp.services import invitations

    use_base_url(base_url)

    campaign = campaign_or_fail(campaign_id)
    created = invitations.create(campaign, count)
    db.session.commit()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code", "printed", "url"])
    for inv in created:
        writer.writerow([inv.code, inv.printed, links.invitation_url(inv.code)])
    if output:
        Path(output).write_text(buffer.getvalue(), encoding="utf-8")
        click.echo(f"Wrote {len(created)} invitation codes to {output}.", err=True)
    else:
        sys.stdout.write(buffer.getvalue())


receipts_cli = AppGroup("receipts", help="Receipt codes: one rating per desk transaction.")


@receipts_cli.command("create")
@click.option("--desk", "desk_id", type=int, required=True)
@click.option("--count", type=click.IntRange(1, 100_000), required=True)
@click.option("--output", "--out", "output", type=click.Path(dir_okay=False))
def receipts_create(desk_id: int, count: int, output: str | None) -> None:
    """Create COUNT receipt codes for a desk's queue system (CSV: code, printed code, URL)."""
    from surveyapp.services import receipts

    desk = db.session.get(ServicePoint, desk_id)
    if desk is None:
        fail(f"No desk with id {desk_id}.")
    created = receipts.create(desk, count)
    db.session.commit()
    rows = [[r.code, r.printed, receipts.url_for_code(desk, r)] for r in created]
    _write_csv(["code", "printed", "url"], rows, output)
    if output:
        click.echo(f"Wrote {len(created)} receipt codes to {output}.", err=True)


def _write_csv(header: list[str], rows: list[list[str]], output: str | None) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    if output:
        Path(output).write_text(buffer.getvalue(), encoding="utf-8")
    else:
        sys.stdout.write(buffer.getvalue())


COMMANDS = (qr_command, invitations_cli, receipts_cli)
