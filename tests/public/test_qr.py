"""QR sheets: ``surveyapp qr`` and the admin download; the code decodes back to the URL."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from surveyapp.extensions import db
from surveyapp.services import qr


def _decode(png: bytes) -> str:
    with Image.open(io.BytesIO(png)) as image:
        results = zxingcpp.read_barcodes(image)
    assert len(results) == 1, "expected exactly one QR code on the sheet"
    return results[0].text


def test_png_sheet_decodes_to_the_desk_url(runner, desk, tmp_path: Path) -> None:
    out = tmp_path / "desk.png"
    result = runner.invoke(
        args=["qr", "--desk", str(desk.id), "--format", "png", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    url = f"https://khaosat.example.vn/s/{desk.token}"
    assert _decode(out.read_bytes()) == url
    with Image.open(out) as image:
        assert image.size == (1240, 1754)  # A4 at 150 dpi


def test_a5_and_out_alias(runner, desk, tmp_path: Path) -> None:
    out = tmp_path / "a5.png"
    result = runner.invoke(
        args=["qr", "--desk", str(desk.id), "--format", "png", "--paper", "A5", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with Image.open(out) as image:
        assert image.size == (874, 1240)
    assert _decode(out.read_bytes()).endswith(desk.token)


def test_svg_sheet_has_name_instruction_url_and_code(runner, desk, tmp_path: Path) -> None:
    out = tmp_path / "desk.svg"
    result = runner.invoke(
        args=["qr", "--desk", str(desk.id), "--format", "svg", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    svg = out.read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and 'width="210.0mm"' in svg
    assert desk.name in svg
    assert "Quét mã" in svg  # the Vietnamese instruction
    assert f"https://khaosat.example.vn/s/{desk.token}" in svg
    assert 'class="segno"' in svg  # the QR code itself, as vector paths


def test_pdf_sheet_is_a_one_page_a4_pdf(runner, desk, tmp_path: Path) -> None:
    out = tmp_path / "desk.pdf"
    result = runner.invoke(
        args=["qr", "--desk", str(desk.id), "--format", "pdf", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert (
        data.startswith(b"%PDF-")
        and data.count(b"/Type /Page\n") + data.count(b"/Type /Page>") + data.count(b"/Type /Page ")
        >= 1
    )
    assert b"/MediaBox [0 0 595.28 841.89]" in data or b"595.28" in data
    assert b"DejaVu" in data  # Vietnamese letters need an embedded Unicode font


def test_all_desks_into_a_directory(runner, desk, tmp_path: Path) -> None:
    from surveyapp.models import ServicePoint

    db.session.add(ServicePoint(unit=desk.unit, name="Quầy số 2"))
    db.session.add(ServicePoint(unit=desk.unit, name="Quầy đã đóng", active=False))
    db.session.commit()
    target = tmp_path / "sheets"
    result = runner.invoke(args=["qr", "--all", "--format", "png", "--output", str(target)])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in target.iterdir())
    assert len(files) == 2 and all(f.endswith(".png") for f in files)


def test_single_sheet_to_stdout(runner, desk) -> None:
    result = runner.invoke(args=["qr", "--desk", str(desk.id), "--format", "svg"])
    assert result.exit_code == 0
    assert desk.token in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["qr", "--format", "png"], "--desk ID or --all"),
        (["qr", "--desk", "999", "--format", "png"], "No desk with id 999"),
        (["qr", "--all", "--format", "png"], "--output DIRECTORY"),
    ],
)
def test_cli_errors_are_one_clear_line(runner, desk, args, message) -> None:
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and message in result.output


def test_base_url_setting_is_what_the_code_encodes(app, desk) -> None:
    app.config["BASE_URL"] = "https://hailong.dongnai.gov.vn"
    with app.test_request_context():
        assert qr.survey_url(desk) == f"https://hailong.dongnai.gov.vn/s/{desk.token}"
        assert _decode(qr.render(desk, "png")) == qr.survey_url(desk)


def test_admin_downloads_sheets_and_desks_page_links_them(login_as, desk) -> None:
    client = login_as("admin")
    page = client.get("/admin/desks").get_data(as_text=True)
    assert f"/admin/desks/{desk.id}/qr.pdf" in page
    for fmt, mime in qr.MIME.items():
        response = client.get(f"/admin/desks/{desk.id}/qr.{fmt}")
        assert response.status_code == 200 and response.mimetype == mime
        assert f"qr-desk-{desk.id:03d}.{fmt}" in response.headers["Content-Disposition"]
    png = client.get(f"/admin/desks/{desk.id}/qr.png?paper=A5").data
    assert _decode(png).endswith(desk.token)
    a5 = client.get(f"/admin/desks/{desk.id}/qr.pdf?paper=A5")
    assert a5.status_code == 200 and a5.data.startswith(b"%PDF-")
    assert client.get(f"/admin/desks/{desk.id}/qr.gif").status_code == 404
    assert client.get("/admin/desks/999/qr.png").status_code == 404


def test_qr_download_needs_an_admin(client, login_as, desk) -> None:
    assert client.get(f"/admin/desks/{desk.id}/qr.png").status_code == 302  # to login
    login_as("analyst")
    assert client.get(f"/admin/desks/{desk.id}/qr.png").status_code == 403


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_a_control_character_in_a_stored_name_still_draws(
    runner, desk, tmp_path: Path, fmt
) -> None:
    # Found by the messy-campaign test: a unit name holding CR made the PNG layout fail (500).
    desk.unit.name = "Xã\rTân\x07 Phú"
    desk.name = "Một cửa\r\nTân Phú"
    db.session.commit()
    out = tmp_path / f"desk.{fmt}"
    result = runner.invoke(
        args=["qr", "--desk", str(desk.id), "--format", fmt, "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0
