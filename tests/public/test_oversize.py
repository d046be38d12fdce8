"""Issue 12, defect 4: a huge value in a citizen form is a Vietnamese 413/400 page, not a 500,
and nothing is stored; on the QR, kiosk and invitation paths alike."""

from __future__ import annotations

from pathlib import Path

import pytest

MEGABYTE = "x" * (1024 * 1024)


def _invitation_url(runner, campaign, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    import csv

    out = tmp_path / "codes.csv"
    result = runner.invoke(
        args=[
            "invitations",
            "create",
            "--campaign",
            str(campaign.id),
            "--count",
            "1",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as fh:
        return f"/i/{next(csv.DictReader(fh))['code']}"


@pytest.fixture(params=["qr", "kiosk", "invitation"])
def form_url(request, desk, runner, campaign, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "qr":
        return f"/s/{desk.token}"
    if request.param == "kiosk":
        return f"/k/{desk.token}"
    return _invitation_url(runner, campaign, tmp_path)


@pytest.mark.parametrize("field", ["comment", "q1", "nonce", "unknown"])
def test_megabyte_field_is_refused_in_vietnamese(
    app, client, form_url: str, fresh_nonce, responses, field: str
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    data = {"nonce": fresh_nonce(form_url), "q1": "4", field: MEGABYTE}
    response = client.post(form_url, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code in (400, 413), response.status_code
    assert 'lang="vi"' in page and "Traceback" not in page
    assert "Yêu cầu không hợp lệ" in page or "quá lớn" in page
    assert responses() == []


def test_megabyte_body_multipart_is_refused(
    app, client, form_url: str, fresh_nonce, responses
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    # The body is built here: the test client spools a large multipart body to a temporary
    # file it never closes (a ResourceWarning, an error under -W error).
    boundary = "b0undary"
    parts = {"nonce": fresh_nonce(form_url), "q1": "4", "comment": MEGABYTE}
    body = (
        "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in parts.items()
        )
        + f"--{boundary}--\r\n"
    )
    response = client.post(
        form_url,
        data=body.encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code in (400, 413), response.status_code
    assert 'lang="vi"' in response.get_data(as_text=True)
    assert responses() == []


def test_form_still_takes_a_long_comment(client, desk, fresh_nonce, responses) -> None:
    url = f"/s/{desk.token}"
    response = client.post(url, data={"nonce": fresh_nonce(url), "q1": "4", "comment": "à" * 1000})
    assert response.status_code == 303
    assert len(responses()) == 1
