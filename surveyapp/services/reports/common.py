"""What every report module shares: the samples, the report type, the
spec of what a report estimates and the orders rows are shown in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any, overload

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from surveyapp.analysis import (
    Spec,
)
from surveyapp.analysis.targets import INCONCLUSIVE as INCONCLUSIVE
from surveyapp.analysis.targets import MET as MET
from surveyapp.analysis.targets import N_TO_DECIDE_REASONS as N_TO_DECIDE_REASONS
from surveyapp.analysis.targets import NOT_MET as NOT_MET
from surveyapp.analysis.targets import VERDICT_REASONS as VERDICT_REASONS
from surveyapp.analysis.targets import VERDICTS as VERDICTS
from surveyapp.data import queries
from surveyapp.data.queries import Filters
from surveyapp.formatting import share as shown
from surveyapp.models.campaigns import Campaign
from surveyapp.models.questionnaires import IndexLevel, Questionnaire, QuestionType
from surveyapp.services import ServiceError
from surveyapp.services.campaigns import code_key
from surveyapp.services.instruments import analysis_spec

# The one place verdicts (keyed by the analysis package's codes, re-exported above for the
# views and the API schema) and samples get their names, in the reader's language; the report
# files, which are in Vietnamese whatever the reader's language, render them with vietnamese().
VERDICT_LABELS = {MET: _l("Met"), NOT_MET: _l("Not met"), INCONCLUSIVE: _l("Not yet decidable")}
SAMPLE_TITLES = {
    "probability": _l("Probability sample"),
    "convenience": _l("QR – non-probability"),
    "invited": _l("Invited sample (standalone codes)"),
}


def vietnamese(labels: dict[str, Any]) -> dict[str, str]:
    """``labels`` (lazy strings by key) rendered in Vietnamese, for the report files."""
    with force_locale("vi"):
        return {key: str(label) for key, label in labels.items()}


# Why a verdict is inconclusive or missing (analysis.targets.VERDICT_REASONS codes): one table,
# in the reader's language on pages; the report files render it with vietnamese().
VERDICT_REASON_LABELS = {
    "se_zero": _l("standard error is zero: too few different answers"),
    "small_sample": _l("small sample: fewer than 30 answers, or too imprecise (CV above 0.20)"),
    "ci_contains_target": _l("the interval holds the target"),
    "no_estimate": _l("no estimate"),
}


Sample = queries.Sample
SAMPLES = queries.SAMPLES
# The samples as the data adapter's queries take them (channels and whether a design is needed).
PROBABILITY = SAMPLES["probability"]
CONVENIENCE = SAMPLES["convenience"]
INVITED = SAMPLES["invited"]


@dataclass(frozen=True)
class Inputs:
    """What a report's ``by`` estimates were computed from: the cell table, the
    specification (margins included) and the design arguments of the analysis."""

    cells: Any  # pandas.DataFrame
    spec: Spec
    design: dict[str, Any]


@dataclass(frozen=True)
class Report:
    campaign: dict[str, Any]
    sample: str
    design: dict[str, Any]
    estimates: list[dict[str, Any]]
    by: str | None = None
    analyze_args: list[str] = field(default_factory=list)
    # When it was computed: a file taken while fieldwork goes on says which moment it shows.
    computed_at: datetime | None = None
    # Kept for the ranking's joint covariance of the ``by`` levels (no second pass over the
    # data); never shown nor serialized.
    inputs: Inputs | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "sample": self.sample,
            # Convenience and invited samples carry no design: no verdicts, and their
            # intervals hold only if the respondents were a random sample.
            "descriptive": self.descriptive,
            "by": self.by,
            "design": self.design,
            "estimates": self.estimates,
            "computed_at": self.computed_at.isoformat() if self.computed_at else None,
        }

    @property
    def descriptive(self) -> bool:
        return self.sample != "probability"

    def rows(self, domain: Any = None) -> list[dict[str, Any]]:
        """Estimates of one domain (``None``: the whole sample), in the plans' order."""
        return list(self._by_domain.get(domain, ()))

    def domains(self) -> list[Any]:
        return [d for d in self._by_domain if d is not None]

    @cached_property
    def _by_domain(self) -> dict[Any, list[dict[str, Any]]]:
        # A page asks for every domain's rows (a chart and a table per commune): one pass.
        out: dict[Any, list[dict[str, Any]]] = {}
        for row in self.estimates:
            out.setdefault(domain_value(row), []).append(row)
        return out


