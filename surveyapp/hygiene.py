"""Control characters out of every text input: one filter for forms, imports, CLI and URLs.

A NUL byte cannot be stored in a PostgreSQL text column (the insert fails, a 500), SQLite
stores it, and a backup taken from SQLite then cannot be restored into PostgreSQL. Other
control characters are invisible, break CSV and XLSX files and can hide text. So every text
that enters the product passes through :func:`clean_text`:

* the HTTP layer: every query-string and form value (``surveyapp.security`` installs a
  request class whose parameter dictionaries clean on parse), and every ``<string>`` URL part
  (a control character there makes the URL match no page: 404);
* Flask-WTF forms (``surveyapp.forms.base.Form``): single-line fields also turn tab, CR and
  LF into a space, multi-line ones (text areas) keep them;
* CSV/XLSX imports (``surveyapp.services.tables``) and the CLI's text options
  (:data:`surveyapp.cli.TEXT`).

The characters are removed, not refused: nobody types them, so what a person meant is the
text around them, and a citizen cannot be asked to delete what they cannot see. Pure
standard library, so any layer may import it.
"""

from __future__ import annotations

import re

# C0 controls except tab, LF and CR; DEL; C1 controls. Lone surrogates (which no UTF-8 text
# holds, but ``errors="surrogateescape"`` can make) are removed as well.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\t\n\r]")


def clean_text(value: str, multiline: bool = True) -> str:
    """``value`` without control characters; a single line also without tab, CR and LF
    (each becomes a space)."""
    value = _CONTROL.sub("", value)
    if not multiline:
        value = _LINE_BREAKS.sub(" ", value)
    return value


def has_control(value: str, multiline: bool = True) -> bool:
    """True when :func:`clean_text` would change ``value``."""
    return clean_text(value, multiline) != value
