"""``surveyapp report``: the campaign's SIPAS table as JSON, XLSX or printable HTML."""

from __future__ import annotations

import json
import shlex
import sys

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from surveyapp.cli_common import campaign_or_fail
from surveyapp.services import ServiceError, forecasts, levels, report_files, reports, sae


@click.command("report")
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "xlsx", "html"]),
    default="json",
    show_default=True,
)
@click.option(
    "--by",
    default=None,
    help="Also estimate per administrative level of the campaign's units (commune; district "
    "on the historical structure; region when the province defined regions), per desk or "
    "per channel (on the full design).",
)
@click.option(
    "--sample",
    type=click.Choice(["probability", "convenience", "invited", "both"]),
    default=None,
    help="Default: probability for json, both for xlsx/html. 'both' also brings the "
    "invited sample (standalone invitation codes) when there is one; the samples are "
    "never pooled.",
)
@click.option("--ci", default="logit", show_default=True, help="CI method for shares.")
@click.option("--output", type=click.Path(dir_okay=False), help="File to write (default stdout).")
@click.option(
    "--show-analyze-command",
    is_flag=True,
    help="Print the surveyapp export-responses and analyze lines that reproduce the report.",
)
@with_appcontext
def report_command(
    campaign_id: int,
    fmt: str,
    by: str | None,
    sample: str | None,
    ci: str,
    output: str | None,
    show_analyze_command: bool,
) -> None:
    """The SIPAS report of a campaign: estimates, CIs and verdicts against the targets."""
    campaign = campaign_or_fail(campaign_id)
    try:
        levels.check(campaign, by)
    except ServiceError as exc:
        raise click.BadParameter(str(exc), param_hint="--by") from exc
    sample = sample or ("probability" if fmt == "json" else "both")
    keys = ["probability", "convenience"] if sample == "both" else [sample]
    if sample == "both" and reports.has_answers(campaign, "invited"):
        keys.append("invited")
    if show_analyze_command:
        # Two lines per sample, run in order: the export the report reads, then the analysis.
        for key in keys:
            export = f"responses-{campaign.id}-{key}.csv"
            click.echo(
                shlex.join(
                    [
                        "surveyapp",
                        "export-responses",
                        "--campaign",
                        str(campaign.id),
                        "--sample",
                        key,
                        "--format",
                        "csv",
                        "--output",
                        export,
                    ]
                )
            )
            args = reports.analyze_args(campaign, reports.SAMPLES[key], by, ci)
            click.echo(shlex.join(["surveyapp", "analyze", export, *args]))
        return
    try:
        sections = reports.file_sections(
            campaign,
            keys=keys,
            by=dict.fromkeys(keys, by) if sample == "both" else {sample: by},
            ci=ci,
            with_invited=False,
        )
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc
    built = list(zip(keys, (report for _title, report in sections), strict=True))
    if fmt == "json":
        payload = (
            built[0][1].to_dict()
            if len(built) == 1
            else {key: report.to_dict() for key, report in built}
        )
        data = json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8")
    elif fmt == "xlsx":
        data = report_files.to_xlsx(sections, sae.for_report(campaign, sections))
    else:
        data = report_files.to_html(sections, sae.for_report(campaign, sections)).encode("utf-8")
    if output:
        with open(output, "wb") as fh:
            fh.write(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


@click.command("forecast")
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option("--format", "fmt", type=click.Choice(["json", "xlsx"]), default="json")
@click.option("--level", type=float, default=0.95, show_default=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="File to write (default stdout).")
@with_appcontext
def forecast_command(
    campaign_id: int, fmt: str, level: float, lang: str, output: str | None
) -> None:
    """The own survey beside the published SIPAS, and the forecast of the next publication."""
    from flask_babel import force_locale

    campaign = campaign_or_fail(campaign_id)
    if not 0.5 <= level < 1:
        raise click.BadParameter("use a level between 0.5 and 1", param_hint="--level")
    with force_locale(lang):
        try:
            built = forecasts.build(campaign, level=level, lang=lang)
        except ServiceError as exc:
            raise click.ClickException(str(exc)) from exc
        if fmt == "json":
            data = (json.dumps(built.to_dict(), ensure_ascii=False, indent=2) + "\n").encode()
        else:
            data = forecasts.to_xlsx(built)
    if output:
        with open(output, "wb") as fh:
            fh.write(data)
    else:
        sys.stdout.buffer.write(data)


from surveyapp.dashboard.alerts_cli import alerts_cli  # noqa: E402
from surveyapp.dashboard.bulletin_cli import bulletin_command  # noqa: E402
from surveyapp.dashboard.officials_cli import officials_cli  # noqa: E402


@click.command("fold")
@click.option("--campaign", "campaign_id", type=int, help="Only this campaign's bit masks.")
@with_appcontext
def fold_command(campaign_id: int | None) -> None:
    """Fold the desk tallies' journal and new responses' answers now (what the next report
    would do on its way): after a bulk import, and on a timer on a primary whose dashboards a
    read replica serves."""
    campaign = campaign_or_fail(campaign_id) if campaign_id is not None else None
    tallied, folded = reports.fold(campaign)
    click.echo(
        _(
            "Folded %(tallied)d changed responses into the desk tallies and the answers of "
            "%(folded)d new responses into bit masks.",
            tallied=tallied,
            folded=folded,
        )
    )


from surveyapp.dashboard.periodic_cli import periodic_report_command  # noqa: E402

COMMANDS = (
    report_command,
    fold_command,
    forecast_command,
    alerts_cli,
    bulletin_command,
    periodic_report_command,
    officials_cli,
)
