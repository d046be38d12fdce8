"""Issue 12, defect 14: a double tap on an invitation form shows the thanks page, a mistyped
code at /i keeps what was typed and says what is wrong, and English stays English."""

from __future__ import annotations

import csv
import io
import re

from support import nonce_of


def _code(runner, campaign) -> str:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        args=["invitations", "create", "--campaign", str(campaign.id), "--count", "1"]
    )
    assert result.exit_code == 0, result.output
    return next(csv.DictReader(io.StringIO(result.output)))["code"]


def _action(html: str) -> str:
    match = re.search(r'<form method="post" action="([^"]+)"', html)
    assert match
    return match.group(1).replace("&amp;", "&")


def test_a_double_tap_with_the_same_nonce_shows_the_thanks_page(
    client, runner, campaign, responses
) -> None:
    url = f"/i/{_code(runner, campaign)}"
    page = client.get(url).get_data(as_text=True)
    nonce, action = nonce_of(page), _action(page)
    first = client.post(action, data={"nonce": nonce, "q1": "4"})
    again = client.post(action, data={"nonce": nonce, "q1": "4"})
    assert first.status_code == 303
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    assert "Cảm ơn" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert len(responses()) == 1


def test_another_form_for_a_used_code_still_says_used(client, runner, campaign, responses) -> None:
    url = f"/i/{_code(runner, campaign)}"
    first, second = (nonce_of(client.get(url).get_data(as_text=True)) for _ in range(2))
    assert client.post(url, data={"nonce": first, "q1": "4"}).status_code == 303
    late = client.post(url, data={"nonce": second, "q1": "2"})
    assert late.status_code == 410 and "Mã này đã được sử dụng" in late.get_data(as_text=True)
    assert len(responses()) == 1


def test_a_mistyped_code_keeps_the_code_and_says_so_inline(client, runner, campaign) -> None:
    _code(runner, campaign)
    typed = "ABCDE-9999"
    page = client.get("/i", query_string={"code": typed})
    html = page.get_data(as_text=True)
    assert page.status_code == 404
    assert f'value="{typed}"' in html
    assert 'aria-invalid="true"' in html
    assert "Không tìm thấy mã mời này" in html
    # Following a mistyped link straight to /i/<code> gives the same form, not a dead end.
    direct = client.get("/i/ZZZZZ-99999").get_data(as_text=True)
    assert 'name="code"' in direct and 'value="ZZZZZ-99999"' in direct


def test_an_empty_form_in_english_comes_back_in_english(client, runner, campaign) -> None:
    url = f"/i/{_code(runner, campaign)}"
    page = client.get(url, query_string={"lang": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    back = client.post(_action(page), data={"nonce": nonce_of(page)})
    html = back.get_data(as_text=True)
    assert back.status_code == 422
    assert '<html lang="en">' in html and "Please rate at least one item" in html
