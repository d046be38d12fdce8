"""The citizen questionnaire: ``/s/<token>`` (QR), ``/k/<token>`` (kiosk), ``/i/<code>``
(invitation). One page, POST-redirect-GET to a thank-you page, counted once by nonce."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from surveyapp import formatting
from surveyapp.extensions import client_address, csrf, limiter
from surveyapp.forms import respondent
from surveyapp.i18n import current_language
from surveyapp.models.campaigns import Campaign, Channel
from surveyapp.models.invitations import Invitation
from surveyapp.models.receipts import ReceiptCode
from surveyapp.models.units import ServicePoint
from surveyapp.public import bp
from surveyapp.services import abuse, invitations, receipts, submissions

# ---------------------------------------------------------------------------------------------
# Rate limits: per client address and per desk (shared by the QR and kiosk pages).


def _ip_limit() -> str:
    return str(current_app.config["SUBMIT_RATE_LIMIT_IP"])


def _desk_limit() -> str:
    return str(current_app.config["SUBMIT_RATE_LIMIT_DESK"])


def _form_limit() -> str:
    return str(current_app.config["FORM_RATE_LIMIT_IP"])


def _desk_key() -> str:
    return "desk:" + str((request.view_args or {}).get("token", ""))


submit_per_ip = limiter.shared_limit(
    _ip_limit, scope="submit-ip", key_func=client_address, methods=["POST"]
)
submit_per_desk = limiter.shared_limit(
    _desk_limit, scope="submit-desk", key_func=_desk_key, methods=["POST"]
)
pages_per_ip = limiter.shared_limit(
    _form_limit, scope="pages-ip", key_func=client_address, methods=["GET"]
)


# How long a phone may reuse the desk form it was given (Back, or the same link again): the
# same nonce is then recognised. Kiosk pages are never kept; an invitation is one-time anyway
# and its page must say so when it is opened again.
FORM_CACHE_SECONDS = 600

# ---------------------------------------------------------------------------------------------


@dataclass
class Context:
    """Where a form is answered: channel, desk token or invitation, the URLs it uses."""

    channel: Channel
    scope: str  # what the nonce is bound to
    action: str
    thanks: str
    token: str | None = None
    invitation: Invitation | None = None
    _desk: ServicePoint | None = field(default=None, repr=False)
    receipt: ReceiptCode | None = None

    @property
    def kiosk(self) -> bool:
        return self.channel == Channel.KIOSK

    @property
    def desk(self) -> ServicePoint | None:
        """Loaded only when a page shows it (the cached POST path never needs it)."""
        if self._desk is None and self.token is not None:
            self._desk = submissions.desk_by_token(self.token)
        return self._desk


def _same_origin() -> bool:
    """A cross-site POST is refused (the anonymous form has no session to tie a token to)."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    try:
        return urlsplit(origin).netloc == request.host
    except ValueError:  # e.g. "http://[": not a URL, so not this site
        return False


def _dates(campaign: Campaign) -> dict[str, str]:
    return {
        "starts": formatting.date(campaign.starts),
        "ends": formatting.date(campaign.ends),
    }


