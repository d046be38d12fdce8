"""URL converters registered app-wide (before any blueprint adds its routes)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

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


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedInt
