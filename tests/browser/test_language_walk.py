"""Every page of every role, walked in Chromium: in Vietnamese no English interface word and no
raw code shows; in English no Vietnamese interface phrase does.

The vocabularies come from the catalogues themselves: English words are the msgids' words
that no Vietnamese translation uses; Vietnamese phrases are the translations of two words or
more. What a page shows inside <code>, <pre> and <textarea> (syntax a person types, raw
records asked for) and inside closed <details> is not read, as a person would not see it.
"""

from __future__ import annotations

import json
import re
from collections import deque
from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Campaign, OfficialResult, ServicePoint, Unit, UnitCrosswalk, User
from surveyapp.models.units import KINDS
from surveyapp.services import demo

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "surveyapp" / "translations"

# Proper nouns, acronyms and names that read the same in both languages: product and
# format names, keys, the demo's usernames (data, shown as typed), and the language switch.
ALLOWED_ENGLISH = {
    "sipas",
    "psu",
    "api",
    "qr",
    "excel",
    "json",
    "csv",
    "xlsx",
    "pdf",
    "html",
    "toml",
    "enter",
    "backspace",
    "surveyapp",
    "english",
    "admin",
    "analyst",
    "supervisor",
    "enumerator",
    "deff",
    "seed",
    "openapi",
}
# Raw internals that must never reach a Vietnamese reader, wherever they stand.
RAW_CODES = re.compile(
    r"\b(overall|province|district|commune|village|srs|pps|null|None|True|False|"
    r"[a-z]+_[a-z_]+)\b"
)
# Codes meant for analysts: the questionnaire's variable names in the analyst tables.
ALLOWED_CODES = {"sex_age", "age_group"}
# The margins page tells the admin the values a margins file takes (its syntax).
ALLOWED_ON_PAGE = {
    "/admin/campaigns/N/margins": {"district", "commune", "region", "area"},
    "/admin/regions": {"commune_code", "region"},
    "/admin/campaigns/N/covariates": {"on_time_rate", "online_share", "urban_share"},
    "/admin/units/crosswalk": {"old_code", "new_code", "old_name", "new_name"},
    "/admin/units": {
        "province", "district", "commune", "village", "parent_code", "valid_from", "valid_to",
    },
    "/admin/official": {
        "max_score", "node_name", "own_survey", "province_code", "province_name", "rank_of",
    },
}  # fmt: skip
SKIP = re.compile(
    r"/logout|/lang/|/static/|/api/|\.(xlsx|json|csv|pdf|png|svg|html)$|/qr\.|/print$"
)
START = {
    "admin": "/admin/",
    "analyst": "/dashboard/",
    "supervisor": "/entry/",
    "enumerator1": "/entry/",
}


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-zÀ-ỹ]+", text)}


