"""The ``surveyapp`` console script.

``surveyapp analyze`` is the hot path of batch analysis (a million rows in a couple of
seconds), so it runs the pure analysis command directly instead of importing the web
application first; every other command goes through the Flask CLI group.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import flask.cli
from flask.cli import FlaskGroup

if TYPE_CHECKING:
    from flask import Flask


def _create_app() -> Flask:
    from surveyapp import create_app

    return create_app()


def _base_url_for_all(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    # Before the app exists: the environment is the settings' way in for every command.
    if value:
        os.environ["SURVEYAPP_BASE_URL"] = value


group = FlaskGroup(
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


@click.command("run", params=flask.cli.run_command.params, help=flask.cli.run_command.help)
@click.pass_context
def _run_command(ctx: click.Context, **options: Any) -> None:
    """Flask's development server, recording where it serves so the commands run beside it
    (desks list, invitations, QR sheets) print links to this server."""
    from surveyapp.services import links

    app = ctx.ensure_object(flask.cli.ScriptInfo).load_app()
    try:
        links.record_served_url(
            Path(app.instance_path), options["host"], options["port"], https=bool(options["cert"])
        )
    except OSError as exc:  # a read-only instance folder must not stop the server
        click.echo(f"Not recording the served address: {exc}", err=True)
    ctx.invoke(flask.cli.run_command, **options)


group.add_command(_run_command)


def _register_analyze() -> None:
    from surveyapp.analysis.cli import analyze
    from surveyapp.analysis.sae_cli import sae

    # On the group itself, not on app.cli: estimating needs no app and no database.
    group.add_command(analyze)
    group.add_command(sae)


_register_analyze()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "analyze":
        from surveyapp.analysis.cli import analyze

        analyze(args=sys.argv[2:], prog_name="surveyapp analyze")
        return
    group()


if __name__ == "__main__":
    main()
