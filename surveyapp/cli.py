"""The project's own commands (init-db, demo, desks, campaigns, users, backups …); the console
script's group lives in surveyapp.entry_point."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask.cli import AppGroup, with_appcontext
from flask_babel import gettext as _
from sqlalchemy import select, text

from surveyapp.cli_common import (
    BASE_URL_OPTION,
    FORMAT,
    TEXT,
    campaign_or_fail,
    emit,
    fail,
    use_base_url,
)
from surveyapp.extensions import db
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
    regions,
    targets,
    users,
)


@contextmanager
def schema_lock() -> Iterator[None]:
    """Hold the installation's schema lock: one ``init-db`` migrates at a time.

    Two ``init-db`` started together (two deploy hooks, two containers) would both create
    the same tables and the second would die with a raw IntegrityError. PostgreSQL: a
    session-level advisory lock keyed on the schema, held on its own connection while the
    migrations run on another. SQLite: an exclusive ``flock`` on a file beside the database.
    The second process waits, then finds the schema current and does nothing.
    """
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            key = conn.scalar(text("SELECT hashtext(current_schema() || ':surveyapp:init-db')"))
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    import fcntl

    with open(f"{database}.init-lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema by running the migrations."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask import current_app
    from flask_migrate import upgrade

    from surveyapp.extensions import db

    def revision() -> str | None:
        with db.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    with schema_lock():
        before = revision()
        upgrade()
        after = revision()
    if before == after:
        click.echo(_("The database was already at the latest schema (%(rev)s).", rev=after))
        return
    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    steps = len(list(script.iterate_revisions(after, before)))
    if before is None:
        click.echo(_("Created the database: %(n)d migrations, now at %(rev)s.", n=steps, rev=after))
    else:
        click.echo(
            _(
                "Upgraded the database from %(old)s to %(rev)s (%(n)d migrations).",
                old=before,
                rev=after,
                n=steps,
            )
        )


@click.command("demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing if the demo is already loaded.")
def demo_command(if_empty: bool) -> None:
    """Load the Đồng Nai demo: units before and after 1 July 2025 with their crosswalk,
    desks, two SIPAS campaigns (2024 on the old structure, this year's on the new) with the
    2025 targets, responses."""
    if demo.is_loaded():
        if if_empty:
            click.echo(_("The Đồng Nai demo is already loaded."))
            return
        fail(_("The Đồng Nai demo is already loaded."))
    summary = demo.load()
    db.session.commit()
    click.echo(
        _(
            "Loaded the Đồng Nai demo: %(units)d units, %(desks)d desks, campaigns %(old)d "
            "(2024, old structure) and %(id)d (this year, communes since 1 July 2025) with "
            "%(n)d simulated responses.",
            units=summary.units,
            desks=summary.desks,
            old=summary.campaign_id,
            id=summary.current_campaign_id,
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
@click.option("--username", type=TEXT, required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--full-name", type=TEXT, default="")
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
@click.option("--username", type=TEXT, required=True)
@click.option("--name", type=TEXT, default="api", help="What the token is for.")
def users_token(username: str, name: str) -> None:
    """Create an API token for a user (printed once; only its hash is stored)."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        fail(_("No user %(name)s.", name=username))
    token = users.create_token(user, name)
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
    "--source",
    type=TEXT,
    default="",
    help="Where the totals come from (if the file has no source).",
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
@click.option(
    "--level",
    default=None,
    help="Geographic level of the template: commune, region, or district for a campaign on "
    "the historical structure (default: that of the current margins, else the breakdown's).",
)
def margins_template(campaign_id: int, output: str, level: str | None) -> None:
    """Write the XLSX template: every category of every variable, current totals filled in."""
    campaign = campaign_or_fail(campaign_id)
    allowed = margins.geographic_levels(campaign)
    if level is not None and level not in allowed:
        raise click.BadParameter(", ".join(allowed), param_hint="--level")
    with open(output, "wb") as fh:
        fh.write(margins.template(campaign, level))
    click.echo(_("Template written to %(file)s.", file=output))


regions_cli = AppGroup(
    "regions",
    help="Regions: named groups of communes, to break results down by and calibrate to.",
)


@regions_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
def regions_import(file: str) -> None:
    """Replace every region from CSV or XLSX (commune_code, region; all rows or none)."""
    try:
        added = regions.import_regions_file(file)
    except ServiceError as exc:
        db.session.rollback()
        fail(_("%(file)s: nothing imported.", file=file) + "\n" + str(exc))
    db.session.commit()
    click.echo(_("Placed %(n)d communes in regions.", n=len(added)))


@regions_cli.command("show")
@FORMAT
def regions_show(fmt: str) -> None:
    """Show every region and its communes."""
    rows = [
        {"region": g["region"], "commune_code": u["code"], "commune": u["name"]}
        for g in regions.overview()
        for u in g["units"]
    ]
    emit(rows, fmt, ["region", "commune_code", "commune"])


@regions_cli.command("clear")
def regions_clear() -> None:
    """Remove every region."""
    removed = regions.clear()
    db.session.commit()
    click.echo(_("Removed the regions of %(n)d communes.", n=removed))


# Every command module lists its commands in COMMANDS; the app factory registers them all the
# same way (surveyapp.register_cli), so no command module imports another.
COMMANDS = (
    init_db_command,
    demo_command,
    backup_command,
    restore_command,
    desks_cli,
    campaigns_cli,
    questionnaires_cli,
    targets_cli,
    margins_cli,
    regions_cli,
    users_cli,
)
