"""Invitation codes ``/i/<code>``: created by the CLI, usable once, friendly when used."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Channel, Invitation
from surveyapp.models.invitations import ALPHABET, CODE_LENGTH


def _create(runner, campaign, tmp_path: Path, count: int = 5) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    out = tmp_path / "codes.csv"
    result = runner.invoke(
        args=[
            "invitations",
            "create",
            "--campaign",
            str(campaign.id),
            "--count",
            str(count),
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_cli_writes_unique_printable_codes_with_urls(runner, campaign, tmp_path: Path) -> None:
    rows = _create(runner, campaign, tmp_path, count=50)
    assert len(rows) == 50 and len({r["code"] for r in rows}) == 50
    for row in rows:
        assert len(row["code"]) == CODE_LENGTH and set(row["code"]) <= set(ALPHABET)
        assert row["printed"] == f"{row['code'][:5]}-{row['code'][5:]}"
        assert row["url"] == f"https://khaosat.example.vn/i/{row['code']}"
    stored = db.session.scalars(select(Invitation)).all()
    assert len(stored) == 50 and all(i.campaign_id == campaign.id for i in stored)


def test_cli_refuses_unknown_campaign(runner, campaign) -> None:
    result = runner.invoke(args=["invitations", "create", "--campaign", "99", "--count", "1"])
    assert result.exit_code != 0 and "Không có đợt khảo sát mã 99" in result.output


def test_invitation_answers_once(
    client, runner, campaign, tmp_path: Path, fresh_nonce, responses
) -> None:
    code = _create(runner, campaign, tmp_path, count=1)[0]["code"]
    url = f"/i/{code}"
    nonce = fresh_nonce(url)
    response = client.post(url, data={"nonce": nonce, "q1": "4", "q7": "5"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/thanks")
    assert "Cảm ơn" in client.get(response.headers["Location"]).get_data(as_text=True)
    [stored] = responses()
    assert stored.channel == Channel.WEB_INVITE and stored.campaign_id == campaign.id
    assert stored.service_point_id is None
    invitation = db.session.scalar(select(Invitation).where(Invitation.code == code))
    assert invitation.used and invitation.response_id == stored.id
    # A used code gives a friendly message, in Vietnamese, and no form.
    used = client.get(url)
    html = used.get_data(as_text=True)
    assert used.status_code == 410
    assert "Mã này đã được sử dụng" in html and 'name="nonce"' not in html
    # A retry of the same form is still just "thank you"; nothing more is stored.
    retry = client.post(url, data={"nonce": nonce, "q1": "4"})
    assert retry.status_code == 303 and retry.headers["Location"].endswith("/thanks")
    assert len(responses()) == 1


def test_two_forms_for_one_code_store_one_response(
    client, runner, campaign, tmp_path: Path, fresh_nonce, responses
) -> None:
    code = _create(runner, campaign, tmp_path, count=1)[0]["code"]
    url = f"/i/{code}"
    first, second = fresh_nonce(url), fresh_nonce(url)  # two tabs, or two people
    assert client.post(url, data={"nonce": first, "q1": "4"}).status_code == 303
    late = client.post(url, data={"nonce": second, "q1": "2"})
    assert late.status_code == 410 and "Mã này đã được sử dụng" in late.get_data(as_text=True)
    assert len(responses()) == 1


def test_codes_are_forgiving_to_type(client, runner, campaign, tmp_path: Path) -> None:
    row = _create(runner, campaign, tmp_path, count=1)[0]
    assert client.get(f"/i/{row['printed'].lower()}").status_code == 200
    entry = client.get("/i", query_string={"code": row["printed"]})
    assert entry.status_code == 303 and entry.headers["Location"].endswith(f"/i/{row['code']}")
    assert 'name="code"' in client.get("/i").get_data(as_text=True)


def test_unknown_code_is_a_vietnamese_404(client, campaign) -> None:
    response = client.get("/i/ZZZZZ-99999")
    assert response.status_code == 404
    assert "Không tìm thấy mã mời này" in response.get_data(as_text=True)
    assert client.post("/i/ZZZZZ-99999", data={"nonce": "x.y"}).status_code == 404


def test_campaign_without_web_channel_takes_no_answers(
    client, runner, campaign, tmp_path: Path
) -> None:
    code = _create(runner, campaign, tmp_path, count=1)[0]["code"]
    campaign.channels = [c for c in campaign.channels if c.channel != Channel.WEB_INVITE]
    db.session.commit()
    html = client.get(f"/i/{code}").get_data(as_text=True)
    assert 'name="nonce"' not in html and "Cuộc khảo sát này hiện không mở" in html
