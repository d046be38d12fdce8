"""The ``surveyapp`` console script.

``surveyapp analyze`` is the hot path of batch analysis (a million rows in a couple of
seconds), so it runs the pure analysis command directly instead of importing the web
application first; every other command goes through the Flask CLI group.
"""

from __future__ import annotations

import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "analyze":
        from surveyapp.analysis.cli import analyze

        analyze(args=sys.argv[2:], prog_name="surveyapp analyze")
        return
    from surveyapp.cli import main as flask_main

    flask_main()


if __name__ == "__main__":
    main()
