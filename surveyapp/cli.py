"""The ``surveyapp`` command line: a Flask CLI group plus the project's commands."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
import flask.cli
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from flask_babel import gettext as _
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.units import ServicePoint
from surveyapp.models.users import Role, User
from surveyapp.services import (
    ServiceError,
    backup,
    campaigns,
    demo,
    instruments,
    links,
    margins,
    targets,
    users,
)


def _create_app() -> Flask:
    from surveyapp import create_app

    return create_app()


def _base_url_for_all(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    # Before the app exists: the environment is the settings' way in for every command.
    if value:
        os.environ["SURVEYAPP_BASE_URL"] = value


main = FlaskGroup(
    create_app=_create_app,
    load_dotenv=False,
    help="surveyapp: SIPAS survey collection and satisfaction measurement.",
    params=[
        click.Option(
            ["--base-url"],
            expose_value=False,
            is_eager=True,
            callback=_base_url_for_all,
            help="Public address for the links commands print (default: SURVEYAPP_BASE_URL, "
            "else where the last `surveyapp run` served, else http://127.0.0.1:5000).",
        )
    ],
)

BASE_URL_OPTION = click.option(
    "--base-url",
    help="Public address for the printed links, e.g. https://khaosat.example.vn.",
)


def use_base_url(base_url: str | None) -> None:
    if base_url:
        current_app.config["BASE_URL"] = base_url.rstrip("/")


@click.command("run", params=flask.cli.run_command.params, help=flask.cli.run_command.help)
@click.pass_context
def _run_command(ctx: click.Context, **options: Any) -> None:
    """Flask's development server, recording where it serves so the commands run beside it
    (desks list, invitations, QR sheets) print links to this server."""
    app = ctx.ensure_object(flask.cli.ScriptInfo).load_app()
    try:
        links.record_served_url(
            Path(app.instance_path), options["host"], options["port"], https=bool(options["cert"])
        )
    except OSError as exc:  # a read-only instance folder must not stop the server
        click.echo(f"Not recording the served address: {exc}", err=True)
    ctx.invoke(flask.cli.run_command, **options)


main.add_command(_run_command)


def _register_analyze() -> None:
    from surveyapp.analysis.cli import analyze

    # On the group itself, not on app.cli: estimating needs no app and no database.
    main.add_command(analyze)


_register_analyze()


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


def fail(message: str) -> None:
    """One clear line on stderr and a non-zero exit."""
    raise click.ClickException(message)


FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True
)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema by running the migrations."""
    from flask_migrate import upgrade

    upgrade()
    click.echo(_("The database is at the latest schema."))


@click.command("demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing if the demo is already loaded.")
def demo_command(if_empty: bool) -> None:
    """Load the Đồng Nai demo: units, desks, SIPAS campaign with 2025 targets, responses."""
    if demo.is_loaded():
        if if_empty:
            click.echo(_("The Đồng Nai demo is already loaded."))
            return
        fail(_("The Đồng Nai demo is already loaded."))
    summary = demo.load()
    db.session.commit()
    click.echo(
        _(
            "Loaded the Đồng Nai demo: %(units)d units, %(desks)d desks, campaign %(id)d "
            "with %(n)d simulated responses.",
            units=summary.units,
            desks=summary.desks,
            id=summary.campaign_id,
            n=summary.responses,
        )
    )
    click.echo(_("Log in at /login with one of these demo accounts (change the passwords!):"))
    password_label = _("password")
    for username, role in summary.users:
        click.echo(f"  {username:<12} {role:<11} {password_label}: {demo.DEMO_PASSWORD}")


desks_cli = AppGroup("desks", help="One-stop desks (service points).")


@desks_cli.command("list")
@FORMAT
@BASE_URL_OPTION
def desks_list(fmt: str, base_url: str | None) -> None:
    """List desks with their QR URLs."""
    use_base_url(base_url)
    rows = [
        {
            "id": d.id,
            "name": d.name,
            "unit": d.unit.name,
            "token": d.token,
            "url": links.desk_url(d.token),
        }
        for d in db.session.scalars(select(ServicePoint).order_by(ServicePoint.id))
    ]
    emit(rows, fmt, ["id", "name", "unit", "token", "url"])


campaigns_cli = AppGroup("campaigns", help="Survey campaigns.")


@campaigns_cli.command("list")
@FORMAT
def campaigns_list(fmt: str) -> None:
    """List campaigns with their number of final responses."""
    emit(
        campaigns.summaries(),
        fmt,
        ["id", "name", "questionnaire", "status", "starts", "ends", "responses"],
    )


questionnaires_cli = AppGroup("questionnaires", help="Questionnaire definitions.")


@questionnaires_cli.command("load")
@click.argument("file", type=click.Path(dir_okay=False))
def questionnaires_load(file: str) -> None:
    """Load a questionnaire definition (TOML, see surveyapp/instruments/)."""
    try:
        qn = instruments.load_file(file)
    except instruments.InstrumentError as exc:
        db.session.rollback()
        fail(f"{file}: {exc}")
    db.session.commit()
    click.echo(
        _(
            "Loaded questionnaire %(label)s: %(q)d questions, %(n)d index nodes (id %(id)d).",
            label=qn.label,
            q=len(qn.questions),
            n=len(qn.index_nodes),
            id=qn.id,
        )
    )


targets_cli = AppGroup("targets", help="A campaign's targets per index node.")


