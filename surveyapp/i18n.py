"""Language selection: Vietnamese unless the visitor chose English.

The choice is a cookie set by ``/lang/<code>``; we deliberately ignore the browser's
Accept-Language, because officials' and kiosk browsers are often set to English while the
people in front of them read Vietnamese.
"""

from __future__ import annotations

from functools import cache

from babel import Locale
from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale
from flask_babel import gettext as _

from surveyapp import formatting
from surveyapp.extensions import babel
from surveyapp.models.questionnaires import Question, text_in

LANG_COOKIE = "lang"


def select_locale() -> str:
    if not has_request_context():  # command line: the installation's language
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    # Kept on the request: a report page formats thousands of numbers, each asking.
    known: str | None = request.environ.get(_CHOSEN)
    if known is not None:
        return known
    languages = current_app.config["LANGUAGES"]
    default: str = current_app.config["BABEL_DEFAULT_LOCALE"]
    choice = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    chosen = choice if choice is not None and choice in languages else default
    request.environ[_CHOSEN] = chosen
    return chosen


_CHOSEN = "surveyapp.lang"


@cache
def _parsed(code: str) -> Locale:
    """A language's Babel locale, parsed once per process: ``Locale.parse`` looks for the
    locale's data file on disk each time, on every request that translates anything."""
    return Locale.parse(code)


def _babel_locale() -> Locale:
    return _parsed(select_locale())


def current_language() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=_babel_locale,
        default_translation_directories=str(app.root_path + "/translations"),
    )

    # Numbers and dates: one rule for every page (surveyapp.formatting).
    formatting.init_app(app)

    @app.template_filter("t")
    def translate_texts(texts: dict[str, str] | None) -> str:
        """Pick the current language out of a stored ``{"vi": ..., "en": ...}`` text."""
        return text_in(texts, current_language())

    @app.template_filter("item_number")
    def item_number(question: Question) -> str:
        """The number a rating item carries on the paper form (q5 → "5"), "" for others."""
        code = question.code
        return code[1:] if code[:1] == "q" and code[1:].isdigit() else ""

    @app.template_filter("short_label")
    def short_label(question: Question) -> str:
        """How a keyer finds a question on the paper form: "Câu 5" for a numbered rating
        item, the question's own short text (Giới tính, Độ tuổi …) for the others. The
        variable code (age_group) is for analysts and never shown to keyers."""
        number = item_number(question)
        if number:
            return _("Item %(n)s", n=number)
        return text_in(question.text, current_language())

    @app.template_filter("channel")
    def channel_name(code: str) -> str:
        """A channel's name in the current language (codes that are no channel pass through,
        e.g. a breakdown label)."""
        names = {
            "paper": _("Paper form"),
            "web_invite": _("Web invitation"),
            "qr": _("QR code"),
            "kiosk": _("Counter tablet"),
        }
        return names.get(code, code)

    @app.context_processor
    def language_context() -> dict[str, object]:
        return {"current_language": current_language(), "languages": app.config["LANGUAGES"]}
