"""Keyed paper forms from Excel: the downloadable template and the all-or-nothing import."""

from __future__ import annotations

import io
from pathlib import Path

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select

from surveyapp import xlsx
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.questionnaires import Question, text_in
from surveyapp.models.responses import Response
from surveyapp.models.sampling import Form
from surveyapp.services import ServiceError, audit
from surveyapp.services.entry import allowed_keys, finalise, keyed_questions, nonce_for
from surveyapp.services.frame import ImportProblems
from surveyapp.services.sampling import serial_is_valid
from surveyapp.services.tables import read_table

SHEET = "Phieu"
TEMPLATE_ROWS = 2000


def columns(campaign: Campaign) -> list[str]:
    return ["serial", *(q.code for q in keyed_questions(campaign.questionnaire))]


def template(campaign: Campaign) -> bytes:
    """An XLSX with the header row, Vietnamese item text and a drop-down list per column."""
    qn = campaign.questionnaire
    questions = keyed_questions(qn)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    xlsx.append(ws, columns(campaign))
    ws.freeze_panes = "B2"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    ws.cell(1, 1).comment = Comment("Số phiếu (7 chữ số, chữ số cuối là số kiểm tra)", "SIPAS")
    serial_rule = DataValidation(
        type="textLength", operator="between", formula1="2", formula2="20", allow_blank=True
    )
    ws.add_data_validation(serial_rule)
    serial_rule.add(f"A2:A{TEMPLATE_ROWS}")
    ws.column_dimensions["A"].width = 12
    for index, q in enumerate(questions, start=2):
        letter = get_column_letter(index)
        cell = ws.cell(1, index)
        options = "; ".join(
            f"{o.value} = {text_in(o.label, 'vi')}"
            for o in (q.option_set.options if q.option_set else [])
        )
        cell.comment = Comment(f"{text_in(q.text, 'vi')}\n{options}\n0 = để trống", "SIPAS")
        keys = ",".join(str(k) for k in allowed_keys(q))
        rule = DataValidation(type="list", formula1=f'"{keys}"', allow_blank=True)
        rule.error = f"Chỉ nhập một trong các số {keys}"
        rule.errorTitle = "Giá trị không hợp lệ"
        rule.showErrorMessage = True
        ws.add_data_validation(rule)
        rule.add(f"{letter}2:{letter}{TEMPLATE_ROWS}")
        ws.column_dimensions[letter].width = 6 if q.code.startswith("q") else 11
    for cell in ws[1]:
        cell.font = bold
        cell.fill = fill

    guide = wb.create_sheet("Huong dan")
    xlsx.append(guide, ["Mã", "Câu hỏi", "Giá trị được nhập"])
    for cell in guide[1]:
        cell.font = bold
    xlsx.append(guide, ["serial", "Số phiếu in trên phiếu khảo sát", "7 chữ số"])
    for q in questions:
        options = "; ".join(
            f"{o.value} = {text_in(o.label, 'vi')}"
            for o in (q.option_set.options if q.option_set else [])
        )
        xlsx.append(
            guide,
            [q.code, text_in(q.text, "vi"), f"{options}; 0 hoặc để trống = không trả lời"],
        )
    guide.column_dimensions["A"].width = 12
    guide.column_dimensions["B"].width = 80
    guide.column_dimensions["C"].width = 60
    for row in guide.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _where(sheet: str | None, row: int, column: str, header: list[str], reason: str) -> str:
    letter = get_column_letter(header.index(column) + 1) if column in header else "?"
    return _(
        "Sheet %(sheet)s, row %(row)d, column %(col)s (%(letter)s): %(reason)s",
        sheet=sheet or "CSV",
        row=row,
        col=column,
        letter=letter,
        reason=reason,
    )