def campaign_or_fail(campaign_id: int) -> Campaign:
    """The campaign, or one clear line and a non-zero exit (shared by every command)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        fail(_("No campaign with id %(id)d.", id=campaign_id))
    return campaign  # type: ignore[return-value]


@targets_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--campaign", "campaign_id", type=int, required=True)
def targets_import(file: str, campaign_id: int) -> None:
    """Import targets from CSV or XLSX (all rows or none)."""
    campaign = campaign_or_fail(campaign_id)
    try:
        changed = targets.import_targets_file(campaign, file)
    except ServiceError as exc:
        db.session.rollback()
        fail(_("%(file)s: nothing imported.", file=file) + "\n" + str(exc))
    db.session.commit()
    click.echo(_("Imported %(n)d targets into campaign %(id)d.", n=len(changed), id=campaign.id))


@targets_cli.command("list")
@click.option("--campaign", "campaign_id", type=int, required=True)
@FORMAT
def targets_list(campaign_id: int, fmt: str) -> None:
    """Show a campaign's targets."""
    campaign = campaign_or_fail(campaign_id)
    emit(
        campaigns.target_rows(campaign),
        fmt,
        ["code", "name", "previous_pct", "target_pct", "target_rank"],
    )


users_cli = AppGroup("users", help="User accounts.")


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--full-name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(username: str, role: str, full_name: str, password_stdin: bool) -> None:
    """Create a user; the password is prompted for (or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = users.create_user(username, Role(role), password, full_name)
    except ServiceError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    click.echo(_("Created %(role)s %(name)s.", role=user.role.value, name=user.username))


@users_cli.command("token")
@click.option("--username", required=True)
@click.option("--name", default="api", help="What the token is for.")
def users_token(username: str, name: str) -> None:
    """Create an API token for a user (printed once; only its hash is stored)."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        fail(_("No user %(name)s.", name=username))
    token = users.create_token(user, name)  # type: ignore[arg-type]
    db.session.commit()
    click.echo(token)


@click.command("backup")
@click.option("--output", type=click.Path(dir_okay=False), help="File (.jsonl or .jsonl.gz).")
@with_appcontext
def backup_command(output: str | None) -> None:
    """Write every table to a JSON-lines backup (stdout without --output)."""
    counts = backup.write(output, out=None if output else sys.stdout)
    if output:
        click.echo(
            _("Backup written to %(file)s: %(n)d rows.", file=output, n=sum(counts.values()))
        )


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@with_appcontext
def restore_command(file: str) -> None:
    """Load a backup into an empty database (run init-db first)."""
    try:
        counts = backup.restore(file)
    except ServiceError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    click.echo(_("Restored %(n)d rows from %(file)s.", n=sum(counts.values()), file=file))


margins_cli = AppGroup(
    "margins", help="Population margins the probability sample is calibrated to."
)


@margins_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option(
    "--source", default="", help="Where the totals come from (if the file has no source)."
)
def margins_import(file: str, campaign_id: int, source: str) -> None:
    """Replace a campaign's margins from CSV or XLSX (all rows or none)."""
    campaign = campaign_or_fail(campaign_id)
    try:
        added = margins.import_margins_file(campaign, file, source)
    except ServiceError as exc:
        db.session.rollback()
        fail(_("%(file)s: nothing imported.", file=file) + "\n" + str(exc))
    db.session.commit()
    click.echo(
        _(
            "Imported %(n)d population totals into campaign %(id)d.",
            n=len(added),
            id=campaign.id,
        )
    )


@margins_cli.command("show")
@click.option("--campaign", "campaign_id", type=int, required=True)
@FORMAT
def margins_show(campaign_id: int, fmt: str) -> None:
    """Show a campaign's margins: every category with its total and share, per variable."""
    campaign = campaign_or_fail(campaign_id)
    groups = margins.overview(campaign)
    if fmt == "json":
        emit(groups, fmt)
        return
    if not groups:
        click.echo(_("Campaign %(id)d has no population margins.", id=campaign.id))
        return
    rows = [
        {
            "variable": g["variable"],
            "category": r["category"],
            "label": r["label"],
            "population": f"{r['population']:.0f}",
            "share": f"{100 * r['share']:.2f}%" if r["share"] is not None else "",
        }
        for g in groups
        for r in [*g["rows"], {"category": "Σ", "label": "", "population": g["total"], "share": 1}]
    ]
    emit(rows, fmt, ["variable", "category", "label", "population", "share"])


@margins_cli.command("template")
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option("--output", type=click.Path(dir_okay=False), required=True)
def margins_template(campaign_id: int, output: str) -> None:
    """Write the XLSX template: every category of every variable, current totals filled in."""
    campaign = campaign_or_fail(campaign_id)
    with open(output, "wb") as fh:
        fh.write(margins.template(campaign))
    click.echo(_("Template written to %(file)s.", file=output))


def init_app(app: Flask) -> None:
    from surveyapp.dashboard.cli import report_command
    from surveyapp.entry import cli as entry_cli

    app.cli.add_command(report_command)
    entry_cli.init_app(app)
    for command in (
        init_db_command,
        demo_command,
        backup_command,
        restore_command,
        desks_cli,
        campaigns_cli,
        questionnaires_cli,
        targets_cli,
        margins_cli,
        users_cli,
    ):
        app.cli.add_command(command)
    __import__("surveyapp.public.cli", fromlist=["init_app"]).init_app(app)  # qr, invitations
