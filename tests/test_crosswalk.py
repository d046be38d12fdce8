"""Units after 1 July 2025 and the crosswalk of old units to new ones (issue 13 §1)."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from surveyapp.extensions import db
from surveyapp.models import AuditLog, Unit, UnitCrosswalk, UnitLevel
from surveyapp.models.units import PARENT_LEVEL, PARENT_LEVELS, REFORM_DATE
from surveyapp.services import crosswalk

END = date(2025, 6, 30)


@pytest.fixture
def structures(app):  # type: ignore[no-untyped-def]
    """Province 99: a historical district with three communes; two communes of today."""
    province = Unit(code="99", name="Tỉnh Thử", level=UnitLevel.PROVINCE, kind="tỉnh")
    district = Unit(
        code="99-1", name="Huyện Cũ", level=UnitLevel.DISTRICT, kind="huyện",
        parent=province, valid_to=END,
    )  # fmt: skip
    old = [
        Unit(
            code=f"99-1-{k}",
            name=f"Xã Cũ {k}",
            level=UnitLevel.COMMUNE,
            kind="xã",
            parent=district,
            valid_to=END,
        )
        for k in (1, 2, 3)
    ]
    new = [
        Unit(
            code=code,
            name=name,
            level=UnitLevel.COMMUNE,
            kind=kind,
            parent=province,
            valid_from=REFORM_DATE,
        )
        for code, name, kind in (("99001", "Phường Mới", "phường"), ("99002", "Xã Mới", "xã"))
    ]
    db.session.add_all([province, district, *old, *new])
    db.session.commit()
    return province


GOOD = (
    "old_code,old_name,new_code,new_name,share,population,source\n"
    "99-1-1,Xã Cũ 1,99001,Phường Mới,1,12000,NQ thử\n"
    '99-1-2,Xã Cũ 2,99001,Phường Mới,"0,6",6000,NQ thử\n'
    "99-1-2,Xã Cũ 2,99002,Xã Mới,40%,4000,NQ thử\n"
    "99-1-3,Xã Cũ 3,99002,Xã Mới,1,,\n"
)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(UnitCrosswalk)) or 0


def test_the_default_tree_is_province_commune_village_and_districts_stay_possible(
    structures,
) -> None:
    assert PARENT_LEVEL[UnitLevel.COMMUNE] == UnitLevel.PROVINCE
    assert UnitLevel.DISTRICT in PARENT_LEVELS[UnitLevel.COMMUNE]
    today = db.session.scalar(select(Unit).where(Unit.code == "99001"))
    old = db.session.scalar(select(Unit).where(Unit.code == "99-1-1"))
    assert today is not None and old is not None
    assert today.parent is structures and today.kind == "phường"
    assert old.ancestor(UnitLevel.DISTRICT) is not None and old.historical
    assert old.valid_on(date(2024, 10, 1)) and not old.valid_on(date(2026, 1, 1))
    assert today.valid_on(date(2026, 1, 1)) and not today.valid_on(date(2024, 10, 1))
    db.session.add(
        Unit(
            code="99-bad",
            name="Sai",
            level=UnitLevel.COMMUNE,
            parent=structures,
            valid_from=date(2025, 7, 1),
            valid_to=date(2025, 1, 1),
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_import_stores_exact_and_approximate_mappings_audited(structures) -> None:
    added = crosswalk.import_crosswalk(GOOD.encode(), "cw.csv")
    db.session.commit()
    assert len(added) == _count() == 4
    rows = {(r["old_code"], r["new_code"]): r for r in crosswalk.listing()}
    assert rows[("99-1-1", "99001")]["exact"] and rows[("99-1-3", "99002")]["exact"]
    split = rows[("99-1-2", "99001")], rows[("99-1-2", "99002")]
    assert [r["share"] for r in split] == [pytest.approx(0.6), pytest.approx(0.4)]
    assert not any(r["exact"] for r in split) and split[0]["population"] == 6000
    audits = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "unit_crosswalk").order_by(AuditLog.id)
    ).all()
    assert [a.entity_id for a in audits] == ["99-1-1", "99-1-2", "99-1-3"]
    assert audits[1].after is not None and audits[1].after["99002"]["share"] == 0.4
    # A second file about one old unit replaces that unit's rows and nothing else.
    again = "old_code,new_code,share\n99-1-2,99002,1\n"
    crosswalk.import_crosswalk(again.encode(), "fix.csv")
    db.session.commit()
    assert _count() == 3
    last = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert last is not None and last.before == {
        "99001": {"share": 0.6, "population": 6000},
        "99002": {"share": 0.4, "population": 4000},
    }


def test_every_bad_cell_is_named_in_vietnamese_and_nothing_is_imported(structures) -> None:
    crosswalk.import_crosswalk(GOOD.encode(), "cw.csv")
    db.session.commit()
    bad = (
        "old_code,new_code,share,population\n"
        "99-1-1,99001,1,\n"  # fine on its own
        "99-1-9,99001,1,\n"  # unknown old unit
        "99-1-2,99-1-2,1,\n"  # a unit onto itself
        "99-1-3,99002,abc,\n"  # not a number
        "99-1-3,99001,1.5,x\n"  # out of range, bad population
        "99-1-1,99001,1,\n"  # the same pair again
    )
    with pytest.raises(crosswalk.CrosswalkImportError) as caught:
        crosswalk.import_crosswalk(bad.encode(), "bad.csv")
    db.session.rollback()
    text = str(caught.value)
    assert "Dòng 3, cột old_code (A): không có đơn vị nào mang mã 99-1-9." in text
    assert "Dòng 4, cột new_code (B): một đơn vị không thể chuyển đổi sang chính nó." in text
    assert "Dòng 5, cột share (C): 'abc' không phải là số." in text
    assert "Dòng 6, cột share (C): 1.5 không phải là tỷ lệ lớn hơn 0 và không quá 1." in text
    assert "Dòng 6, cột population (D): 'x' không phải là số người nguyên." in text
    assert "Dòng 7, cột new_code (B): trùng cặp đơn vị với dòng 2." in text
    assert _count() == 4  # the stored crosswalk is untouched


def test_the_shares_of_an_old_unit_must_add_up_to_one(structures) -> None:
    uneven = "old_code,new_code,share\n99-1-2,99001,0.6\n99-1-2,99002,0.3\n99-1-3,99002,1\n"
    with pytest.raises(crosswalk.CrosswalkImportError) as caught:
        crosswalk.import_crosswalk(uneven.encode(), "u.csv")
    db.session.rollback()
    assert str(caught.value) == (
        "Dòng 2, 3, cột share (C): tổng tỷ lệ của đơn vị cũ 99-1-2 là 0,900; tổng các tỷ lệ "
        "của một đơn vị cũ phải bằng 1 (± 0,001)."
    )
    assert _count() == 0
    # Within the tolerance (three thirds written with three decimals) is accepted.
    close = "old_code,new_code,share\n99-1-2,99001,0.667\n99-1-2,99002,0.333\n"
    assert len(crosswalk.import_crosswalk(close.encode(), "c.csv")) == 2
    missing = b"old_code,share\n99-1-2,1\n"
    with pytest.raises(crosswalk.CrosswalkImportError, match="new_code"):
        crosswalk.parse_crosswalk(missing, "m.csv")


def test_xlsx_template_lists_unmapped_old_units_and_round_trips(structures) -> None:
    book = load_workbook(io.BytesIO(crosswalk.template("xlsx")))
    sheet = book.active
    assert [c.value for c in sheet[1]] == list(crosswalk.COLUMNS)
    listed = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert listed == ["99-1", "99-1-1", "99-1-2", "99-1-3"]  # every historical unit
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "99-1":
            row[2].value, row[4].value = "99001", 1
        elif row[0].value == "99-1-3":
            row[2].value, row[4].value = "99002", 1
    sheet.delete_rows(3, 2)  # keep the district and commune 3 only
    out = io.BytesIO()
    book.save(out)
    added = crosswalk.import_crosswalk(out.getvalue(), "cw.xlsx")
    db.session.commit()
    assert {(e.old_unit.code, e.new_unit.code) for e in added} == {
        ("99-1", "99001"),
        ("99-1-3", "99002"),
    }
    # The template now starts with the stored mappings; the CSV form has the same rows.
    csv_rows = crosswalk.template("csv").decode("utf-8-sig").splitlines()
    assert csv_rows[0] == ",".join(crosswalk.COLUMNS)
    assert csv_rows[1].startswith("99-1,Huyện Cũ,99001,Phường Mới,1.0")


def test_cli_import_list_and_template(runner, structures, tmp_path: Path) -> None:
    path = tmp_path / "cw.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(args=["units", "crosswalk", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Đã nhập 4 dòng chuyển đổi." in result.output
    listed = json.loads(
        runner.invoke(args=["units", "crosswalk", "list", "--format", "json"]).output
    )
    assert [(r["old_code"], r["exact"]) for r in listed] == [
        ("99-1-1", True),
        ("99-1-2", False),
        ("99-1-2", False),
        ("99-1-3", True),
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("old_code,new_code,share\n99-1-1,99001,0.5\n", encoding="utf-8")
    refused = runner.invoke(args=["units", "crosswalk", "import", str(bad)])
    assert refused.exit_code != 0
    assert "Không có dữ liệu nào được nhập." in refused.output
    assert "tổng tỷ lệ của đơn vị cũ 99-1-1 là 0,500" in refused.output
    assert _count() == 4
    out = tmp_path / "t.xlsx"
    made = runner.invoke(args=["units", "crosswalk", "template", "--output", str(out)])
    assert made.exit_code == 0 and load_workbook(out).active.max_row == 1 + 4 + 1  # + 99-1
    text = runner.invoke(args=["units", "crosswalk", "template"]).output
    assert text.splitlines()[0].lstrip("\ufeff") == ",".join(crosswalk.COLUMNS)


def test_admin_page_imports_lists_and_removes(login_as, structures) -> None:
    client = login_as("admin")
    assert "/admin/units/crosswalk" in client.get("/admin/units").get_data(as_text=True)
    page = client.get("/admin/units/crosswalk").get_data(as_text=True)
    assert "Chưa có bảng chuyển đổi." in page
    done = client.post(
        "/admin/units/crosswalk/import",
        data={"file": (io.BytesIO(GOOD.encode()), "cw.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Đã nhập 4 dòng chuyển đổi." in done
    assert "gần đúng (chia tách theo tỷ lệ dân số)" in done and "60,0" in done
    assert "4 dòng chuyển đổi, trong đó 2 dòng gần đúng" in done
    refused = client.post(
        "/admin/units/crosswalk/import",
        data={"file": (io.BytesIO(b"old_code,new_code,share\n99-1-7,99001,1\n"), "b.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Dòng 2, cột old_code (A): không có đơn vị nào mang mã 99-1-7." in refused
    assert _count() == 4
    xlsx = client.get("/admin/units/crosswalk/template.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert client.get("/admin/units/crosswalk/template.csv").status_code == 200
    assert client.get("/admin/units/crosswalk/template.pdf").status_code == 404
    client.post("/admin/units/crosswalk/remove", follow_redirects=True)
    assert _count() == 0
    assert db.session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == "delete")
    )


def test_analysts_cannot_change_the_crosswalk(login_as, structures) -> None:
    client = login_as("analyst")
    assert client.get("/admin/units/crosswalk").status_code == 403
    assert client.post("/admin/units/crosswalk/remove").status_code == 403


UNITS = (
    "code,name,level,kind,parent_code,valid_from,valid_to,urban\n"
    "98,Tỉnh Mẫu,province,tỉnh,,,,\n"
    "98001,Phường Một,commune,phường,98,01/07/2025,,1\n"
    "98001-1,Khu phố 1,village,khu phố,98001,2025-07-01,,1\n"
    "98-1,Huyện Cũ,district,huyện,98,,30/06/2025,0\n"
    "98-1-1,Xã Cũ,commune,xã,98-1,,30/06/2025,0\n"
)


def test_units_import_builds_todays_tree_and_the_historical_one(app) -> None:
    from surveyapp.services import unit_tree

    changed = unit_tree.import_units(UNITS.encode(), "units.csv")
    db.session.commit()
    assert len(changed) == 5
    ward = db.session.scalar(select(Unit).where(Unit.code == "98001"))
    old = db.session.scalar(select(Unit).where(Unit.code == "98-1-1"))
    assert ward is not None and old is not None
    assert ward.parent is not None and ward.parent.code == "98" and ward.kind == "phường"
    assert ward.valid_from == REFORM_DATE and ward.urban is True
    assert old.ancestor(UnitLevel.DISTRICT) is not None and old.valid_to == END
    audits = db.session.scalars(select(AuditLog).where(AuditLog.entity == "unit")).all()
    assert len(audits) == 5
    # A stored code is updated (audited with its state before).
    renamed = "code,name,level,kind,parent_code\n98001,Phường Mới Một,commune,phường,98\n"
    unit_tree.import_units(renamed.encode(), "u.csv")
    db.session.commit()
    assert ward.name == "Phường Mới Một"
    last = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert last is not None and last.before is not None and last.before["name"] == "Phường Một"


def test_units_import_names_each_bad_cell_and_keeps_the_hierarchy(app) -> None:
    from surveyapp.services import unit_tree

    bad = (
        "code,name,level,kind,parent_code,valid_from,valid_to\n"
        "97,Tỉnh Lỗi,province,tỉnh,,,\n"
        "97-v,Ấp lạc,village,ấp,97,,\n"  # a village directly under a province
        "97001,Xã A,commune,phường xã,97,,\n"  # not a kind of commune
        "97002,Xã B,commune,xã,96,,\n"  # unknown parent
        "97003,Xã C,county,xã,97,,\n"  # not a level
        "97004,Xã D,commune,xã,97,01/07/2025,30/06/2025\n"  # ends before it begins
        "97005,Xã E,commune,xã,97,31/02/2025,\n"  # not a date
        "97,Tỉnh Lỗi lần hai,province,tỉnh,,,\n"  # the same code again
    )
    with pytest.raises(unit_tree.UnitImportError) as caught:
        unit_tree.import_units(bad.encode(), "bad.csv")
    db.session.rollback()
    text = str(caught.value)
    assert (
        "Dòng 3, cột parent_code (E): thôn, ấp, khu phố không thể trực thuộc đơn vị cấp tỉnh "
        "(đơn vị cấp trên phải là: đơn vị cấp xã)." in text
    )
    assert "Dòng 4, cột kind (D): đơn vị cấp xã phải là một trong các loại:" in text
    assert "Dòng 5, cột parent_code (E): không có đơn vị nào mang mã 96" in text
    assert "Dòng 6, cột level (C): dùng province (tỉnh)" in text
    assert "Dòng 7, cột valid_to (G): đơn vị không thể kết thúc trước khi bắt đầu." in text
    assert "Dòng 8, cột valid_from (F): '31/02/2025' không phải là ngày (dd/mm/yyyy)." in text
    assert "Dòng 9, cột code (A): trùng mã với dòng 2." in text
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0


def test_units_import_by_cli_and_admin_page(runner, login_as, tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text(UNITS, encoding="utf-8")
    done = runner.invoke(args=["units", "import", str(path)])
    assert done.exit_code == 0, done.output
    assert "Đã nhập 5 đơn vị hành chính." in done.output
    client = login_as("admin")
    extra = "code,name,level,kind,parent_code\n98002,Xã Hai,commune,xã,98\n"
    page = client.post(
        "/admin/units/import",
        data={"file": (io.BytesIO(extra.encode()), "u.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Đã nhập 1 đơn vị hành chính." in page and "Xã Hai" in page
    assert "đơn vị cũ, tồn tại đến 30/06/2025" in page
    refused = client.post(
        "/admin/units/import",
        data={"file": (io.BytesIO(b"code,name,level\n98003,Xa,commune\n"), "u.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Dòng 2, cột parent_code: cần có giá trị." in refused
    client.post("/logout")
    assert login_as("analyst").post("/admin/units/import").status_code == 403