def import_responses(campaign: Campaign, data: bytes, filename: str) -> list[Response]:
    """Validate every row, then create every final response; any problem stores nothing."""
    table = read_table(data, filename)
    expected = columns(campaign)
    sheet = table.sheet
    header = table.header
    _check_header(sheet, header, expected)
    questions = keyed_questions(campaign.questionnaire)
    forms = {
        f.serial: f for f in db.session.scalars(select(Form).where(Form.campaign_id == campaign.id))
    }
    final = set(
        db.session.scalars(
            select(Response.nonce).where(Response.nonce.in_([nonce_for(s) for s in forms]))
        )
    )
    problems: list[str] = []
    seen: dict[str, int] = {}
    accepted: list[tuple[Form, dict[str, int | None]]] = []
    for number, values in table.rows:
        serial = values.get("serial", "").replace(" ", "")
        form = forms.get(serial)
        problem = _serial_problem(serial, form, seen, final)
        row_problems = [] if problem is None else [_where(sheet, number, "serial", header, problem)]
        seen.setdefault(serial, number)
        answers, bad = _answers(values, questions)
        row_problems += [_where(sheet, number, code, header, reason) for code, reason in bad]
        problems.extend(row_problems)
        if not row_problems and form is not None:
            accepted.append((form, answers))
    if problems:
        raise ImportProblems(problems)
    if not accepted:
        raise ImportProblems([_("The file has no rows.")])
    responses = []
    for form, answers in accepted:
        response = finalise(form, answers)
        response.flags = ["imported"]
        responses.append(response)
    db.session.flush()
    audit.record(
        "import",
        "responses",
        campaign.id,
        after={"file": filename, "serials": [f.serial for f, _a in accepted]},
    )
    return responses


def _check_header(sheet: str | None, header: list[str], expected: list[str]) -> None:
    """Refuse a file whose header lacks a column or has one this campaign does not know."""
    problems: list[str] = []
    missing = [c for c in expected if c not in header]
    unknown = [h for h in header if h and h not in expected]
    if missing:
        problems.append(
            _(
                "Sheet %(sheet)s: missing columns %(columns)s.",
                sheet=sheet or "CSV",
                columns=", ".join(missing),
            )
        )
    if unknown:
        problems.append(
            _(
                "Sheet %(sheet)s: unknown columns %(columns)s.",
                sheet=sheet or "CSV",
                columns=", ".join(unknown),
            )
        )
    if problems:
        raise ImportProblems(problems)


def _serial_problem(
    serial: str, form: Form | None, seen: dict[str, int], final: set[str]
) -> str | None:
    """Why a row's serial cannot be imported, or None."""
    if not serial_is_valid(serial):
        return _("the serial or its check digit is wrong.")
    if form is None:
        return _("no form of this campaign has this serial.")
    if serial in seen:
        return _("repeats row %(row)d.", row=seen[serial])
    if nonce_for(serial) in final:
        return _("this form has already been entered.")
    if form.invitation is not None and form.invitation.used_at is not None:
        return _("this household answered online.")
    return None


def _answers(
    values: dict[str, str], questions: list[Question]
) -> tuple[dict[str, int | None], list[tuple[str, str]]]:
    """A row's answers by question code (blank and 0 are no answer), and (code, reason) for
    each value that is not one of the question's keys."""
    answers: dict[str, int | None] = {}
    bad: list[tuple[str, str]] = []
    for q in questions:
        raw = values.get(q.code, "")
        allowed = allowed_keys(q)
        if raw == "":
            answers[q.code] = None
        elif raw.isdigit() and int(raw) in allowed:
            answers[q.code] = int(raw) or None
        else:
            reason = _(
                "%(value)s is not allowed: type one of %(keys)s.",
                value=raw,
                keys=", ".join(str(k) for k in allowed),
            )
            bad.append((q.code, reason))
    return answers, bad


def import_file(campaign: Campaign, path: str | Path) -> list[Response]:
    path = Path(path)
    if not path.exists():
        raise ServiceError(_("File %(name)s not found.", name=str(path)))
    return import_responses(campaign, path.read_bytes(), path.name)
