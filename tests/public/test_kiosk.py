"""Kiosk ``/k/<desk-token>``: fresh start after submit and after idle, nothing carried over."""

from __future__ import annotations

import re

from surveyapp.models import Channel


def test_kiosk_form_carries_nothing_between_people(client, desk) -> None:
    response = client.get(f"/k/{desk.token}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    html = response.get_data(as_text=True)
    assert 'autocomplete="off"' in html
    assert 'data-idle-seconds="90"' in html
    assert f'data-restart-url="/k/{desk.token}"' in html
    assert "checked" not in html
    assert "/login" not in html  # no way from the counter tablet into the staff pages


def test_kiosk_submit_returns_to_a_fresh_start(client, desk, fresh_nonce, responses) -> None:
    url = f"/k/{desk.token}"
    nonce = fresh_nonce(url)
    response = client.post(url, data={"nonce": nonce, "q1": "5", "q2": "3", "sex": "1"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/k/{desk.token}/thanks")
    assert "Set-Cookie" not in response.headers
    thanks = client.get(response.headers["Location"])
    html = thanks.get_data(as_text=True)
    assert "Cảm ơn" in html
    assert f'http-equiv="refresh" content="8;url=/k/{desk.token}"' in html
    assert thanks.headers["Cache-Control"] == "no-store"
    [stored] = responses()
    assert stored.channel == Channel.KIOSK and stored.service_point_id == desk.id
    # The next person gets an empty form with a new nonce.
    again = client.get(url).get_data(as_text=True)
    assert "checked" not in again and nonce not in again


def test_idle_seconds_come_from_config(app, client, desk, monkeypatch) -> None:
    from surveyapp import config

    monkeypatch.setenv("SURVEYAPP_KIOSK_IDLE_SECONDS", "30")
    app.config.update(config.from_environment())
    assert 'data-idle-seconds="30"' in client.get(f"/k/{desk.token}").get_data(as_text=True)


def test_kiosk_language_lives_in_the_url_not_a_cookie(client, desk, fresh_nonce) -> None:
    response = client.get(f"/k/{desk.token}?lang=en")
    html = response.get_data(as_text=True)
    assert 'lang="en"' in html and "Set-Cookie" not in response.headers
    assert f'action="/k/{desk.token}?lang=en"' in html
    nonce = re.search(r'name="nonce" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    done = client.post(f"/k/{desk.token}?lang=en", data={"nonce": nonce, "q1": "4"})
    assert done.headers["Location"].endswith(f"/k/{desk.token}/thanks?lang=en")
    # The next person starts in Vietnamese.
    assert 'lang="vi"' in client.get(f"/k/{desk.token}").get_data(as_text=True)
