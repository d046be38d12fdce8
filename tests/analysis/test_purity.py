"""surveyapp.analysis never imports Flask, WTForms or SQLAlchemy."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import surveyapp.analysis as pkg


def test_no_web_or_database_imports() -> None:
    mods = ["surveyapp.analysis"] + [
        f"surveyapp.analysis.{m.name}"
        for m in pkgutil.iter_modules(pkg.__path__)
        if m.name != "__main__"
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}: importlib.import_module(m)\n"
        "bad = [m for m in ('flask', 'wtforms', 'sqlalchemy', 'flask_wtf', 'flask_sqlalchemy')"
        " if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", out.stdout
    assert len(mods) >= 8
