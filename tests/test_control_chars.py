"""Issue 12, defect 3: control characters never reach the database, and a restore that cannot
write a row says which row, in one line.

Every text input goes through one filter (``surveyapp.hygiene``): HTTP form and query values,
Flask-WTF fields, CSV/XLSX cells and CLI text options. Tab, CR and LF stay where a multi-line
text allows them (a citizen's comment).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select, text
from support import PASSWORD, USING_POSTGRES, make_config, make_user

import surveyapp
from surveyapp.extensions import db
from surveyapp.models import Answer, Base, ServicePoint, Unit, User

NUL = "\x00"


@pytest.fixture
def desk(app, campaign):  # type: ignore[no-untyped-def]
    item = ServicePoint(unit=campaign.units[0], name="Bộ phận Một cửa tỉnh")
    db.session.add(item)
    db.session.commit()
    return item


@pytest.fixture
def fresh_nonce(client):  # type: ignore[no-untyped-def]
    import re

    def _fresh(url: str) -> str:
        page = client.get(url).get_data(as_text=True)
        match = re.search(r'name="nonce" value="([^"]+)"', page)
        assert match, page[:200]
        return match.group(1)

    return _fresh


def test_citizen_comment_with_nul_is_stored_clean(app, client, desk, fresh_nonce) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    url = f"/s/{desk.token}"
    data = {"nonce": fresh_nonce(url), "q1": "4", "comment": f"Tốt{NUL}\x1b lắm\r\nCảm ơn\x7f"}
    response = client.post(url, data=data)
    assert response.status_code == 303, response.status_code
    stored = db.session.scalars(select(Answer.text).where(Answer.text.is_not(None))).all()
    assert stored == ["Tốt lắm\r\nCảm ơn"]


def test_login_with_nul_in_username_is_no_500(app, client) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    make_user("admin1", "admin")
    wrong = client.post("/login", data={"username": f"{NUL}x", "password": "nope-nope-1"})
    assert wrong.status_code == 200
    response = client.post("/login", data={"username": f"admin1{NUL}", "password": PASSWORD})
    assert response.status_code == 302


def test_desk_and_user_names_are_stored_clean(app, login_as, campaign) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = login_as("admin")
    unit = campaign.units[0]
    response = client.post(
        "/admin/desks/new", data={"name": f"Bộ phận{NUL} Một\tcửa\x01", "unit_id": unit.id}
    )
    assert response.status_code == 302, response.status_code
    assert db.session.scalars(select(ServicePoint.name)).all() == ["Bộ phận Một cửa"]
    response = client.post(
        "/admin/users/new",
        data={
            "username": f"nguoi{NUL}dung",
            "full_name": "Nguyễn\tVăn\x0b A",
            "role": "analyst",
            "password": "mat-khau-rat-dai-42",
        },
    )
    assert response.status_code == 302, response.status_code
    user = db.session.scalar(select(User).where(User.username == "nguoidung"))
    assert user is not None and user.full_name == "Nguyễn Văn A"


def test_url_parts_and_query_values_with_controls_are_no_500(app, client, desk) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/s/%00abc").status_code == 404
    assert client.get("/i/%00ABC").status_code == 404
    assert client.get(f"/s/{desk.token}?r=%00x").status_code < 500
    assert client.get("/i?code=%00AB").status_code < 500


def test_cli_text_options_are_cleaned(app, runner) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            f"bob{NUL}by",
            "--role",
            "analyst",
            "--full-name",
            f"B{NUL}ob",
            "--password-stdin",
        ],
        input="mat-khau-rat-dai-42\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "bobby"))
    assert user is not None and user.full_name == "Bob"


def test_imported_cells_are_cleaned(app, runner, campaign, tmp_path: Path) -> None:
    from surveyapp.models import Target

    path = tmp_path / "targets.csv"
    path.write_text(f"code,target_pct,target_rank\n1,85.5,1{NUL}0/63\n", encoding="utf-8")
    result = runner.invoke(args=["targets", "import", str(path), "--campaign", str(campaign.id)])
    assert result.exit_code == 0, result.output
    ranks = db.session.scalars(select(Target.target_rank).where(Target.target_rank.like("10/%")))
    assert list(ranks) == ["10/63"]


def test_every_form_class_uses_the_shared_filter() -> None:
    """No Flask-WTF form in the product can leave the control-character filter out."""
    from surveyapp.forms.base import Form

    for module in pkgutil.walk_packages(surveyapp.__path__, "surveyapp."):
        if ".analysis" in module.name or module.name.endswith("__main__"):
            continue
        importlib.import_module(module.name)

    def subclasses(cls: type) -> list[type]:
        return [c for s in cls.__subclasses__() for c in (s, *subclasses(s))]

    forms = [c for c in subclasses(FlaskForm) if c.__module__.startswith("surveyapp.")]
    assert len(forms) >= 8
    assert [c for c in forms if not issubclass(c, Form)] == []


def _empty_database() -> None:
    db.session.remove()
    Base.metadata.drop_all(db.engine)
    Base.metadata.create_all(db.engine)


def test_restore_names_the_row_it_cannot_write(app, runner, campaign, tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    assert runner.invoke(args=["backup", "--output", str(path)]).exit_code == 0
    lines = path.read_text(encoding="utf-8").splitlines()
    # The second service point... there is none: break the first unit instead (its name is
    # NOT NULL), which every database refuses.
    for i, line in enumerate(lines[1:], start=1):
        item = json.loads(line)
        if item["t"] == "units":
            item["r"]["name"] = None
            lines[i] = json.dumps(item, ensure_ascii=False)
            bad_line = i + 1
            break
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _empty_database()
    result = runner.invoke(args=["restore", str(path)])
    assert result.exit_code != 0
    output = result.output.strip()
    assert "Traceback" not in output and len(output.splitlines()) == 1, output
    assert "units" in output and f"{bad_line}" in output and "1" in output
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0


@pytest.mark.skipif(not USING_POSTGRES, reason="SQLite to PostgreSQL needs PostgreSQL")
def test_sqlite_backup_with_nul_restores_into_postgres_with_one_line(
    app, runner, tmp_path: Path, monkeypatch
) -> None:
    from surveyapp import create_app

    # A SQLite installation from before the filter, with a NUL in a desk name.
    monkeypatch.delenv("DATABASE_URL", raising=False)
    (tmp_path / "lite").mkdir()
    lite = create_app(make_config(tmp_path / "lite", None))
    backup = tmp_path / "lite.jsonl"
    with lite.app_context():
        Base.metadata.create_all(db.engine)
        province = Unit(code="75", name="Tỉnh Đồng Nai", level="province")
        db.session.add(province)
        db.session.flush()
        db.session.add_all(
            [ServicePoint(unit=province, name="Một cửa"), ServicePoint(unit=province, name="x")]
        )
        db.session.commit()
        db.session.execute(
            text("UPDATE service_points SET name = 'Hai' || char(0) || 'cửa' WHERE name = 'x'")
        )
        db.session.commit()
        result = lite.test_cli_runner().invoke(args=["backup", "--output", str(backup)])
        assert result.exit_code == 0, result.output
        db.session.remove()
        db.engine.dispose()
    _empty_database()
    result = runner.invoke(args=["restore", str(backup)])
    assert result.exit_code != 0
    output = result.output.strip()
    assert "Traceback" not in output and len(output.splitlines()) == 1, output
    assert "service_points" in output and "2" in output
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0
