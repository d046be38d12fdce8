"""URL converters registered app-wide (before any blueprint adds its routes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map, Rule, UnicodeConverter, ValidationError

from surveyapp.hygiene import has_control

# Every id column is an INTEGER (PostgreSQL: 32-bit signed). A larger number in a URL names no
# row; passed on, SQLite raises OverflowError past 64 bits and PostgreSQL a DataError, so
# the converter stops it at the URL: the rule does not match and the answer is 404.
ID_MAX = 2**31 - 1


class BoundedInt(IntegerConverter):
    """``<int:...>`` limited to what an id column can hold (non-negative, at most ID_MAX)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", ID_MAX)
        if kwargs["max"] is None or kwargs["max"] > ID_MAX:
            kwargs["max"] = ID_MAX
        super().__init__(map, *args, **kwargs)


class CleanString(UnicodeConverter):
    """``<token>`` / ``<string:...>`` without control characters: ``/s/%00`` names no desk,
    and passing the NUL on would fail the PostgreSQL query (a 500) instead of a 404."""

    def to_python(self, value: str) -> str:
        if has_control(value, multiline=False):
            raise ValidationError()
        return value


# Builder functions by rule shape: see ``SharedBuilderRule``.
_BUILDERS: dict[tuple[Any, ...], Callable[..., tuple[str, str]]] = {}


class SharedBuilderRule(Rule):
    """A rule whose URL builder is compiled once per process, not once per app.

    werkzeug turns every rule into a small Python function (AST built, then ``compile()``d)
    for ``url_for``; that is ~90 % of ``create_app``'s time (~0.1 s for this app's rules), paid
    again by every app a process makes (the test suite makes one per test). The function
    depends only on the rule's parsed parts (``_trace``), the names of its defaults and
    ``append_unknown``: it reads the converters through the rule it is bound to at call time,
    so rules of the same shape in different apps share it. A default that fills a part of
    the path is converted into the function's text by that rule's converter: such rules
    compile their own, as before.
    """

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        defaults = self.defaults or {}
        if any(dynamic and name in defaults for dynamic, name in self._trace):
            return super()._compile_builder(append_unknown)
        key = (self.rule, tuple(self._trace), tuple(map(str, defaults)), append_unknown)
        builder = _BUILDERS.get(key)
        if builder is None:
            builder = _BUILDERS[key] = super()._compile_builder(append_unknown)
        return builder


def init_app(app: Flask) -> None:
    app.url_rule_class = SharedBuilderRule
    app.url_map.converters["int"] = BoundedInt
    app.url_map.converters["default"] = CleanString
    app.url_map.converters["string"] = CleanString
