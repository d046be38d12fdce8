"""Heads-down entry, double entry, reconciliation, error rates, expired logins."""

from __future__ import annotations

import threading

import pytest
from paper_support import USING_POSTGRES, answers, login, make_user
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import AuditLog, Keying, Response, ResponseStatus, User
from surveyapp.services import ServiceError, entry, reconciliation, sampling


def _form(draw, index: int = 0):  # type: ignore[no-untyped-def]
    return [f for f in sampling.forms_of(draw.id) if not f.reserve][index]


def _post_values(values: dict[str, int | None]) -> dict[str, str]:
    return {k: str(v or 0) for k, v in values.items()}


def test_matching_entries_become_one_final_paper_response(paper) -> None:
    campaign, draw = paper
    form = _form(draw)
    a, b = make_user("keyer-a", "enumerator"), make_user("keyer-b", "enumerator")
    values = answers(campaign.questionnaire)
    values["q7"] = None  # left blank
    first = entry.save_keying(form, a, values, 40)
    assert first.state == entry.EntryState.ONCE and first.response is None
    with pytest.raises(ServiceError):
        entry.save_keying(form, a, values, 40)  # the same keyer cannot key it twice
    second = entry.save_keying(form, b, values, 40)
    db.session.commit()
    assert second.state == entry.EntryState.FINAL
    response = second.response
    assert response.status == ResponseStatus.FINAL and response.channel.value == "paper"
    assert response.nonce == f"paper-{form.serial}" and response.serial == form.serial
    assert (response.stratum, response.psu, response.ssu) == (form.stratum, form.psu, form.ssu)
    assert response.weight == pytest.approx(form.weight)
    assert (response.fpc1, response.fpc2) == (form.fpc1, form.fpc2)
    assert len(response.answers) == len(values) - 1
    assert form.fate.value == "returned" and form.fate_now.value == "returned"
    # The printed invitation code is spent: the household cannot also answer online.
    assert form.invitation.used_at is not None and form.invitation.response_id == response.id
    with pytest.raises(ServiceError):
        entry.save_keying(form, make_user("keyer-c", "enumerator"), values, 40)


def test_mismatch_goes_to_the_verifier_who_decides_and_is_audited(paper) -> None:
    campaign, draw = paper
    form = _form(draw)
    a, b = make_user("keyer-a", "enumerator"), make_user("keyer-b", "enumerator")
    boss = make_user("boss", "supervisor")
    values = answers(campaign.questionnaire)
    other = dict(values, q3=2, sex=1)
    entry.save_keying(form, a, values, 40)
    result = entry.save_keying(form, b, other, 42)
    db.session.commit()
    assert result.state == entry.EntryState.CONFLICT
    assert reconciliation.conflicts() == [form]
    rows = {r["code"]: r for r in reconciliation.comparison(form)}
    assert rows["q3"]["differs"] and rows["q3"]["first"] == 4 and rows["q3"]["second"] == 2
    assert not rows["q1"]["differs"]
    final = dict(values, sex=1)  # the paper: q3 = 4 (keyer b erred), sex = 1 (keyer a erred)
    response = reconciliation.resolve(form, final, boss.id)
    db.session.commit()
    assert response.status == ResponseStatus.FINAL
    log = db.session.scalar(select(AuditLog).where(AuditLog.action == "reconcile"))
    assert log.user_id == boss.id and log.entity_id == form.serial
    assert sorted(log.before["differences"]) == ["q3", "sex"]
    errors = {k.keyer.username: k.errors for k in db.session.scalars(select(Keying))}
    assert errors == {"keyer-a": 1, "keyer-b": 1}
    stats = {r["username"]: r for r in entry.keyer_stats()}
    assert stats["keyer-a"]["per_1000"] == pytest.approx(1000 / 40)
    assert stats["keyer-b"]["per_1000"] == pytest.approx(1000 / 42)
    assert reconciliation.conflicts() == []


def test_invalid_keys_are_refused(paper) -> None:
    campaign, _draw = paper
    data = _post_values(answers(campaign.questionnaire))
    data["q1"], data["sex"], data["occupation"] = "6", "3", "x"
    values, problems = entry.parse_values(campaign.questionnaire, data)
    assert set(problems) == {"q1", "sex", "occupation"}
    data["occupation"] = "7"  # occupation has seven categories
    data["q1"], data["sex"] = "0", "2"
    values, problems = entry.parse_values(campaign.questionnaire, data)
    assert not problems and values["q1"] is None and values["occupation"] == 7


def _web_key(client, serial: str, values: dict[str, int | None], keystrokes: str = "40"):  # type: ignore[no-untyped-def]
    response = client.post("/entry/key", data={"serial": serial})
    assert response.status_code == 302, response.get_data(as_text=True)
    data = _post_values(values)
    review = client.post(f"/entry/key/{serial}", data={**data, "step": "review"})
    assert review.status_code == 200 and 'name="step" value="save"' in review.get_data(as_text=True)
    return client.post(
        f"/entry/key/{serial}", data={**data, "step": "save", "keystrokes": keystrokes}
    )