def domain_value(row: dict[str, Any]) -> Any:
    return None if row["domain"] is None else next(iter(row["domain"].values()))


def questionnaire_for(campaign: Campaign, sample: Sample) -> Questionnaire:
    """The questionnaire a sample is analysed with: the one its channels ask (the paper and
    invitation questionnaire for the probability and invited samples, the QR and kiosk one
    for the convenience sample). Channels of one sample asking different questionnaires
    cannot be pooled: refused."""
    asked = {c.asks.id: c.asks for c in campaign.channels if c.channel in sample.channels}
    if len(asked) > 1:
        labels = ", ".join(sorted(qn.label for qn in asked.values()))
        channels = ", ".join(c.value for c in sample.channels)
        title = vietnamese(SAMPLE_TITLES)[sample.key]
        raise ServiceError(
            f"Các kênh {channels} của mẫu {title} dùng các bảng hỏi khác "
            f"nhau ({labels}); hãy chọn cùng một bảng hỏi cho các kênh này / the channels "
            f"{channels} of the {sample.key} sample use different questionnaires ({labels})"
        )
    return next(iter(asked.values())) if asked else campaign.questionnaire


def sample_targets(campaign: Campaign, qn: Questionnaire) -> list[Any]:
    """The campaign's targets on ``qn``'s index nodes (a desk questionnaire has none)."""
    return [t for t in campaign.targets if t.index_node.questionnaire_id == qn.id]


def spec_for(
    campaign: Campaign,
    by: str | None,
    ci: str,
    filters: Filters | None = None,
    sample: Sample = SAMPLES["probability"],
) -> Spec:
    """What a report estimates. Only the probability sample is judged against the targets:
    the others carry no design, so a verdict about the province would claim what they
    cannot know (DESIGN §4)."""
    qn = questionnaire_for(campaign, sample)
    satisfied = tuple(int(v) for v in qn.satisfied_values)
    items = [q.code for q in qn.questions if q.type == QuestionType.LIKERT5]
    indices = analysis_spec(qn)
    targets = (
        tuple((t.index_node.code, fraction(t.target_pct)) for t in sample_targets(campaign, qn))
        if sample.probability
        else ()
    )
    spec = Spec(
        props=tuple((code, satisfied) for code in items),
        indices=tuple((name, tuple(parts)) for name, parts in indices),
        satisfied=satisfied,
        by=_by_column(by, filters),
        # A filtered report shows the filter's domain, never the whole sample's rows.
        national=bool(by) and not is_filtered(filters),
        ci=ci,
        targets=targets,
    )
    return spec


def is_filtered(filters: Filters | None) -> bool:
    return filters is not None and not filters.empty


def _by_column(by: str | None, filters: Filters | None) -> str | None:
    if by:
        # The cell table's and the export's column of a breakdown is named after it.
        return by
    return queries.SUBSET if is_filtered(filters) else None


def domain_sort(row: dict[str, Any]) -> tuple[int, str]:
    value = domain_value(row)
    return (0, "") if value is None else (1, str(value))


def row_order(row: dict[str, Any], nodes: dict[str, Any]) -> tuple[int, list[int], int]:
    """Index nodes first in the plans' order (1, 1.1 … 2.6, overall), then the items."""
    if row["level"] == "item":
        return (1, [], int(row["code"].lstrip("q") or 0) if row["code"][1:].isdigit() else 0)
    if nodes[row["code"]].level == IndexLevel.OVERALL:
        return (0, [10**6], 0)
    return (0, code_key(row["code"]), 0)


def percent(value: float | None) -> str:
    """A share as people read it, in the current language (surveyapp.formatting)."""
    return shown(value)


@overload
def fraction(pct: Decimal) -> float: ...
@overload
def fraction(pct: Decimal | None) -> float | None: ...
def fraction(pct: Decimal | None) -> float | None:
    """A stored percentage (Decimal 79.21) as the fraction 0.7921, divided in decimal so
    the float is the nearest to 0.7921 and not 79.21 / 100 = 0.7920999999999999."""
    return None if pct is None else float(pct / 100)