def _no_store(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return response


def _see_other(url: str) -> Any:
    """POST-redirect-GET to the thank-you page: a 303 with an empty body.

    Flask's ``redirect()`` adds a small HTML page that no browser shows; without it gunicorn
    sends the reply in one write instead of two (headers, then body), on the busiest path.
    """
    return current_app.response_class(status=303, headers={"Location": url})


#: Who answers, as the form names the instrument's respondent types.
RESPONDENT_LABELS = {
    "citizen": _l("Citizen"),
    "organisation": _l("Enterprise or organisation"),
    "official": _l("Leading or managing official"),
}


def _page(ctx: Context, template: str, status: int = 200, **values: Any) -> Any:
    response = make_response(
        render_template(template, ctx=ctx, respondent_labels=RESPONDENT_LABELS, **values), status
    )
    if ctx.kiosk:
        _no_store(response)
    return response


def _form_page(ctx: Context, **values: Any) -> Any:
    response = _page(ctx, "public/survey.html", **values)
    if ctx.channel == Channel.QR:
        # On a phone, Back after sending shows the same form with the same nonce (the
        # browser keeps it), so sending it again is recognised instead of counted twice.
        response.headers["Cache-Control"] = f"private, max-age={FORM_CACHE_SECONDS}"
    return response


def _not_open(ctx: Context, explain: Campaign | None) -> Any:
    status = 200 if request.method == "GET" else 409
    return _page(
        ctx,
        "public/not_open.html",
        status,
        campaign=explain,
        dates=_dates(explain) if explain else None,
        today=formatting.date(submissions.today()),
    )


def _desk_target(ctx: Context) -> submissions.Target | Any:
    """The open campaign for the context's desk, or the page that says why there is none."""
    assert ctx.token is not None
    if request.method == "POST":
        cached = submissions.cached_target(ctx.channel, ctx.token)
        if cached is not None:
            return cached
    desk = ctx.desk
    if desk is None:
        abort(404)
    campaign, explain = submissions.active_campaign(desk.unit, ctx.channel)
    if campaign is None:
        return _not_open(ctx, explain)
    target = submissions.Target(campaign.id, campaign.questionnaire_id, desk.unit_id, desk.id)
    if request.method == "POST":
        submissions.remember_target(ctx.channel, ctx.token, target)
    return target


def _invitation_target(ctx: Context) -> submissions.Target | Any:
    assert ctx.invitation is not None
    campaign = ctx.invitation.campaign
    if not campaign.is_open_on(submissions.today()) or ctx.channel not in campaign.channel_set:
        return _not_open(ctx, campaign)
    return submissions.Target(campaign.id, campaign.questionnaire_id, None, None)


def _receipt(ctx: Context, target: submissions.Target) -> ReceiptCode | Any | None:
    """The desk's receipt code this form rates (``?r=`` on the page, a hidden field when sent),
    None without one, or the page that explains a used or unknown code."""
    if target.desk_id is None:
        return None
    if request.method == "GET":
        text = request.args.get(receipts.PARAM)
    else:
        text = request.form.get(respondent.RECEIPT_FIELD)
    if not text:
        return None
    receipt = receipts.find(target.desk_id, text)
    if receipt is None:
        abort(404)
    if receipt.used:
        return _page(ctx, "public/receipt_used.html", 410)
    return receipt


def _handle(ctx: Context, target: submissions.Target | Any) -> Any:
    if not isinstance(target, submissions.Target):
        return target  # a page explaining why there is no survey here
    spec = submissions.form_spec(target.questionnaire_id)
    receipt = _receipt(ctx, target)
    if receipt is not None and not isinstance(receipt, ReceiptCode):
        return receipt
    ctx.receipt = receipt

    if request.method == "GET":
        return _form_page(
            ctx,
            form=respondent.empty_form(spec),
            spec=spec,
            nonce=submissions.issue_nonce(ctx.scope),
            summary=[],
            answered=0,
        )

    if not _same_origin():
        abort(400)
    nonce = request.form.get(respondent.NONCE_FIELD, "")
    if not submissions.nonce_is_valid(nonce, ctx.scope):
        abort(400)
    try:
        parsed = respondent.parse(spec, request.form)
    except respondent.Refused:
        abort(400)
    if abuse.honeypot_filled(request.form):
        # Looks like success to the robot; nothing is stored.
        return _see_other(ctx.thanks)
    if not parsed.valid:
        return _page(
            ctx,
            "public/survey.html",
            422,
            form=parsed.form,
            spec=spec,
            nonce=nonce,
            summary=parsed.summary,
            answered=sum(1 for c in parsed.answers if spec.by_code[c].is_choice),
        )

    flags = abuse.flags_for(
        parsed.answers,
        spec.rating_codes,
        target.desk_id,
        None if ctx.kiosk else client_address(),
    )
    try:
        submissions.store(
            submissions.Submission(
                campaign_id=target.campaign_id,
                questionnaire_id=target.questionnaire_id,
                channel=ctx.channel,
                nonce=nonce,
                answers=parsed.answers,
                unit_id=target.unit_id,
                service_point_id=target.desk_id,
                language=current_language(),
                flags=flags,
                invitation_id=ctx.invitation.id if ctx.invitation else None,
                receipt_id=receipt.id if receipt else None,
            )
        )
    except submissions.InvitationUsed:
        return _page(ctx, "public/invitation_used.html", 410)
    except submissions.ReceiptUsed:
        return _page(ctx, "public/receipt_used.html", 410)
    return _see_other(ctx.thanks)


def _desk_or_404(token: str) -> ServicePoint:
    desk = submissions.desk_by_token(token)
    if desk is None:
        abort(404)
    return desk


def _lang_args() -> dict[str, Any]:
    """The kiosk keeps the language in the URL, never in a cookie the next person inherits."""
    lang = request.args.get("lang")
    return {"lang": lang} if lang is not None and lang in current_app.config["LANGUAGES"] else {}


@bp.route("/s/<token>", methods=["GET", "POST"])
@csrf.exempt
@submit_per_ip
@submit_per_desk
@pages_per_ip
def survey(token: str) -> Any:
    ctx = Context(
        Channel.QR,
        scope=f"qr:{token}",
        action=url_for("public.survey_send", token=token),
        thanks=url_for("public.thanks", token=token),
        token=token,
    )
    return _handle(ctx, _desk_target(ctx))


# The form posts to its own URL, not the page's: a POST invalidates the browser's cached copy
# of the URL it targets, and the cached form (same nonce) is what Back should show.
bp.add_url_rule("/s/<token>/send", "survey_send", survey, methods=["POST"])


@bp.route("/s/<token>/thanks")
def thanks(token: str) -> Any:
    desk = _desk_or_404(token)
    ctx = Context(Channel.QR, "", "", "", token=token, _desk=desk)
    return _page(ctx, "public/thanks.html")


@bp.route("/k/<token>", methods=["GET", "POST"])
@csrf.exempt
@submit_per_ip
@submit_per_desk
@pages_per_ip
def kiosk(token: str) -> Any:
    ctx = Context(
        Channel.KIOSK,
        scope=f"kiosk:{token}",
        action=url_for("public.kiosk", token=token, **_lang_args()),
        thanks=url_for("public.kiosk_thanks", token=token, **_lang_args()),
        token=token,
    )
    return _handle(ctx, _desk_target(ctx))


@bp.route("/k/<token>/thanks")
def kiosk_thanks(token: str) -> Any:
    desk = _desk_or_404(token)
    ctx = Context(Channel.KIOSK, "", url_for("public.kiosk", token=token), "", token, _desk=desk)
    return _page(ctx, "public/thanks.html")


def _invitation_or_404(code: str) -> Invitation:
    invitation = invitations.find(code)
    if invitation is None:
        abort(404)
    return invitation


def _entry_page(typed: str = "", status: int = 200) -> Any:
    """The form for typing a printed code; with ``typed``, that code was not found."""
    error = _("We could not find this invitation code. Check it against your form.")
    return make_response(
        render_template(
            "public/invitation_entry.html",
            typed=typed[:40],
            error=error if typed else None,
            lang=_lang_args().get("lang"),
        ),
        status,
    )


@bp.route("/i/<code>", methods=["GET", "POST"])
@csrf.exempt
@submit_per_ip
@pages_per_ip
def invitation(code: str) -> Any:
    inv = invitations.find(code)
    if inv is None:
        if request.method == "GET":  # a mistyped link: let the person correct it
            return _entry_page(code, 404)
        abort(404)
    # A language chosen with ?lang= (a link in an English SMS) stays through the post.
    ctx = Context(
        Channel.WEB_INVITE,
        scope=f"web_invite:{inv.code}",
        action=url_for("public.invitation_send", code=inv.code, **_lang_args()),
        thanks=url_for("public.invitation_thanks", code=inv.code, **_lang_args()),
        invitation=inv,
    )
    if inv.used:
        if request.method == "POST" and invitations.answered_with(
            inv, request.form.get(respondent.NONCE_FIELD, "")
        ):
            return _see_other(ctx.thanks)  # a double tap: their answer is saved
        return _page(ctx, "public/invitation_used.html", 410)
    return _handle(ctx, _invitation_target(ctx))


bp.add_url_rule("/i/<code>/send", "invitation_send", invitation, methods=["POST"])


@bp.route("/i/<code>/thanks")
def invitation_thanks(code: str) -> Any:
    inv = _invitation_or_404(code)
    ctx = Context(Channel.WEB_INVITE, "", "", "", invitation=inv)
    return _page(ctx, "public/thanks.html")


@bp.route("/i", methods=["GET"])
def invitation_entry() -> Any:
    """Type a printed code: ``/i?code=ABCDE-12345`` goes to ``/i/ABCDE12345``; a code that
    does not exist comes back in the field with the reason beside it."""
    typed = request.args.get("code", "").strip()
    if not typed:
        return _entry_page()
    inv = invitations.find(typed)
    if inv is None:
        return _entry_page(typed, 404)
    return redirect(url_for("public.invitation", code=inv.code, **_lang_args()), 303)
