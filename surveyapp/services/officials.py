"""The officials' survey (PAR INDEX điều tra xã hội học cán bộ, công chức lãnh đạo, quản lý):
the frame of officials by agency, one invitation code each, completion per agency with
reminders, and results by agency through the same analysis engine.

The frame import is all or nothing and audited (the house pattern of services.official). The
codes are ordinary invitations (``/i/<code>``, answered once); an official's answer is found
through their invitation, so completion needs no table of its own. Results: a census of the
listed officials per agency, so the design is stratified by agency with the agency's list as
the population (weight = listed ÷ answered within the agency, the usual non-response
adjustment, and a finite population correction: an agency where everyone answered has no
sampling error).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from typing import Any

import numpy as np
import pandas as pd
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from surveyapp.analysis import AnalysisError, analyze
from surveyapp.data import queries
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign, CampaignChannel, CampaignStatus, Channel
from surveyapp.models.officials import OfficialAgency, OfficialInvitee
from surveyapp.models.questionnaires import Questionnaire, RespondentType
from surveyapp.models.units import Unit, UnitLevel
from surveyapp.services import ServiceError, audit, instruments, invitations, links, scoring
from surveyapp.services.tables import read_table

COLUMNS = (
    "agency_code",
    "agency_name",
    "staff_code",
    "full_name",
    "position",
    "contact_name",
    "contact_email",
)
REQUIRED = ("agency_code", "agency_name", "staff_code", "full_name")
MAX_LEN = {
    "agency_code": 30,
    "agency_name": 200,
    "staff_code": 30,
    "full_name": 200,
    "position": 200,
    "contact_name": 200,
    "contact_email": 254,
}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: An agency is "behind" below this completion rate unless the page or command says otherwise.
BEHIND_BELOW = 0.8

Sender = Callable[[EmailMessage], None]


class FrameImportError(ServiceError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def is_officials_survey(qn: Questionnaire) -> bool:
    return RespondentType.OFFICIAL.value in ((qn.respondent or {}).get("types") or [])


def _require_officials(campaign: Campaign) -> None:
    if not is_officials_survey(campaign.questionnaire):
        raise ServiceError(
            _(
                "Campaign %(name)s does not use an officials' questionnaire (its instrument "
                "does not declare officials as respondents).",
                name=campaign.name,
            )
        )


def create_campaign(name: str, starts: date, ends: date) -> Campaign:
    """An open officials' survey campaign on the PAR INDEX instrument (loaded on first use),
    answered by invitation code, covering the province; audited."""
    if not name.strip() or len(name) > 200:
        raise ServiceError(_("A campaign needs a name of at most 200 characters."))
    if ends < starts:
        raise ServiceError(_("The campaign cannot end before it starts."))
    provinces = list(
        db.session.scalars(select(Unit).where(Unit.level == UnitLevel.PROVINCE).order_by(Unit.id))
    )
    campaign = Campaign(
        name=name.strip(),
        questionnaire=instruments.par_officials(),
        status=CampaignStatus.OPEN,
        starts=starts,
        ends=ends,
        units=provinces[:1],
        channels=[CampaignChannel(channel=Channel.WEB_INVITE)],
    )
    db.session.add(campaign)
    db.session.flush()
    audit.record(
        "create",
        "campaign",
        campaign.id,
        after={"name": campaign.name, "questionnaire": campaign.questionnaire.label,
               "starts": starts.isoformat(), "ends": ends.isoformat()},
    )  # fmt: skip
    return campaign


# ---------------------------------------------------------------------------------------------
# The frame


@dataclass(frozen=True)
class FrameRow:
    agency_code: str
    agency_name: str
    staff_code: str
    full_name: str
    position: str
    contact_name: str
    contact_email: str


def _bad(problems: list[str], row: int, column: str, message: str) -> None:
    problems.append(
        _("Row %(row)d, column %(col)s: %(message)s", row=row, col=column, message=message)
    )


def _parse_row(number: int, values: dict[str, str], problems: list[str]) -> FrameRow | None:
    before = len(problems)
    text = {c: values.get(c, "").strip() for c in COLUMNS}
    for column in REQUIRED:
        if not text[column]:
            _bad(problems, number, column, _("a value is required."))
    for column, limit in MAX_LEN.items():
        if len(text[column]) > limit:
            _bad(problems, number, column, _("at most %(n)d characters.", n=limit))
    email = text["contact_email"]
    if email and not EMAIL_RE.match(email):
        _bad(
            problems, number, "contact_email", _("%(value)r is not an e-mail address.", value=email)
        )
    if len(problems) > before:
        return None
    return FrameRow(**text)


def parse_frame(data: bytes, filename: str) -> list[FrameRow]:
    """Every row of a CSV/XLSX list of officials, or :class:`FrameImportError` naming each bad
    cell by row and column (nothing is taken from a file with any problem)."""
    table = read_table(data, filename)
    header = {h.lower() for h in table.header}
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise FrameImportError(
            [_("The file lacks the column(s): %(columns)s.", columns=", ".join(missing))]
        )
    problems: list[str] = []
    rows: list[FrameRow] = []
    seen: dict[tuple[str, str], int] = {}
    agency_names: dict[str, tuple[str, int]] = {}
    for number, values in table.rows:
        parsed = _parse_row(number, {k.lower(): v for k, v in values.items()}, problems)
        if parsed is None:
            continue
        key = (parsed.agency_code, parsed.staff_code)
        if key in seen:
            problems.append(
                _(
                    "Row %(row)d, column staff_code: official %(code)s of agency %(agency)s "
                    "is already on row %(first)d.",
                    row=number,
                    code=parsed.staff_code,
                    agency=parsed.agency_code,
                    first=seen[key],
                )
            )
            continue
        named = agency_names.setdefault(parsed.agency_code, (parsed.agency_name, number))
        if named[0] != parsed.agency_name:
            _bad(
                problems,
                number,
                "agency_name",
                _(
                    "agency %(code)s is called %(name)r on row %(first)d.",
                    code=parsed.agency_code,
                    name=named[0],
                    first=named[1],
                ),
            )
            continue
        seen[key] = number
        rows.append(parsed)
    if not rows and not problems:
        problems.append(_("The file has no rows."))
    if problems:
        raise FrameImportError(problems)
    return rows


def _agency_snapshot(agency: OfficialAgency) -> dict[str, object]:
    return {
        "campaign_id": agency.campaign_id,
        "code": agency.code,
        "name": agency.name,
        "contact_name": agency.contact_name,
        "contact_email": agency.contact_email,
    }


def _official_snapshot(person: OfficialInvitee) -> dict[str, object]:
    return {
        "agency_id": person.agency_id,
        "staff_code": person.staff_code,
        "full_name": person.full_name,
        "position": person.position,
    }


@dataclass
class FrameImport:
    agencies: int = 0
    added: int = 0
    updated: int = 0

    def __len__(self) -> int:
        return self.added + self.updated


def save_frame(campaign: Campaign, rows: list[FrameRow]) -> FrameImport:
    """Add or update agencies and officials (keyed by agency code and staff code), audited.
    Officials already listed and not in the file stay: a list is completed, never shrunk
    by an import (their codes may be in use)."""
    _require_officials(campaign)
    agencies = {
        a.code: a
        for a in db.session.scalars(
            select(OfficialAgency).where(OfficialAgency.campaign_id == campaign.id)
        )
    }
    result = FrameImport()
    touched: set[str] = set()
    for row in rows:
        agency = agencies.get(row.agency_code)
        if agency is None:
            agency = OfficialAgency(campaign=campaign, code=row.agency_code, name=row.agency_name)
            db.session.add(agency)
            agencies[row.agency_code] = agency
            before = None
        else:
            before = _agency_snapshot(agency)
        if row.agency_code not in touched:
            agency.name = row.agency_name
            if row.contact_email or row.contact_name:
                agency.contact_name = row.contact_name or None
                agency.contact_email = row.contact_email or None
            db.session.flush()
            after = _agency_snapshot(agency)
            if after != before:
                audit.record("import", "official_agency", agency.id, before=before, after=after)
            touched.add(row.agency_code)
        person = next((p for p in agency.officials if p.staff_code == row.staff_code), None)
        person_before = _official_snapshot(person) if person is not None else None
        if person is None:
            person = OfficialInvitee(agency=agency, staff_code=row.staff_code, full_name="")
            db.session.add(person)
        person.full_name = row.full_name
        person.position = row.position or None
        db.session.flush()
        person_after = _official_snapshot(person)
        if person_before is None:
            result.added += 1
        elif person_after != person_before:
            result.updated += 1
        if person_after != person_before:
            audit.record(
                "import", "official_invitee", person.id, before=person_before, after=person_after
            )
    result.agencies = len(touched)
    return result


def import_frame(campaign: Campaign, data: bytes, filename: str) -> FrameImport:
    """All rows of the file, or none (:class:`FrameImportError`)."""
    return save_frame(campaign, parse_frame(data, filename))


def template() -> bytes:
    """A CSV with the columns and two example rows (UTF-8 with BOM for Excel)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow(
        ["SNV", "Sở Nội vụ", "CB001", "Nguyễn Văn An", "Giám đốc Sở", "Trần Thị Bình",
         "vanphong.snv@example.gov.vn"]
    )  # fmt: skip
    writer.writerow(["SNV", "Sở Nội vụ", "CB002", "Lê Thị Cúc", "Trưởng phòng CCHC", "", ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def agencies(campaign: Campaign) -> list[OfficialAgency]:
    return list(
        db.session.scalars(
            select(OfficialAgency)
            .where(OfficialAgency.campaign_id == campaign.id)
            .order_by(OfficialAgency.code)
        )
    )


# ---------------------------------------------------------------------------------------------
# Codes


def issue_codes(campaign: Campaign) -> int:
    """One invitation code for every listed official who has none yet; audited. Returns how
    many were issued."""
    _require_officials(campaign)
    waiting = [p for a in agencies(campaign) for p in a.officials if p.invitation_id is None]
    if not waiting:
        return 0
    created = invitations.create(campaign, len(waiting))
    for person, invitation in zip(waiting, created, strict=True):
        person.invitation = invitation
    db.session.flush()
    audit.record(
        "issue_codes",
        "campaign",
        campaign.id,
        after={"codes": len(created), "officials": [p.id for p in waiting]},
    )
    return len(created)


@dataclass(frozen=True)
class CodeRow:
    agency_code: str
    agency_name: str
    staff_code: str
    full_name: str
    position: str
    code: str  # printed, in groups of five
    url: str
    answered: bool


def code_list(campaign: Campaign, agency_code: str | None = None) -> list[CodeRow]:
    """The officials with a code, by agency then staff code."""
    rows = []
    for agency in agencies(campaign):
        if agency_code and agency.code != agency_code:
            continue
        for person in sorted(agency.officials, key=lambda p: p.staff_code):
            inv = person.invitation
            if inv is None:
                continue
            rows.append(
                CodeRow(
                    agency.code,
                    agency.name,
                    person.staff_code,
                    person.full_name,
                    person.position or "",
                    inv.printed,
                    links.invitation_url(inv.code),
                    inv.used,
                )
            )
    return rows


def codes_csv(rows: list[CodeRow]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["agency_code", "agency_name", "staff_code", "full_name", "position", "code", "url",
         "answered"]
    )  # fmt: skip
    for r in rows:
        writer.writerow(
            [r.agency_code, r.agency_name, r.staff_code, r.full_name, r.position, r.code, r.url,
             "1" if r.answered else "0"]
        )  # fmt: skip
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def codes_pdf(campaign: Campaign, rows: list[CodeRow]) -> bytes:
    """A printable list (A4, DejaVu Sans for the Vietnamese letters): one block per agency,
    one line per official with the code and the address to type it at."""
    from fpdf import FPDF

    from surveyapp.services.qr import font_path

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(campaign.name)
    pdf.set_creator("surveyapp")
    pdf.add_font("DejaVu", "", str(font_path(False)))
    pdf.add_font("DejaVu", "B", str(font_path(True)))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(0, 7, campaign.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(
        0,
        5,
        _(
            "Each official opens %(url)s and types their own code; a code answers once.",
            url=f"{links.base_url()}/i",
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    current = None
    widths = (22, 62, 52, 44)
    for r in rows:
        if r.agency_code != current:
            current = r.agency_code
            pdf.ln(3)
            pdf.set_font("DejaVu", "B", 11)
            pdf.multi_cell(
                0, 6, f"{r.agency_name} ({r.agency_code})", new_x="LMARGIN", new_y="NEXT"
            )
            pdf.set_font("DejaVu", "B", 9)
            for width, head in zip(
                widths, (_("Staff code"), _("Full name"), _("Position"), _("Code")), strict=True
            ):
                pdf.cell(width, 6, head, border=1)
            pdf.ln()
            pdf.set_font("DejaVu", "", 9)
        for width, value in zip(
            widths, (r.staff_code, r.full_name[:40], r.position[:32], r.code), strict=True
        ):
            pdf.cell(width, 6, value, border=1)
        pdf.ln()
    return bytes(pdf.output())


# ---------------------------------------------------------------------------------------------
# Completion and reminders


@dataclass(frozen=True)
class Completion:
    agency_id: int
    code: str
    name: str
    contact_email: str | None
    listed: int
    invited: int
    answered: int

    @property
    def rate(self) -> float | None:
        return self.answered / self.invited if self.invited else None

    def behind(self, below: float) -> bool:
        return self.invited > 0 and (self.rate or 0.0) < below


def completion(campaign: Campaign) -> list[Completion]:
    """Per agency: officials listed, invited (with a code) and answered (code used)."""
    out = []
    for agency in agencies(campaign):
        invited = [p.invitation for p in agency.officials if p.invitation is not None]
        out.append(
            Completion(
                agency.id,
                agency.code,
                agency.name,
                agency.contact_email,
                len(agency.officials),
                len(invited),
                sum(1 for inv in invited if inv.used),
            )
        )
    return out


def totals(rows: list[Completion]) -> Completion:
    return Completion(
        0,
        "",
        _("All agencies"),
        None,
        sum(r.listed for r in rows),
        sum(r.invited for r in rows),
        sum(r.answered for r in rows),
    )


def parse_below(text: str | None) -> float:
    """A completion threshold typed as 80, 80% or 0.8; :class:`ServiceError` otherwise."""
    if text is None or not text.strip():
        return BEHIND_BELOW
    raw = text.strip().rstrip("%").replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        raise ServiceError(_("%(value)r is not a completion rate.", value=text)) from None
    if value > 1:
        value /= 100
    if not 0 < value <= 1:
        raise ServiceError(_("A completion rate is between 0 and 100%%."))
    return value


@dataclass
class Reminder:
    agency: Completion
    codes: list[CodeRow]
    emailed: bool = False
    error: str | None = None


@dataclass
class RemindResult:
    reminders: list[Reminder] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(1 for r in self.reminders if r.emailed)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.reminders if r.error)


def _message(campaign: Campaign, reminder: Reminder) -> tuple[str, str]:
    agency = reminder.agency
    subject = _(
        "%(campaign)s: %(n)d officials of %(agency)s have not answered yet",
        campaign=campaign.name,
        n=len(reminder.codes),
        agency=agency.name,
    )
    lines = [
        _(
            "%(answered)d of %(invited)d invited officials of %(agency)s have answered. "
            "Please remind these officials to answer with their own code:",
            answered=agency.answered,
            invited=agency.invited,
            agency=agency.name,
        ),
        "",
    ]
    lines += [f"- {c.full_name} ({c.staff_code}): {c.code} {c.url}" for c in reminder.codes]
    return subject, "\n".join(lines)


def remind(
    campaign: Campaign,
    below: float = BEHIND_BELOW,
    sender: Sender | None = None,
    agency_codes: list[str] | None = None,
) -> RemindResult:
    """For every agency behind (or those named), the codes not yet answered; e-mailed to the
    agency's contact when one is configured and SMTP is set (``SURVEYAPP_SMTP_*``); each
    reminder audited with what was listed and whether it was sent."""
    from surveyapp.services.alerts import smtp_sender

    _require_officials(campaign)
    send = sender or (smtp_sender if current_app.config.get("SMTP_HOST") else None)
    result = RemindResult()
    open_codes: dict[str, list[CodeRow]] = {}
    for row in code_list(campaign):
        if not row.answered:
            open_codes.setdefault(row.agency_code, []).append(row)
    for agency in completion(campaign):
        chosen = agency.code in agency_codes if agency_codes else agency.behind(below)
        if not chosen or not open_codes.get(agency.code):
            continue
        reminder = Reminder(agency, open_codes[agency.code])
        if agency.contact_email and send is not None:
            subject, body = _message(campaign, reminder)
            message = EmailMessage()
            message["Subject"] = subject
            message["From"] = current_app.config["SMTP_FROM"]
            message["To"] = agency.contact_email
            message.set_content(body)
            try:
                send(message)
                reminder.emailed = True
            except OSError as exc:  # smtplib.SMTPException is an OSError
                reminder.error = str(exc)[:300]
        audit.record(
            "remind",
            "official_agency",
            agency.agency_id,
            after={
                "not_answered": [c.staff_code for c in reminder.codes],
                "rate": agency.rate,
                "emailed_to": agency.contact_email if reminder.emailed else None,
                "error": reminder.error,
            },
        )
        result.reminders.append(reminder)
    db.session.flush()
    return result


# ---------------------------------------------------------------------------------------------
# Results by agency


@dataclass(frozen=True)
class AgencyResult:
    code: str  # "" for the whole province
    name: str
    answered: int
    nodes: list[scoring.NodeScore]


@dataclass(frozen=True)
class Results:
    campaign: Campaign
    rows: list[AgencyResult]
    rules: dict[str, str]
    message: str | None = None
    # Agencies with codes but no answer yet: outside every estimate, the province's included
    # (it then stands for the agencies that answered, each weighted by its list).
    unanswered: tuple[str, ...] = ()


def results(campaign: Campaign, level: float = 0.95) -> Results:
    """Each index node per agency and for the whole list, on the instrument's scales."""
    _require_officials(campaign)
    qn = campaign.questionnaire
    rule_text = scoring.rule_text(qn)
    items = scoring.rated_items(qn)
    frame = queries.response_frame(campaign, [Channel.WEB_INVITE], items)
    by_response = {
        inv.response_id: agency
        for agency in agencies(campaign)
        for person in agency.officials
        if (inv := person.invitation) is not None and inv.response_id is not None
    }
    listed = {a.code: sum(1 for p in a.officials if p.invitation_id) for a in agencies(campaign)}
    names = {a.code: a.name for a in agencies(campaign)}
    frame = frame[frame["response_id"].isin(list(by_response))].copy()
    if frame.empty:
        return Results(campaign, [], rule_text, _("No official has answered yet."))
    frame["agency"] = [by_response[int(r)].code for r in frame["response_id"]]
    answered = frame["agency"].value_counts()
    frame["listed"] = frame["agency"].map(listed).astype(np.float64)
    frame["w"] = frame["listed"] / frame["agency"].map(answered).astype(np.float64)
    spec_scored = scoring.scored(qn, frame, by="agency", national=True, level=level, ci="logit")
    frame = pd.concat([frame, pd.DataFrame(spec_scored.columns, index=frame.index)], axis=1)
    try:
        result = analyze(
            frame,
            spec_scored.spec,
            weight="w",
            strata="agency",
            fpc=("listed",),
            lonely_psu="certainty",
        )
    except AnalysisError as exc:
        return Results(campaign, [], rule_text, str(exc))
    silent = tuple(
        names[code] for code, n in sorted(listed.items()) if n and code not in answered.index
    )
    rows = [
        AgencyResult(
            "",
            _("All agencies"),
            len(frame),
            scoring.node_scores(qn, result, spec_scored.max_points),
        )
    ]
    for code in sorted(answered.index):
        rows.append(
            AgencyResult(
                code,
                names.get(code, code),
                int(answered[code]),
                scoring.node_scores(qn, result, spec_scored.max_points, code),
            )
        )
    return Results(campaign, rows, rule_text, unanswered=silent)


def results_table(res: Results) -> list[dict[str, Any]]:
    """The results as flat rows (CLI, JSON): one per agency and node."""
    out = []
    for row in res.rows:
        for node in row.nodes:
            out.append(
                {
                    "agency": row.code or "*",
                    "agency_name": row.name,
                    "answered": row.answered,
                    "node": node.code,
                    "share": node.share,
                    "ci_low": node.ci_low,
                    "ci_high": node.ci_high,
                    "points": node.points,
                    "max_points": node.max_points,
                }
            )
    return out
