"""URL builders are compiled once per process and shared by every app (start-up speed);
the URLs they build are the ones werkzeug's own rules build."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.routing import AnyConverter, Map, Rule

from surveyapp import create_app
from surveyapp.routing import SharedBuilderRule


def test_shared_builders_build_what_werkzeug_builds(app: Flask, tmp_path: Path) -> None:
    other = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/b.db"})
    plain = Map(converters=dict(app.url_map.converters))
    for rule in app.url_map.iter_rules():
        plain.add(Rule(rule.rule, endpoint=rule.endpoint, defaults=rule.defaults))
    maps = [m.bind("khaosat.example.vn") for m in (app.url_map, other.url_map, plain)]
    rules = list(app.url_map.iter_rules())
    # Flask adds its static route before the converters and rule class are set.
    ours = [r for r in rules if r.endpoint != "static"]
    assert len(ours) >= 50 and all(isinstance(r, SharedBuilderRule) for r in ours)
    for rule in rules:
        # 7 fits an int or a text part; an <any(...)> part takes its first choice; "extra"
        # is appended as a query string.
        values: dict[str, object] = {"extra": "ă b"}
        for name, converter in rule._converters.items():  # as tests/test_big_ids.py reads them
            values[name] = sorted(converter.items)[0] if isinstance(converter, AnyConverter) else 7
        for append_unknown in (True, False):
            built = {a.build(rule.endpoint, values, append_unknown=append_unknown) for a in maps}
            assert len(built) == 1, (rule.rule, built)
    assert "?extra=%C4%83+b" in maps[0].build("public.index", {"extra": "ă b"})


def test_a_default_inside_the_path_is_not_shared() -> None:
    """Such a default is written into the builder's text, so each rule keeps its own."""
    first = Map([SharedBuilderRule("/page/<int:n>", endpoint="a", defaults={"n": 1})])
    second = Map([SharedBuilderRule("/page/<int:n>", endpoint="a", defaults={"n": 2})])
    assert first.bind("h").build("a", {"n": 1}) == "/page/1"
    assert second.bind("h").build("a", {"n": 2}) == "/page/2"
