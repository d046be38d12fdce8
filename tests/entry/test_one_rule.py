"""One rule, one place (issue 16 §2): which household responded, and how a form's fate is set.

The export, the report's non-response factors and the fieldwork response rates read "which
household responded" from :mod:`surveyapp.data.respondents`; a form's fate changes only
through :meth:`Form.set_fate`.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path

import pytest
from paper_support import answers

from surveyapp.data import queries, respondents
from surveyapp.extensions import db
from surveyapp.models import Channel, Response, ResponseStatus
from surveyapp.models.base import utcnow
from surveyapp.models.sampling import FormFate
from surveyapp.services import batches, entry, sampling

PACKAGE = Path(__file__).resolve().parents[2] / "surveyapp"


def _web(campaign, serial: str | None, nonce: str, status=ResponseStatus.FINAL):  # type: ignore[no-untyped-def]
    response = Response(
        campaign=campaign,
        questionnaire=campaign.questionnaire,
        channel=Channel.WEB_INVITE,
        status=status,
        nonce=nonce,
        serial=serial,
        flags=[],
    )
    db.session.add(response)
    db.session.flush()
    return response


def test_export_factors_and_rates_agree_on_who_responded(paper, runner) -> None:
    campaign, draw = paper
    forms = [f for f in sampling.forms_of(draw.id) if not f.reserve]
    keyed, by_serial, by_invitation, voided, marked = forms[:5]
    entry.finalise(keyed, answers(campaign.questionnaire))
    # answered online: the store copies the form's serial and closes the invitation
    web = _web(campaign, by_serial.serial, "web-serial")
    by_serial.invitation.used_at, by_serial.invitation.response_id = utcnow(), web.id
    # an older online answer that only its invitation links to the form
    old = _web(campaign, None, "web-invitation")
    by_invitation.invitation.used_at, by_invitation.invitation.response_id = utcnow(), old.id
    # a void response is no answer; a fate marked by hand is no answer in the data either
    _web(campaign, voided.serial, "web-void", ResponseStatus.VOID)
    batches.set_fate(marked, FormFate.RETURNED)
    db.session.commit()

    answered = {keyed.id, by_serial.id, by_invitation.id}
    assert respondents.responded_form_ids(campaign.id) == answered
    assert set(respondents.form_of_response(campaign.id).values()) == answered

    result = runner.invoke(
        args=["export-responses", "--campaign", str(campaign.id), "--all-selected"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    with_answers = {r["serial"] for r in rows if r["response_id"]}
    assert with_answers == {keyed.serial, by_serial.serial, by_invitation.serial}
    without = {r["serial"] for r in rows if not r["response_id"]}
    assert without == {f.serial for f in forms} - with_answers
    # the export's factor is the report's factor, village by village
    factors = queries.nonresponse_factors(campaign)
    for row in rows:
        expected = factors.get(row["nr_class"])
        if expected is None:  # a village where nobody answered has no factor
            assert row["nr_factor"] == ""
        else:
            assert float(row["nr_factor"]) == pytest.approx(expected, rel=1e-12)
    villages = {f.household.village.code for f in forms if f.id in answered}
    assert set(factors) == villages

    # Fieldwork rates: the same three, plus the form returned on paper but not keyed yet.
    total = batches.response_rate_summary(campaign)["total"]
    assert total["responded"] == len(answered) + 1
    assert total["selected"] == len(forms)


def test_set_fate_records_the_change_and_its_time(paper) -> None:
    _campaign, draw = paper
    form = next(f for f in sampling.forms_of(draw.id) if not f.reserve)
    before = form.fate_at
    assert form.set_fate(form.fate) is False and form.fate_at == before
    at = datetime(2026, 5, 4, 3, 2, 1)
    assert form.set_fate(FormFate.REFUSED, at) is True
    assert (form.fate, form.fate_at) == (FormFate.REFUSED, at)
    assert form.set_fate(FormFate.NOT_AT_HOME) is True and form.fate_at != at


def test_no_module_sets_a_fate_but_the_model() -> None:
    assignment = re.compile(r"\.fate\s*=[^=]")
    setters = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if assignment.search(path.read_text(encoding="utf-8"))
    )
    assert setters == ["models/sampling.py"]
