"""Resolve a merge conflict in the catalogues: union the translations of both sides.

Usage (during a conflicted merge): python tools/merge_po.py
Then `make translations` and compile.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]


def side(stage: int, path: str) -> dict[str, str]:
    data = subprocess.run(
        ["git", "show", f":{stage}:{path}"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    return {m.id: m.string for m in read_po(io.BytesIO(data)) if m.id and m.string}


def main() -> None:
    for lang in ("vi", "en"):
        path = f"surveyapp/translations/{lang}/LC_MESSAGES/messages.po"
        table = side(2, path)
        table.update({k: v for k, v in side(3, path).items() if k not in table})
        base = subprocess.run(
            ["git", "show", f":3:{path}"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        catalog = read_po(io.BytesIO(base), locale=lang)
        for msgid, msgstr in table.items():
            if msgid in catalog:
                catalog[msgid].string = msgstr
            else:
                catalog.add(msgid, msgstr)
        with (ROOT / path).open("wb") as fh:
            write_po(fh, catalog, width=100)
        print(lang, len(table))


if __name__ == "__main__":
    main()
