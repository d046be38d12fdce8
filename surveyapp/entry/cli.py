"""Paper-channel commands: frame import, sample draw, forms print, import/export responses."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from surveyapp.cli_common import campaign_or_fail, fail
from surveyapp.extensions import db
from surveyapp.models.sampling import Batch
from surveyapp.services import (
    ServiceError,
    batches,
    exports,
    forms_print,
    frame,
    imports,
    sample_lists,
    sampling,
)


def _write(data: bytes, output: str | None) -> None:
    if output and output != "-":
        Path(output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


frame_cli = AppGroup("frame", help="The sample frame of households per village.")


@frame_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def frame_import(file: str) -> None:
    """Import households (CSV/XLSX: village, household[, head_name, address]); all or nothing."""
    try:
        count = frame.import_frame_file(file)
    except ServiceError as exc:
        db.session.rollback()
        fail(f"{file}: nothing imported.\n{exc}")
    db.session.commit()
    click.echo(f"Imported {count} households.")


@frame_cli.command("sizes")
def frame_sizes() -> None:
    """Households and villages per unit."""
    for row in frame.sizes():
        click.echo(
            f"{row['code']:<16} {row['level']:<9} {row['villages']:>6} "
            f"{row['households']:>8}  {row['name']}"
        )


sample_cli = AppGroup("sample", help="Multistage sample draws.")


@sample_cli.command("draw")
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option("--plan", "plan_file", type=click.Path(exists=True, dir_okay=False), required=True)
@click.option("--seed", type=int, default=None, help="Overrides the plan's seed.")
@click.option("--batch-size", type=int, default=20, show_default=True)
def sample_draw(campaign_id: int, plan_file: str, seed: int | None, batch_size: int) -> None:
    """Draw the sample, create its forms (serial + invitation) and batches per village."""
    campaign = campaign_or_fail(campaign_id)
    try:
        draw = sampling.draw_from_file(campaign, plan_file, seed)
        made = batches.make_batches(campaign, draw.id, batch_size)
    except ServiceError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    forms = sampling.forms_of(draw.id)
    reserves = sum(f.reserve for f in forms)
    click.echo(
        f"Draw {draw.id} (seed {draw.seed}): {len(forms) - reserves} households selected, "
        f"{reserves} in reserve, {len(made)} batches."
    )


@sample_cli.command("export")
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option(
    "--layout", type=click.Choice(sample_lists.LAYOUTS), default="moha", show_default=True
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="xlsx", show_default=True
)
@click.option("--output", type=click.Path(dir_okay=False), help="File to write (default stdout).")
def sample_export(campaign_id: int, layout: str, fmt: str, output: str | None) -> None:
    """The drawn households in the Ministry of Home Affairs' list layout (see README)."""
    campaign = campaign_or_fail(campaign_id)
    try:
        data = sample_lists.export(campaign, layout, fmt)
    except ServiceError as exc:
        fail(str(exc))
    _write(data, output)


forms_cli = AppGroup("forms", help="Printed paper forms.")


@forms_cli.command("print")
@click.option("--batch", "batch_id", type=int, required=True)
@click.option("--out", "--output", "output", default=None, help="HTML file (default: stdout).")
def forms_print_command(batch_id: int, output: str | None) -> None:
    """Write a batch's forms as one printable HTML page (A4, one form per page)."""
    batch = db.session.get(Batch, batch_id)
    if batch is None:
        fail(f"No batch with id {batch_id}.")
    assert batch is not None
    html = forms_print.render_forms(list(batch.forms), batch, standalone=True)
    _write(html.encode("utf-8"), output)


@forms_cli.command("list")
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option("--batch", "batch_id", type=int, default=None, help="Only this batch's forms.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="csv")
@click.option("--output", default=None, help="File to write (default: stdout).")
def forms_list_command(
    campaign_id: int, batch_id: int | None, fmt: str, output: str | None
) -> None:
    """List the printed forms: serial, batch, enumerator, fate, keyed or not (supervisors)."""
    campaign = campaign_or_fail(campaign_id)
    try:
        rows = batches.form_rows(campaign, batch_id)
    except ServiceError as exc:
        fail(str(exc))
    if fmt == "json":
        data = json.dumps(rows, ensure_ascii=False, indent=2).encode("utf-8")
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, batches.FORM_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        data = out.getvalue().encode("utf-8")
    _write(data, output)


@click.command("import-responses")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option(
    "--template",
    "template",
    default=None,
    type=click.Path(dir_okay=False),
    help="Write the XLSX template to this file instead of importing.",
)
def import_responses(file: str | None, campaign_id: int, template: str | None) -> None:
    """Import keyed paper forms (XLSX/CSV), all rows or none; or write the template."""
    campaign = campaign_or_fail(campaign_id)
    if template:
        Path(template).write_bytes(imports.template(campaign))
        click.echo(f"Wrote the template to {template}.")
        return
    if not file:
        fail("Give the FILE to import, or --template FILE to write the template.")
    try:
        responses = imports.import_file(campaign, file)  # type: ignore[arg-type]
    except ServiceError as exc:
        db.session.rollback()
        fail(f"{file}: không nhập dòng nào (nothing imported).\n{exc}")
    db.session.commit()
    click.echo(f"Imported {len(responses)} responses into campaign {campaign.id}.")


@click.command("export-responses")
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "parquet"]), default="csv")
@click.option("--output", default=None, help="File to write (default: stdout).")
@click.option(
    "--all-selected",
    is_flag=True,
    help="Add a row (no answers) for every selected household that did not respond.",
)
@click.option(
    "--sample",
    type=click.Choice(["probability", "convenience", "invited"]),
    default=None,
    help="Only the paper/web sample with its design, only the desk ratings (weighted to desk "
    "volume), or only the answers to standalone invitation codes (no design).",
)
def export_responses(
    campaign_id: int, fmt: str, output: str | None, all_selected: bool, sample: str | None
) -> None:
    """Write the flat file `surveyapp analyze` reads: one row per final response."""
    campaign = campaign_or_fail(campaign_id)
    _write(exports.export(campaign, fmt, all_selected, sample), output)


COMMANDS = (frame_cli, sample_cli, forms_cli, import_responses, export_responses)
