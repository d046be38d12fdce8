"""Fill a .po catalogue's empty Vietnamese strings from a {msgid: msgstr} module.

Usage: python tools/fill_po.py tools/vi_foundation.py [more.py ...]
Then `pybabel compile -d surveyapp/translations`.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parents[1] / "surveyapp/translations/vi/LC_MESSAGES/messages.po"


def main(paths: list[str]) -> None:
    table: dict[str, str] = {}
    for path in paths:
        table.update(runpy.run_path(path)["VI"])
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    filled = 0
    for message in catalog:
        if isinstance(message.id, tuple):
            # A plural (ngettext): Vietnamese has one form, keyed by the singular msgid.
            if not any(message.string) and message.id[0] in table:
                message.string = (table[message.id[0]],)
                filled += 1
            continue
        if message.id and not message.string and message.id in table:
            message.string = table[message.id]
            filled += 1
    with PO.open("wb") as fh:
        write_po(fh, catalog, width=100)
    missing = [m.id for m in catalog if m.id and not any(m.string)]
    print(f"filled {filled}; still missing {len(missing)}")
    for msgid in missing:
        print("  ", repr(msgid))


if __name__ == "__main__":
    main(sys.argv[1:])
