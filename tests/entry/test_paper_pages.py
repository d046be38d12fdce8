"""Supervisor pages: frame upload, draw, batches, fates, response rates, print view, Excel."""

from __future__ import annotations

import io

from paper_support import PLAN, answers, frame_csv, login, make_user
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Batch, Form, FormFate, Household, Response
from surveyapp.models.base import utcnow
from surveyapp.services import entry, imports, sampling


def test_supervisor_imports_frame_draws_assigns_and_records_fates(
    campaign, frame_units, client
) -> None:
    make_user("boss", "supervisor")
    enumerator = make_user("enum", "enumerator")
    login(client, "boss")
    bad = client.post(
        "/entry/frame",
        data={"file": (io.BytesIO(b"village,household\nnope,H1\n"), "f.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "Dòng 2, cột village" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Household)) == 0
    ok = client.post(
        "/entry/frame",
        data={"file": (io.BytesIO(frame_csv(frame_units)), "f.csv")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    sizes = client.get("/entry/frame").get_data(as_text=True)
    assert "Tỉnh Đồng Nai" in sizes
    drawn = client.post("/entry/draws", data={"campaign": campaign.id, "plan": PLAN})
    assert drawn.status_code == 302
    assert "Lần chọn mẫu" in client.get("/entry/batches").get_data(as_text=True)
    batch = db.session.scalar(select(Batch).order_by(Batch.id))
    assert (
        client.post(
            "/entry/batches", data={"batch": batch.id, "enumerator": enumerator.id}
        ).status_code
        == 302
    )
    assert {f.fate for f in batch.forms} == {FormFate.HANDED_OUT}
    forms = list(batch.forms)
    fates = {f"fate-{forms[0].id}": "refused", f"fate-{forms[1].id}": "not_at_home"}
    assert client.post(f"/entry/batches/{batch.id}", data=fates).status_code == 302
    db.session.expire_all()
    assert forms[0].fate == FormFate.REFUSED and forms[1].fate == FormFate.NOT_AT_HOME
    # Answered online = the form's invitation was used on /i/<code>.
    forms[2].invitation.used_at = utcnow()
    db.session.commit()
    page = client.get("/entry/batches").get_data(as_text=True)
    assert "Tỷ lệ phản hồi theo điều tra viên" in page and "enum" in page
    from surveyapp.services import batches

    rows = {r["key"]: r for r in batches.response_rates(campaign, "batch")}
    row = rows[f"{batch.id}. {batch.name}"]
    assert row["refused"] == 1 and row["not_at_home"] == 1 and row["answered_online"] == 1
    assert row["rate"] == 1 / len(forms)
    printed = client.get(f"/entry/batches/{batch.id}/print")
    html = printed.get_data(as_text=True)
    assert printed.status_code == 200 and "<style" not in html and "print.css" in html
    assert forms[0].serial in html
    # The enumerator sees their own batch but cannot open the supervisor pages.
    client.post("/logout")
    login(client, "enum")
    assert client.get(f"/entry/batches/{batch.id}").status_code == 200
    assert client.get("/entry/draws").status_code == 403
    assert client.get("/entry/frame").status_code == 403
    # A household that answered online is not keyed on paper.
    refused = client.post("/entry/key", data={"serial": forms[2].serial})
    assert refused.status_code == 422


def test_excel_import_page_and_template_download(paper, client) -> None:
    campaign, draw = paper
    make_user("boss", "supervisor")
    login(client, "boss")
    template = client.get(f"/entry/import/template/{campaign.id}.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    form = next(f for f in sampling.forms_of(draw.id) if not f.reserve)
    header = imports.columns(campaign)
    values = answers(campaign.questionnaire)
    line = ",".join([form.serial, *[str(values[c]) for c in header[1:]]])
    body = (",".join(header) + "\n" + line + "\n").encode()
    done = client.post(
        "/entry/import",
        data={"campaign": campaign.id, "file": (io.BytesIO(body), "keyed.csv")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 302
    again = client.post(
        "/entry/import",
        data={"campaign": campaign.id, "file": (io.BytesIO(body), "keyed.csv")},
        content_type="multipart/form-data",
    )
    assert again.status_code == 422 and "đã được nhập" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    assert entry.state(db.session.get(Form, form.id)) == entry.EntryState.FINAL


def test_a_reserve_household_replaces_one_in_the_batch(paper, client) -> None:
    _campaign, draw = paper
    make_user("boss", "supervisor")
    login(client, "boss")
    form = next(f for f in sampling.forms_of(draw.id) if not f.reserve)
    batch = form.batch
    reserve = next(
        f
        for f in sampling.forms_of(draw.id)
        if f.reserve and f.household.village_id == form.household.village_id
    )
    page = client.get(f"/entry/batches/{batch.id}").get_data(as_text=True)
    assert reserve.serial in page, page[page.find("Record") - 200 :][:3000]
    done = client.post(f"/entry/batches/{batch.id}/replace/{reserve.id}")
    assert done.status_code == 302
    db.session.expire_all()
    assert not reserve.reserve and reserve.batch_id == batch.id
    again = client.post(f"/entry/batches/{batch.id}/replace/{reserve.id}")
    assert again.status_code == 302  # refused with a message: it is no longer a reserve
