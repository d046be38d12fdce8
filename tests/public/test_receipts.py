"""Optional receipt codes: the desk's queue system prints one per transaction; each rates once."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import ReceiptCode


def _codes(runner, desk, tmp_path: Path, count: int = 2) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    out = tmp_path / "receipts.csv"
    args = ["receipts", "create", "--desk", str(desk.id), "--count", str(count), "--out", str(out)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_cli_writes_codes_with_desk_urls(runner, desk, tmp_path: Path) -> None:
    rows = _codes(runner, desk, tmp_path, count=20)
    assert len({r["code"] for r in rows}) == 20
    assert rows[0]["url"] == f"https://khaosat.example.vn/s/{desk.token}?r={rows[0]['code']}"
    assert db.session.scalar(select(ReceiptCode).where(ReceiptCode.code == rows[0]["code"]))


def test_a_receipt_rates_once(client, runner, desk, tmp_path: Path, responses) -> None:
    code = _codes(runner, desk, tmp_path)[0]["code"]
    page = client.get(f"/s/{desk.token}?r={code.lower()}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'name="receipt" value="{code}"' in html
    nonce = html.split('name="nonce" value="')[1].split('"')[0]
    sent = client.post(f"/s/{desk.token}/send", data={"nonce": nonce, "receipt": code, "q1": "5"})
    assert sent.status_code == 303
    [stored] = responses()
    receipt = db.session.scalar(select(ReceiptCode).where(ReceiptCode.code == code))
    assert receipt.used and receipt.response_id == stored.id
    again = client.get(f"/s/{desk.token}?r={code}")
    assert again.status_code == 410
    assert "Phiếu hẹn này đã được đánh giá" in again.get_data(as_text=True)


def test_two_forms_with_one_receipt_store_one(
    client, runner, desk, tmp_path: Path, fresh_nonce, responses
) -> None:
    code = _codes(runner, desk, tmp_path)[0]["code"]
    url = f"/s/{desk.token}?r={code}"
    first, second = fresh_nonce(url), fresh_nonce(url)
    send = f"/s/{desk.token}/send"
    assert client.post(send, data={"nonce": first, "receipt": code, "q1": "4"}).status_code == 303
    late = client.post(send, data={"nonce": second, "receipt": code, "q1": "1"})
    assert late.status_code == 410 and len(responses()) == 1


def test_unknown_or_foreign_receipt_is_a_404(client, runner, desk, tmp_path: Path) -> None:
    from surveyapp.models import ServicePoint

    other = ServicePoint(unit=desk.unit, name="Quầy khác")
    db.session.add(other)
    db.session.commit()
    code = _codes(runner, desk, tmp_path)[0]["code"]
    assert client.get(f"/s/{desk.token}?r=ZZZZZ-ZZZZZ").status_code == 404
    assert client.get(f"/s/{other.token}?r={code}").status_code == 404


def test_desks_without_receipts_work_as_before(client, desk, fresh_nonce, responses) -> None:
    url = f"/s/{desk.token}"
    assert client.post(url, data={"nonce": fresh_nonce(url), "q1": "3"}).status_code == 303
    assert len(responses()) == 1
