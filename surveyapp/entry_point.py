"""The ``surveyapp`` console script.

``surveyapp analyze`` is the hot path of batch analysis (a million rows in a couple of
seconds), so it runs the pure analysis command directly instead of importing the web
application first; every other command goes through the Flask CLI group.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from flask.cli import FlaskGroup

if TYPE_CHECKING:
    from flask import Flask


def _create_app() -> Flask:
    from surveyapp import create_app

    return create_app()


group = FlaskGroup(
    create_app=_create_app,
    load_dotenv=False,
    help="surveyapp: SIPAS survey collection and satisfaction measurement.",
)


def _register_analyze() -> None:
    from surveyapp.analysis.cli import analyze

    # On the group itself, not on app.cli: estimating needs no app and no database.
    group.add_command(analyze)


_register_analyze()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "analyze":
        from surveyapp.analysis.cli import analyze

        analyze(args=sys.argv[2:], prog_name="surveyapp analyze")
        return
    group()


if __name__ == "__main__":
    main()