def _catalogue(lang: str) -> list[tuple[str, str]]:
    with (CATALOGUES / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    pairs = []
    for m in catalog:
        if not m.id:
            continue
        msgid = m.id[0] if isinstance(m.id, tuple) else m.id
        string = m.string[0] if isinstance(m.string, tuple) else m.string
        pairs.append((msgid, string or ""))
    return pairs


def english_vocabulary() -> set[str]:
    pairs = _catalogue("vi")

    def plain(text: str) -> set[str]:  # placeholders such as %(campaign)d are not words
        return _words(re.sub(r"%\(\w+\)\w", " ", text))

    ids = set().union(*(plain(i) for i, _ in pairs))
    vietnamese = set().union(*(plain(s) for _, s in pairs))
    return {w for w in ids if len(w) >= 3 and w.isascii()} - vietnamese - ALLOWED_ENGLISH


def vietnamese_phrases() -> set[str]:
    phrases = set()
    for _, string in _catalogue("vi"):
        for part in re.split(r"[%():;,.!?…\"“”]|\(\w+\)\w", string):
            part = part.strip()
            # Vietnamese words, not a formula such as "1 − p" (a non-ASCII minus sign).
            if len(part.split()) >= 2 and re.search(r"[À-ỹĐđ]", part):
                phrases.add(part)
    return phrases


def _visible_text(page) -> str:  # type: ignore[no-untyped-def]
    return page.evaluate(
        """() => {
             const body = document.body.cloneNode(true);
             const hidden = 'code, pre, textarea, script, details:not([open]) > :not(summary)';
             body.querySelectorAll(hidden).forEach(e => e.remove());
             document.documentElement.appendChild(body);
             body.style.position = 'absolute';
             const text = body.innerText;
             body.remove();
             return text;
           }"""
    )


def _walk(page, live_server: str, start: str, limit: int = 40) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Same-site pages reachable from ``start`` by links, one per URL shape (ids folded)."""
    seen_shapes: set[str] = set()
    queue, texts = deque([start]), {}
    while queue and len(texts) < limit:
        path = queue.popleft()
        shape = re.sub(r"\d+", "N", path.split("?")[0])
        if shape in seen_shapes or SKIP.search(path.split("?")[0]):
            continue
        seen_shapes.add(shape)
        response = page.goto(live_server + path)
        assert response is not None and response.status < 500, path
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        texts[path] = _visible_text(page)
        for href in page.eval_on_selector_all(
            "a[href]", "els => els.map(e => e.getAttribute('href'))"
        ):
            if href.startswith("/") and not href.startswith("//"):
                queue.append(href.split("#")[0])
    return texts


def _login(page, live_server: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.context.clear_cookies()
    page.goto(live_server + "/login")
    page.fill("#username", username)
    page.fill("#password", demo.DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def _all_pages(page, live_server: str, lang: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    texts: dict[str, str] = {}
    page.context.clear_cookies()
    page.goto(f"{live_server}/lang/{lang}")
    texts.update({f"anonymous {p}": t for p, t in _walk(page, live_server, "/").items()})
    for user, start in START.items():
        _login(page, live_server, user)
        page.goto(f"{live_server}/lang/{lang}")
        texts.update({f"{user} {p}": t for p, t in _walk(page, live_server, start).items()})
    return texts


def test_vietnamese_pages_show_no_english_words_or_raw_codes(
    live_server: str, page, demo_data
) -> None:
    vocabulary = english_vocabulary()
    assert {"reconcile", "keystrokes", "campaign", "households"} <= vocabulary
    page.set_viewport_size({"width": 1280, "height": 900})
    texts = _all_pages(page, live_server, "vi")
    assert len(texts) >= 25, sorted(texts)
    leaks = {}
    for where, text in texts.items():
        english = sorted(_words(text) & vocabulary)
        shape = re.sub(r"\d+", "N", where.split(" ", 1)[1])
        allowed = ALLOWED_CODES | ALLOWED_ON_PAGE.get(shape, set())
        codes = sorted({m.group(0) for m in RAW_CODES.finditer(text)} - allowed)
        if english or codes:
            leaks[where] = english + codes
    assert not leaks, json.dumps(leaks, ensure_ascii=False, indent=1)


def test_english_pages_show_no_vietnamese_interface_phrases(
    live_server: str, page, demo_data
) -> None:
    # Names are data, written in Vietnamese whatever the interface language.
    names = [
        *db.session.scalars(select(Campaign.name)),
        *db.session.scalars(select(Unit.name)),
        *db.session.scalars(select(ServicePoint.name)),
        *db.session.scalars(select(User.full_name)),
        demo.MARGINS_SOURCE,  # the margins' source, as the admin typed it
        # the published results' node names and sources, as the plans print them
        *db.session.scalars(select(OfficialResult.node_name)),
        *db.session.scalars(select(OfficialResult.source)),
        # a unit's kind (xã, phường, đặc khu …) is the legal term a units file holds, and a
        # crosswalk row's source is what the admin imported
        *(kind for kinds in KINDS.values() for kind in kinds),
        *db.session.scalars(select(UnitCrosswalk.source)),
    ]
    phrases = {p for p in vietnamese_phrases() if not any(p in name for name in names)}
    assert "Đăng xuất" in phrases
    page.set_viewport_size({"width": 1280, "height": 900})
    texts = _all_pages(page, live_server, "en")
    assert len(texts) >= 25, sorted(texts)
    leaks = {where: sorted(p for p in phrases if p in text) for where, text in texts.items()}
    leaks = {where: found for where, found in leaks.items() if found}
    assert not leaks, json.dumps(leaks, ensure_ascii=False, indent=1)
