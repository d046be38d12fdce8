"""The printable forms: A4, one form per page, serial and invitation code with its QR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import segno
from flask import render_template

from surveyapp.models.questionnaires import QuestionType, text_in
from surveyapp.models.sampling import Batch, Form
from surveyapp.services import links


def invitation_url(form: Form) -> str:
    assert form.invitation is not None
    return links.invitation_url(form.invitation.code)


def qr_data_uri(url: str) -> str:
    """An SVG QR code as a data URI (the CSP allows ``img-src data:``; no file, no CDN)."""
    return str(segno.make(url, error="m").svg_data_uri(scale=3, border=2))


def sections(form: Form) -> list[dict[str, Any]]:
    qn = form.campaign.questionnaire
    out = []
    for section in qn.sections:
        questions = [q for q in section.questions if q.type != QuestionType.TEXT]
        texts = [q for q in section.questions if q.type == QuestionType.TEXT]
        out.append({"section": section, "questions": questions, "texts": texts})
    return out


PRINT_CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "print.css"


def render_forms(forms: list[Form], batch: Batch | None = None, standalone: bool = False) -> str:
    """The print view; ``standalone`` inlines the stylesheet for a file opened offline."""
    pages = [
        {
            "form": form,
            "url": invitation_url(form) if form.invitation else None,
            "qr": qr_data_uri(invitation_url(form)) if form.invitation else None,
            "sections": sections(form),
        }
        for form in forms
    ]
    likert = forms[0].campaign.questionnaire.questions[0].option_set if forms else None
    inline_css = PRINT_CSS.read_text(encoding="utf-8") if standalone else None
    return render_template(
        "entry/print.html",
        pages=pages,
        batch=batch,
        likert=likert,
        inline_css=inline_css,
        text_in=text_in,
    )
