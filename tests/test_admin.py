from __future__ import annotations

from datetime import date

from sqlalchemy import select
from support import PASSWORD, login

from surveyapp.extensions import db
from surveyapp.models import AuditLog, ServicePoint, TransactionVolume, User
from surveyapp.services import campaigns


def test_admin_overview_lists_units_desks_and_campaigns(login_as, demo_data) -> None:
    client = login_as("admin")
    page = client.get("/admin/").get_data(as_text=True)
    for campaign in campaigns.summaries():
        assert campaign["name"] in page
    assert "Trung tâm Phục vụ hành chính công tỉnh Đồng Nai" in page
    assert "/s/" in page
    units = client.get("/admin/units").get_data(as_text=True)
    assert "Thành phố Biên Hòa" in units and "Ấp 1" in units and "Khu phố 1" in units


def test_admin_sees_demo_campaign_with_twelve_targets(login_as, demo_data) -> None:
    client = login_as("admin")
    page = client.get(f"/admin/campaigns/{demo_data.campaign_id}").get_data(as_text=True)
    assert "Chỉ tiêu (12)" in page
    assert page.count('class="level-') == 12


def test_admin_creates_user_and_the_user_logs_in(login_as, app) -> None:
    client = login_as("admin")
    response = client.post(
        "/admin/users/new",
        data={
            "username": "Lan.Tran",
            "full_name": "Trần Thị Lan",
            "role": "analyst",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "lan.tran"))
    assert user is not None and user.role.value == "analyst" and user.full_name == "Trần Thị Lan"
    client.post("/logout")
    assert login(client, "lan.tran").headers["Location"] == "/dashboard/"


def test_admin_user_form_shows_errors_in_vietnamese(login_as) -> None:
    client = login_as("admin")
    page = client.post(
        "/admin/users/new", data={"username": "admin-user", "role": "analyst", "password": PASSWORD}
    ).get_data(as_text=True)
    assert "đã có người dùng" in page


def test_deactivate_and_reset_password_are_audited(login_as, app) -> None:
    client = login_as("admin")
    from support import make_user

    other = make_user("enum-a", "enumerator")
    assert client.post(f"/admin/users/{other.id}/active").status_code == 302
    db.session.refresh(other)
    assert other.active is False
    response = client.post(f"/admin/users/{other.id}/password", data={"password": "mat-khau-moi-1"})
    assert response.status_code == 302
    db.session.refresh(other)
    assert other.check_password("mat-khau-moi-1")
    actions = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "user", AuditLog.entity_id == str(other.id))
    )
    entries = [(a.action, a.after) for a in actions]
    assert ("update", {"active": False}) in entries
    assert ("update", {"password": "changed"}) in entries
    me = db.session.scalar(select(User).where(User.username == "admin-user"))
    client.post(f"/admin/users/{me.id}/active")
    db.session.refresh(me)
    assert me.active is True  # an admin cannot lock themselves out


def test_desk_lifecycle(login_as, campaign) -> None:
    client = login_as("admin")
    from surveyapp.models import Unit

    province = db.session.scalar(select(Unit))
    response = client.post(
        "/admin/desks/new", data={"name": "Bộ phận Một cửa thử", "unit_id": province.id}
    )
    assert response.status_code == 302
    desk = db.session.scalar(select(ServicePoint))
    old = desk.token
    client.post(f"/admin/desks/{desk.id}/new-link")
    db.session.refresh(desk)
    assert desk.token != old and len(desk.token) >= 22
    client.post(f"/admin/desks/{desk.id}/active")
    db.session.refresh(desk)
    assert desk.active is False
    response = client.post(
        f"/admin/desks/{desk.id}",
        data={"period_start": "2025-01-01", "period_end": "2025-03-31", "transactions": "1200"},
    )
    assert response.status_code == 302
    volume = db.session.scalar(select(TransactionVolume))
    assert volume.transactions == 1200 and volume.period_end == date(2025, 3, 31)
    bad = client.post(
        f"/admin/desks/{desk.id}",
        data={"period_start": "2025-04-01", "period_end": "2025-03-01", "transactions": "5"},
    )
    assert "kết thúc trước khi bắt đầu" in bad.get_data(as_text=True)
    assert db.session.query(TransactionVolume).count() == 1
