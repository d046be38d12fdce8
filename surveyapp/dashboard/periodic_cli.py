"""``surveyapp periodic-report``: the quarterly, six-month or annual report of a campaign."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from surveyapp.cli_common import campaign_or_fail
from surveyapp.services import ServiceError, periodic


@click.command("periodic-report")
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option(
    "--period",
    required=True,
    help="2026-Q1 … 2026-Q4 (quarter), 2026-H1 or 2026-H2 (six months), 2026 (year).",
)
@click.option("--format", "fmt", type=click.Choice(["html", "xlsx"]), default="html")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="File to write (default stdout).")
@with_appcontext
def periodic_report_command(
    campaign_id: int, period: str, fmt: str, lang: str, output: str | None
) -> None:
    """The report to the provincial People's Committee for a quarter, six months or a year:
    estimates against the targets, the change from the previous period, published results."""
    from flask_babel import force_locale

    campaign = campaign_or_fail(campaign_id)
    with force_locale(lang):
        try:
            report = periodic.build(campaign, period, lang=lang)
        except ServiceError as exc:
            raise click.ClickException(str(exc)) from exc
        data = periodic.to_xlsx(report) if fmt == "xlsx" else periodic.to_html(report).encode()
    if output:
        with open(output, "wb") as fh:
            fh.write(data)
    else:
        sys.stdout.buffer.write(data)
