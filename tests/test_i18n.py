"""Every user-visible string is translatable and translated; Vietnamese is the default."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "surveyapp" / "translations"
INSTRUMENTS = ROOT / "surveyapp" / "instruments"


def _extract(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            ".",
        ],
        check=True,
        cwd=ROOT,
    )
    with pot.open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}


def test_every_message_has_a_vietnamese_translation(tmp_path: Path) -> None:
    extracted = _extract(tmp_path)
    assert "Log in" in extracted and len(extracted) > 100  # the extraction itself worked
    with (TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (m.string if isinstance(m.string, str) else all(m.string)) and not m.fuzzy
    }
    missing = sorted(extracted - translated)
    assert not missing, f"{len(missing)} strings lack a Vietnamese translation: {missing[:10]}"


def test_compiled_catalogue_is_built_by_install() -> None:
    assert (TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.mo").exists()


def test_pages_default_to_vietnamese_and_switch_to_english(client, campaign) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'lang="vi"' in page
    assert "Đăng nhập" in page
    response = client.get("/lang/en?next=/login")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in page and "Log in" in page
    client.get("/lang/vi")
    assert "Đăng nhập" in client.get("/login").get_data(as_text=True)


def test_language_switch_refuses_foreign_redirects(client) -> None:
    response = client.get("/lang/en?next=//evil.example/")
    assert response.headers["Location"] == "/"


def test_one_style_of_address_ong_ba() -> None:
    """The citizen is "ông/bà" inside a sentence and "Ông/Bà" only where a sentence starts,
    on every page and in the questionnaires (the home page wrote "của Ông/Bà")."""
    with (TRANSLATIONS / "vi/LC_MESSAGES/messages.po").open("rb") as fh:
        texts = [m.string for m in read_po(fh, locale="vi") if isinstance(m.string, str)]
    texts += [p.read_text(encoding="utf-8") for p in INSTRUMENTS.glob("*.toml")]
    mid_sentence = re.compile(r"[^.!?:\"\n]\s+Ông/Bà")
    assert [m.group(0) for t in texts for m in mid_sentence.finditer(t)] == []
