"""``surveyapp bulletin``: the monthly desk bulletin of one commune centre, as HTML or PDF."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

from surveyapp.cli_common import campaign_or_fail, fail
from surveyapp.services import ServiceError, bulletin


@click.command("bulletin")
@click.option("--unit", "code", required=True, help="Official code of the commune-level unit.")
@click.option("--month", required=True, help="The month, as YYYY-MM.")
@click.option(
    "--format", "fmt", type=click.Choice(bulletin.FORMATS), default="pdf", show_default=True
)
@click.option("--output", type=click.Path(dir_okay=False), help="File to write (default stdout).")
@click.option("--campaign", "campaign_id", type=int, help="Only this campaign's ratings.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@with_appcontext
def bulletin_command(
    code: str, month: str, fmt: str, output: str | None, campaign_id: int | None, lang: str
) -> None:
    """One A4 page for a commune centre's desks: ratings, share good beside the 80 % standard,
    top reasons, three recent comments (masked) and the last 12 months."""
    with force_locale(lang):
        campaign = campaign_or_fail(campaign_id) if campaign_id is not None else None
        try:
            unit = bulletin.unit_by_code(code)
            first = bulletin.parse_month(month)
            data = bulletin.render(bulletin.build(unit, first, campaign, lang=lang), fmt)
        except ServiceError as exc:
            fail(str(exc))
    if output:
        with open(output, "wb") as fh:
            fh.write(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


COMMANDS = (bulletin_command,)
