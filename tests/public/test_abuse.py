"""Abuse without friction: rate limits per address and per desk, a honeypot, flags for
bursts and straight-lining, and no raw address stored anywhere with a response."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, select, text

from surveyapp.config import from_environment
from surveyapp.extensions import db
from surveyapp.models import Response
from surveyapp.services.abuse import SlidingCounter


def _post(client, url: str, fresh_nonce, address: str = "198.51.100.20", **answers: str):  # type: ignore[no-untyped-def]
    data = {"nonce": fresh_nonce(url), **answers}
    return client.post(url, data=data, environ_base={"REMOTE_ADDR": address})


def test_honeypot_looks_like_success_and_stores_nothing(
    client, desk, fresh_nonce, responses
) -> None:
    response = _post(client, f"/s/{desk.token}", fresh_nonce, q1="5", website="http://spam")
    assert response.status_code == 303 and response.headers["Location"].endswith("/thanks")
    assert responses() == []


def test_honeypot_is_hidden_from_people_and_screen_readers(client, desk) -> None:
    html = client.get(f"/s/{desk.token}").get_data(as_text=True)
    assert '<div class="hp">' in html and 'name="website"' in html and 'tabindex="-1"' in html
    css = (Path(client.application.static_folder) / "css" / "survey.css").read_text()
    assert ".hp { display: none; }" in css


def test_straight_lining_is_flagged(client, desk, fresh_nonce, responses) -> None:
    url = f"/s/{desk.token}"
    _post(client, url, fresh_nonce, "192.0.2.1", **{f"q{i}": "5" for i in range(1, 34)})
    _post(client, url, fresh_nonce, "192.0.2.2", **{f"q{i}": "5" for i in range(1, 6)})  # few
    _post(client, url, fresh_nonce, "192.0.2.3", **{f"q{i}": str(4 + i % 2) for i in range(1, 34)})
    assert [r.flags for r in responses()] == [["straight_line"], [], []]


def test_bursts_per_desk_and_per_client_are_flagged(
    app, client, desk, fresh_nonce, responses
) -> None:
    app.config.update(BURST_DESK_COUNT=4, BURST_CLIENT_COUNT=3)
    url = f"/s/{desk.token}"
    _post(client, url, fresh_nonce, address="192.0.2.1", q1="4")
    _post(client, url, fresh_nonce, address="192.0.2.2", q1="4")
    _post(client, url, fresh_nonce, address="192.0.2.2", q1="4")
    _post(client, url, fresh_nonce, address="192.0.2.2", q1="4")
    assert [r.flags for r in responses()] == [[], [], [], ["burst", "burst_client"]]


def test_kiosk_ratings_are_not_flagged_for_sharing_one_tablet(
    app, client, desk, fresh_nonce, responses
) -> None:
    app.config.update(BURST_CLIENT_COUNT=2)
    for _ in range(3):
        _post(client, f"/k/{desk.token}", fresh_nonce, q1="4")
    assert [r.flags for r in responses()] == [[], [], []]


def test_sliding_counter_forgets_old_events() -> None:
    counter = SlidingCounter()
    assert [counter.hit("k", 60, now=t) for t in (0, 10, 20)] == [1, 2, 3]
    assert counter.hit("k", 60, now=75) == 2  # the events at 0 and 10 have left the window


def test_no_raw_address_is_stored(client, desk, fresh_nonce, responses) -> None:
    address = "203.0.113.77"
    _post(client, f"/s/{desk.token}", fresh_nonce, address=address, q1="4", comment="ok")
    [stored] = responses()
    columns = {c["name"] for c in inspect(db.engine).get_columns("responses")}
    assert not {"ip", "ip_address", "remote_addr", "address"} & columns
    with db.engine.connect() as conn:
        for table in ("responses", "answers"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                assert address not in " ".join(str(v) for v in row)
    assert stored.flags == []


def test_limits_and_storage_are_configuration() -> None:
    settings = from_environment(
        {
            "SURVEYAPP_RATELIMIT_STORAGE": "redis://127.0.0.1:6379/0",
            "SURVEYAPP_RATELIMIT_ENABLED": "false",
            "SURVEYAPP_SUBMIT_RATE_LIMIT_DESK": "100 per minute",
        }
    )
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert settings["RATELIMIT_ENABLED"] is False
    assert settings["SUBMIT_RATE_LIMIT_DESK"] == "100 per minute"


def test_flags_column_is_what_the_dashboard_reads(client, desk, fresh_nonce) -> None:
    _post(client, f"/s/{desk.token}", fresh_nonce, **{f"q{i}": "1" for i in range(1, 34)})
    # flags is a JSON list (no JSON equality operator on PostgreSQL): read, then filter.
    flagged = [r for r in db.session.scalars(select(Response)) if r.flags]
    assert [r.flags for r in flagged] == [["straight_line"]]
