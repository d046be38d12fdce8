"""Read models for campaigns: summaries for the CLI, admin and API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from surveyapp.data.queries import final
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign, Channel
from surveyapp.models.questionnaires import Questionnaire
from surveyapp.models.responses import Response, ResponseStatus
from surveyapp.models.units import Unit, UnitLevel


def final_counts() -> dict[int, int]:
    stmt = (
        select(Response.campaign_id, func.count())
        .where(Response.status == ResponseStatus.FINAL)
        .group_by(Response.campaign_id)
    )
    return {cid: n for cid, n in db.session.execute(stmt)}


def final_counts_by_channel(campaign: Campaign, channels: Any) -> int:
    """Final responses of ``campaign`` in a sample or on channels (a ``queries.Selection``)."""
    stmt = select(func.count()).where(*final(campaign, channels))
    return int(db.session.scalar(stmt) or 0)


def has_final(campaign: Campaign, channels: Any) -> bool:
    """Whether ``campaign`` has a final response in a sample or on channels: one index probe,
    where :func:`final_counts_by_channel` counts them all."""
    return (
        db.session.scalar(select(Response.id).where(*final(campaign, channels)).limit(1))
        is not None
    )


def channel_counts(campaign: Campaign) -> dict[str, int]:
    """Final responses of ``campaign`` per channel value."""
    stmt = (
        select(Response.channel, func.count())
        .where(Response.campaign_id == campaign.id, Response.status == ResponseStatus.FINAL)
        .group_by(Response.channel)
    )
    return {Channel(channel).value: n for channel, n in db.session.execute(stmt)}


def summaries() -> list[dict[str, Any]]:
    counts = final_counts()
    return [
        {
            "id": c.id,
            "name": c.name,
            "questionnaire": c.questionnaire.label,
            "status": c.status.value,
            "starts": c.starts.isoformat(),
            "ends": c.ends.isoformat(),
            "responses": counts.get(c.id, 0),
        }
        for c in db.session.scalars(select(Campaign).order_by(Campaign.id))
    ]


def target_rows(campaign: Campaign, lang: str = "vi") -> list[dict[str, Any]]:
    """Targets in the order of the index tree, as the provincial plans list them."""
    by_node = {t.index_node_id: t for t in campaign.targets}
    rows = []
    for node in campaign.questionnaire.index_nodes:
        target = by_node.get(node.id)
        if target is None:
            continue
        rows.append(
            {
                "id": target.id,
                "code": node.code,
                "level": node.level.value,
                "name": node.name.get(lang) or node.name["vi"],
                "previous_pct": None if target.previous_pct is None else float(target.previous_pct),
                "previous_rank": target.previous_rank,
                "target_pct": float(target.target_pct),
                "target_rank": target.target_rank,
            }
        )
    return sorted(rows, key=lambda r: code_key(r["code"]))


def code_key(code: str) -> list[int]:
    """Sort 1, 1.1 … 1.4, 2, 2.1 … numerically; non-numeric codes (overall) last."""
    return [int(p) if p.isdigit() else 10**6 for p in code.split(".")]


def filter_units(campaign: Campaign) -> list[Unit]:
    """Units an analyst can narrow the dashboard to: the campaign's units and the units one
    level below a province (its communes on the two-tier structure, its districts on the
    historical one); never the villages of the sample frame."""
    out: list[Unit] = []
    todo = list(campaign.units)
    while todo:
        unit = todo.pop(0)
        existed = unit.valid_on(campaign.starts)  # not the old districts of a later campaign
        if unit.level != UnitLevel.VILLAGE and existed and unit not in out:
            out.append(unit)
        if unit.parent_id is None:
            todo.extend(unit.children)
    return out


# The channels whose answers form one sample (DESIGN §4): they must ask one questionnaire.
SAMPLE_CHANNELS = {
    "paper and invitations": (Channel.PAPER, Channel.WEB_INVITE),
    "QR and kiosk": (Channel.QR, Channel.KIOSK),
}
SAMPLE_CHANNELS_VI = {
    "paper and invitations": "phiếu giấy và thư mời",
    "QR and kiosk": "mã QR và máy tại quầy",
}


def questionnaires() -> list[Questionnaire]:
    return list(
        db.session.scalars(
            select(Questionnaire).order_by(Questionnaire.code, Questionnaire.version)
        )
    )


def set_channel_questionnaires(
    campaign: Campaign, chosen: dict[Channel, int | None], user: int | None = None
) -> list[str]:
    """Choose the questionnaire each channel asks (None: the campaign's own); audited.

    Refused, with nothing changed: an unknown questionnaire or channel, another questionnaire
    on paper (the campaign's own is the paper questionnaire), two channels of one
    sample asking different questionnaires (a sample is analysed with one questionnaire),
    and a change on a channel that already has answers to another questionnaire. Returns
    the channels changed.
    """
    from surveyapp.services import ServiceError, audit

    by_channel = {c.channel: c for c in campaign.channels}
    resolved: dict[Channel, int] = {c: item.asks.id for c, item in by_channel.items()}
    for channel, qn_id in chosen.items():
        if channel not in by_channel:
            raise ServiceError(
                f"Kênh {channel.value} không thuộc đợt khảo sát này / "
                f"channel {channel.value} is not one of this campaign's"
            )
        if qn_id is not None and db.session.get(Questionnaire, qn_id) is None:
            raise ServiceError(f"Không có bảng hỏi số {qn_id} / no questionnaire with id {qn_id}")
        resolved[channel] = qn_id if qn_id is not None else campaign.questionnaire_id
        if channel == Channel.PAPER and resolved[channel] != campaign.questionnaire_id:
            # Printing, keying, importing and reconciling paper forms use the campaign's
            # questionnaire: it is the paper questionnaire.
            raise ServiceError(
                "Phiếu giấy luôn dùng bảng hỏi chung của đợt khảo sát / paper forms always "
                "use the campaign's questionnaire"
            )
    for name, channels in SAMPLE_CHANNELS.items():
        asked = {resolved[c] for c in channels if c in resolved}
        if len(asked) > 1:
            raise ServiceError(
                f"Các kênh {SAMPLE_CHANNELS_VI[name]} thuộc cùng một mẫu nên phải dùng "
                f"cùng một bảng hỏi / the {name} channels form one sample and must use "
                "one questionnaire"
            )
    changed: list[str] = []
    for channel, qn_id in chosen.items():
        item = by_channel[channel]
        if resolved[channel] == item.asks.id:
            continue
        answered = db.session.scalar(
            select(func.count()).where(
                Response.campaign_id == campaign.id,
                Response.channel == channel,
                Response.questionnaire_id != resolved[channel],
            )
        )
        if answered:
            raise ServiceError(
                f"Kênh {channel.value} đã có {answered} phiếu trả lời theo bảng hỏi khác, "
                f"không đổi bảng hỏi được / channel {channel.value} already has {answered} "
                "answers to another questionnaire"
            )
        before = item.asks.label
        item.questionnaire_id = qn_id if qn_id != campaign.questionnaire_id else None
        db.session.flush()
        db.session.expire(item, ["questionnaire"])
        audit.record(
            "channel_questionnaire",
            "campaign",
            campaign.id,
            before={"channel": channel.value, "questionnaire": before},
            after={"channel": channel.value, "questionnaire": item.asks.label},
            user_id=user,
        )
        changed.append(channel.value)
    return changed
