"""``surveyapp forms list``: the printed forms with batch, enumerator, fate and keying state,
for supervisors (DESIGN §6)."""

from __future__ import annotations

import csv
import io
import json

from paper_support import answers, make_user

from surveyapp.extensions import db
from surveyapp.models import Batch, FormFate
from surveyapp.services import batches, entry, sampling


def test_forms_list_shows_fate_and_keying_state(runner, paper, tmp_path) -> None:
    campaign, draw = paper
    forms = sampling.forms_of(draw.id)
    main = [f for f in forms if not f.reserve]
    a, b = make_user("keyer-a", "enumerator"), make_user("keyer-b", "enumerator")
    batch = main[0].batch
    batches.assign(batch, a)
    values = answers(campaign.questionnaire)
    entry.save_keying(main[0], a, values, 40)
    entry.save_keying(main[0], b, values, 40)  # final
    entry.save_keying(main[1], a, values, 40)  # keyed once
    entry.save_keying(main[2], a, values, 40)
    entry.save_keying(main[2], b, dict(values, q1=1), 40)  # a conflict
    batches.set_fate(main[3], FormFate.REFUSED)
    db.session.commit()

    result = runner.invoke(
        args=["forms", "list", "--campaign", str(campaign.id), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = {r["serial"]: r for r in json.loads(result.output)}
    assert set(rows) == {f.serial for f in forms}
    assert list(rows[main[0].serial]) == batches.FORM_COLUMNS
    first = rows[main[0].serial]
    assert first["keyed"] is True and first["entry"] == "final" and first["fate"] == "returned"
    assert first["batch"] == batch.id and first["enumerator"] == "keyer-a"
    assert first["village"] == main[0].household.village.code
    assert rows[main[1].serial]["entry"] == "once" and rows[main[1].serial]["keyed"] is False
    assert rows[main[2].serial]["entry"] == "conflict" and not rows[main[2].serial]["keyed"]
    assert rows[main[3].serial]["fate"] == "refused" and rows[main[3].serial]["entry"] == "open"
    reserve = next(f for f in forms if f.reserve)
    assert rows[reserve.serial]["reserve"] is True and rows[reserve.serial]["batch"] is None

    # One batch, as CSV into a file.
    path = tmp_path / "forms.csv"
    result = runner.invoke(
        args=[
            "forms", "list", "--campaign", str(campaign.id), "--batch", str(batch.id),
            "--format", "csv", "--output", str(path),
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [r["serial"] for r in table] == [f.serial for f in batch.forms]
    assert {r["enumerator"] for r in table} == {"keyer-a"}
    assert next(r for r in table if r["serial"] == main[0].serial)["keyed"] == "True"


def test_forms_list_refuses_a_batch_of_another_campaign(runner, paper) -> None:
    campaign, _draw = paper
    last = db.session.query(Batch).order_by(Batch.id.desc()).first()
    assert last is not None
    result = runner.invoke(
        args=["forms", "list", "--campaign", str(campaign.id), "--batch", str(last.id + 1)]
    )
    assert result.exit_code != 0 and f"{last.id + 1}" in result.output
    assert "Traceback" not in result.output
    unknown = runner.invoke(args=["forms", "list", "--campaign", str(campaign.id + 1)])
    assert unknown.exit_code != 0 and "Traceback" not in unknown.output