def test_no_javascript_flow_two_keyers_then_final(paper, client, app) -> None:
    campaign, draw = paper
    form = _form(draw)
    make_user("keyer-a", "enumerator")
    make_user("keyer-b", "enumerator")
    values = answers(campaign.questionnaire)
    page = client.get("/login")
    assert page.status_code == 200
    login(client, "keyer-a")
    bad = client.post(
        "/entry/key", data={"serial": form.serial[:-1] + str((int(form.serial[-1]) + 1) % 10)}
    )
    assert bad.status_code == 422
    saved = _web_key(client, form.serial, values)
    assert saved.status_code == 302 and "saved=" in saved.headers["Location"]
    client.post("/logout")
    login(client, "keyer-b")
    form_page = client.get(f"/entry/key/{form.serial}").get_data(as_text=True)
    assert 'value="4"' not in form_page  # keyer b never sees keyer a's entry
    assert _web_key(client, form.serial, values).status_code == 302
    assert (
        db.session.scalar(
            select(func.count()).select_from(Response).where(Response.serial == form.serial)
        )
        == 1
    )


def test_out_of_range_post_is_refused_and_nothing_saved(paper, client) -> None:
    campaign, draw = paper
    form = _form(draw)
    make_user("keyer-a", "enumerator")
    login(client, "keyer-a")
    data = _post_values(answers(campaign.questionnaire))
    data["q5"] = "9"
    response = client.post(f"/entry/key/{form.serial}", data={**data, "step": "save"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Keying)) == 0


def test_expired_login_keeps_the_typed_answers(paper, app) -> None:
    campaign, draw = paper
    form = _form(draw)
    make_user("keyer-a", "enumerator")
    client = app.test_client()
    data = _post_values(answers(campaign.questionnaire, 5))
    data["q2"] = "0"
    # The login expired: the browser holds no session any more when Enter is pressed.
    response = client.post(
        f"/entry/key/{form.serial}", data={**data, "step": "save", "keystrokes": "40"}
    )
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Keying)) == 0
    after_login = client.post(
        response.headers["Location"], data={"username": "keyer-a", "password": "correct-horse-42"}
    )
    assert after_login.status_code == 302
    assert after_login.headers["Location"].endswith(f"/entry/key/{form.serial}")
    review = client.get(after_login.headers["Location"]).get_data(as_text=True)
    assert 'name="q1" value="5"' in review and 'name="q2" value="0"' in review
    saved = client.post(f"/entry/key/{form.serial}", data={**data, "step": "save"})
    assert saved.status_code == 302
    keying = db.session.scalar(select(Keying))
    assert keying.values["q1"] == 5 and keying.values["q2"] is None


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_stale_csrf_token_shows_the_review_again_instead_of_losing_answers(
    paper, client, app_config
) -> None:
    campaign, draw = paper
    form = _form(draw)
    make_user("keyer-a", "enumerator")
    page = client.get("/login").get_data(as_text=True)
    token = (
        page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        if 'name="csrf_token" type="hidden" value="' in page
        else page.split('name="csrf_token" value="')[1].split('"')[0]
    )
    client.post(
        "/login", data={"username": "keyer-a", "password": "correct-horse-42", "csrf_token": token}
    )
    data = _post_values(answers(campaign.questionnaire))
    response = client.post(
        f"/entry/key/{form.serial}", data={**data, "step": "save", "csrf_token": "stale"}
    )
    assert response.status_code == 200
    assert 'name="q1" value="4"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Keying)) == 0


def test_reconciliation_pages_are_for_supervisors(paper, client) -> None:
    campaign, draw = paper
    form = _form(draw)
    a, b = make_user("keyer-a", "enumerator"), make_user("keyer-b", "enumerator")
    values = answers(campaign.questionnaire)
    entry.save_keying(form, a, values, 40)
    entry.save_keying(form, b, dict(values, q10=1), 40)
    db.session.commit()
    login(client, "keyer-a")
    assert client.get("/entry/reconcile").status_code == 403
    client.post("/logout")
    make_user("boss", "supervisor")
    login(client, "boss")
    page = client.get(f"/entry/reconcile/{form.serial}")
    assert page.status_code == 200 and "q10" in page.get_data(as_text=True)
    done = client.post(f"/entry/reconcile/{form.serial}", data={"q10": "4"})
    assert done.status_code == 302
    response = db.session.scalar(select(Response).where(Response.serial == form.serial))
    assert response is not None and response.status == ResponseStatus.FINAL
    assert client.get("/entry/keyers").status_code == 200


@pytest.mark.skipif(not USING_POSTGRES, reason="threads need a server database")
def test_two_keyers_saving_at_the_same_instant_give_one_final_response(paper, app) -> None:
    campaign, draw = paper
    forms = [f for f in sampling.forms_of(draw.id) if not f.reserve][:6]
    keyers = [make_user("keyer-a", "enumerator").id, make_user("keyer-b", "enumerator").id]
    values = answers(campaign.questionnaire)
    serials = [f.serial for f in forms]
    db.session.commit()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(keyer_id: int) -> None:
        try:
            with app.app_context():
                keyer = db.session.get(User, keyer_id)
                for serial in serials:
                    form = entry.find_form(serial)
                    barrier.wait(timeout=30)
                    entry.save_keying(form, keyer, values, 40)
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            barrier.abort()

    with app.test_request_context():
        threads = [threading.Thread(target=work, args=(k,)) for k in keyers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors
    db.session.expire_all()
    finals = db.session.scalars(select(Response.serial).where(Response.channel == "paper")).all()
    assert sorted(finals) == sorted(serials)  # every form final, exactly once
    assert db.session.scalar(select(func.count()).select_from(Keying)) == 2 * len(serials)
