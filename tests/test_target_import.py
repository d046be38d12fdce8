from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from flask_babel import force_locale
from openpyxl import Workbook

from surveyapp.extensions import db
from surveyapp.models import AuditLog, Target
from surveyapp.services import demo, targets
from surveyapp.services.targets import TargetImportError

SEED = demo.TARGETS_FILE.read_bytes()


def _count() -> int:
    return db.session.query(Target).count()


def test_seed_file_gives_twelve_targets(campaign) -> None:
    rows = {t.index_node.code: t for t in campaign.targets}
    assert len(rows) == 12
    assert rows["2.5"].target_pct == Decimal("92.00")
    assert rows["1"].previous_pct == Decimal("80.23")
    assert rows["1"].previous_rank == "45/63" and rows["1"].target_rank == "20-30/63"


def _csv_with(old: str, new: str) -> bytes:
    text = SEED.decode("utf-8")
    assert old in text
    return text.replace(old, new, 1).encode("utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("\n2.3,criterion", "\n2.9,criterion", "Row 10, column code: unknown index code '2.9'"),
        (",83.00,\n1.2", ",183.00,\n1.2", "Row 3, column target_2025_pct: 183.00 is outside 0–100"),
        (",82.00,", ",tám mươi,", "Row 4, column target_2025_pct: 'tám mươi' is not a number"),
        ("\n1.4,criterion", "\n1.3,criterion", "Row 6: code 1.3 repeats row 5"),
    ],
)
def test_bad_rows_are_named_and_nothing_is_imported(
    app, sipas, campaign, old: str, new: str, message: str
) -> None:
    before = {t.id: t.target_pct for t in campaign.targets}
    data = _csv_with(old, new).replace(b"92.00", b"50.00")  # a valid change that must not land
    with pytest.raises(TargetImportError) as info, force_locale("en"):
        targets.import_targets(campaign, data, "targets.csv")
    assert message in str(info.value)
    db.session.rollback()
    assert {t.id: t.target_pct for t in db.session.query(Target)} == before


def test_xlsx_import_and_audit(app, sipas, campaign) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["code", "target_2025_pct"])
    ws.append(["2.5", 93.5])
    ws.append(["1.1", "84,25"])  # a decimal comma, as typed in Vietnamese Excel
    buffer = io.BytesIO()
    wb.save(buffer)
    changed = targets.import_targets(campaign, buffer.getvalue(), "targets.xlsx")
    db.session.commit()
    assert {t.index_node.code: t.target_pct for t in changed} == {
        "2.5": Decimal("93.50"),
        "1.1": Decimal("84.25"),
    }
    assert _count() == 12
    entry = (
        db.session.query(AuditLog)
        .filter_by(entity="target", action="import")
        .order_by(AuditLog.id.desc())
        .first()
    )
    assert entry.before["target_pct"] == "83.00" and entry.after["target_pct"] == "84.25"


def test_cli_import_refuses_whole_file_with_row_numbers(runner, campaign, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(_csv_with("\n2.3,criterion", "\nX,criterion"))
    result = runner.invoke(args=["targets", "import", str(path), "--campaign", str(campaign.id)])
    assert result.exit_code != 0
    assert "không có dữ liệu nào được nhập" in result.output
    assert "Dòng 10, cột code" in result.output


def test_cli_import_and_list(runner, campaign, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(SEED.replace(b"92.00", b"91.00"))
    result = runner.invoke(args=["targets", "import", str(path), "--campaign", str(campaign.id)])
    assert result.exit_code == 0, result.output
    assert "12" in result.output
    listed = runner.invoke(
        args=["targets", "list", "--campaign", str(campaign.id), "--format", "json"]
    )
    import json

    rows = json.loads(listed.output)
    assert [r["code"] for r in rows] == [
        "1",
        "1.1",
        "1.2",
        "1.3",
        "1.4",
        "2",
        "2.1",
        "2.2",
        "2.3",
        "2.4",
        "2.5",
        "2.6",
    ]
    assert rows[10]["target_pct"] == 91.0


def test_cli_unknown_campaign(runner, sipas, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(SEED)
    result = runner.invoke(args=["targets", "import", str(path), "--campaign", "99"])
    assert result.exit_code != 0 and "99" in result.output


def test_admin_sees_and_edits_targets_audited(login_as, campaign) -> None:
    client = login_as("admin")
    page = client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert page.count("/targets/") >= 12
    assert "92,00\u00a0%" in page  # Vietnamese decimal comma, unbreakable space
    target = next(t for t in campaign.targets if t.index_node.code == "2.5")
    url = f"/admin/campaigns/{campaign.id}/targets/{target.id}"
    bad = client.post(url, data={"target_pct": "120", "target_rank": ""})
    assert bad.status_code == 200
    response = client.post(url, data={"target_pct": "90.5", "target_rank": "15/63"})
    assert response.status_code == 302
    db.session.refresh(target)
    assert target.target_pct == Decimal("90.50") and target.target_rank == "15/63"
    entry = db.session.query(AuditLog).filter_by(entity="target", action="update").one()
    assert entry.before["target_pct"] == "92.00" and entry.after["target_pct"] == "90.50"
    assert entry.user.username == "admin-user"


def test_admin_upload_with_error_imports_nothing(login_as, campaign) -> None:
    client = login_as("admin")
    data = {"file": (io.BytesIO(_csv_with(",83.00,\n1.2", ",-1,\n1.2")), "t.csv")}
    response = client.post(
        f"/admin/campaigns/{campaign.id}/targets/import",
        data=data,
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Dòng 3, cột target_2025_pct" in page
    assert {t.index_node.code: t.target_pct for t in campaign.targets}["1.1"] == Decimal("83.00")
