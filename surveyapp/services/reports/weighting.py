"""Campaign reports: SIPAS estimates per item and index node against the targets.

The probability sample (paper forms, and web answers given with a paper form's invitation)
is analysed with its design: strata, two stages of clusters with their population sizes, and
weights built in three steps (see :class:`Weighting`):

1. the design weight of the household's form;
2. × the non-response factor of its weighting class, the village: Σ weight of the village's
   selected households over Σ weight of those that answered (the export's ``nr_factor``), so
   respondents carry the weight of the selected households that did not answer. A response
   with no paper form to class it (e.g. the demo's simulated responses) keeps factor 1;
3. calibrated to the campaign's population margins when an admin has imported them
   (sex × age group, urban/rural, and one geographic level the province chose: communes,
   regions of communes, or the districts of a historical campaign): post-stratified to one,
   raked to several.
   Variances use the calibration residuals; the non-response factors are treated as fixed.

A respondent who did not give a margin's answer (sex, age group, area) or has no unit at the
margin's level is
neither dropped nor imputed: she is calibrated in an ``unknown`` category of that margin whose
population total is the weighted share of such respondents (after steps 1–2) times the
population, the known categories sharing the rest in the population's proportions. This keeps
her answers, leaves her weight unadjusted on that margin only, and assumes that whether the
answer is missing does not depend on the category (the weighting-class assumption again). A
margin the sample cannot meet (a category with a population but no respondent, or a sampled
category the margins lack) is left out, and the report says so.

Ratings from desks (QR code, counter tablet) are not a probability sample: they are weighted to
each desk's transaction volume and always reported apart, labelled as such. The two are never
pooled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from flask_babel import gettext as _

from surveyapp.data import queries
from surveyapp.models.campaigns import Campaign
from surveyapp.models.margins import MarginVariable
from surveyapp.models.questionnaires import Question
from surveyapp.services import margins
from surveyapp.services.reports.common import Sample, percent


@dataclass(frozen=True)
class Weighting:
    """How the probability sample is weighted (see the module docstring).

    ``margins`` are the calibration margins as ``Spec.margins`` takes them: (column of the
    cell table or export, ((category, population total), ...)), ``unknown`` included where
    some respondents lack the variable.
    """

    nonresponse: bool = False
    margins: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()
    variables: tuple[MarginVariable, ...] = ()
    unknown: tuple[tuple[MarginVariable, float], ...] = ()  # share of the weight
    skipped: tuple[tuple[MarginVariable, str], ...] = ()  # margin left out, and why

    def steps(self) -> list[str]:
        out = ["design_weight"]
        if self.nonresponse:
            out.append("nonresponse")
        if self.variables:
            out.append("poststratification" if len(self.variables) == 1 else "raking")
        return out

    def describe(self) -> str:
        """The adjustments in words (current language), as the report prints them."""
        names = margins.variable_names()
        parts = [_("Design weight")]
        if self.nonresponse:
            parts.append(_("non-response adjustment (weighting classes: villages)"))
        if self.variables:
            listed = ", ".join(names[v] for v in self.variables)
            if len(self.variables) == 1:
                parts.append(_("post-stratification to the margin %(names)s", names=listed))
            else:
                parts.append(_("raking to the margins %(names)s", names=listed))
        text = " × ".join(parts)
        for variable, share in self.unknown:
            text += ". " + _(
                "%(share)s of the weight has no %(name)s and is calibrated in its own category",
                share=percent(share),
                name=names[variable],
            )
        for variable, reason in self.skipped:
            text += ". " + _(
                "Margin %(name)s not used: %(reason)s", name=names[variable], reason=reason
            )
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "weighting": self.describe(),
            "adjustments": self.steps(),
            "margins": [v.value for v in self.variables],
            "margins_unknown_share": {v.value: share for v, share in self.unknown},
            "margins_skipped": {v.value: reason for v, reason in self.skipped},
        }


def with_margin_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the calibration category columns (``cal_sex_age``, ``cal_area`` and one per
    geographic level, e.g. ``cal_commune``, ``cal_region``) to a frame of responses or cells
    with the answers ``sex``, ``age_group``, ``area`` (where asked for) and ``unit_id``;
    labels are those of :func:`margins.cell_of`."""

    def codes(name: str) -> pd.Series:
        if name not in frame.columns:
            return pd.Series(pd.NA, index=frame.index, dtype="string")
        values = pd.to_numeric(frame[name], errors="coerce").astype("Float64")
        return values.astype("Int64").astype("string")

    sex_age = codes("sex") + "-" + codes("age_group")
    units = pd.to_numeric(frame["unit_id"], errors="coerce").astype("Int64")
    added = {
        margins.COLUMNS[MarginVariable.SEX_AGE]: sex_age.fillna(margins.UNKNOWN).astype(str),
        margins.COLUMNS[MarginVariable.AREA]: codes("area").fillna(margins.UNKNOWN).astype(str),
    }
    for variable in margins.geographic():
        codes_at = queries.level_codes(variable.value)
        added[margins.COLUMNS[variable]] = (
            units.map(codes_at).astype("string").fillna(margins.UNKNOWN).astype(str)
        )
    # One concat: inserting columns one by one fragments a wide cell table.
    return pd.concat([frame, pd.DataFrame(added, index=frame.index)], axis=1)


def weighting_from(
    frame: pd.DataFrame,
    weight: str,
    stored: Sequence[tuple[MarginVariable, tuple[tuple[str, float], ...]]],
    nonresponse: bool,
) -> Weighting:
    """The calibration margins the sample can meet, with ``unknown`` categories (see the module
    docstring), from the non-response adjusted weights of a response or cell frame."""
    total = float(frame[weight].sum())
    used: list[tuple[str, tuple[tuple[str, float], ...]]] = []
    variables: list[MarginVariable] = []
    unknown: list[tuple[MarginVariable, float]] = []
    skipped: list[tuple[MarginVariable, str]] = []
    for variable, cats in stored:
        column = margins.COLUMNS[variable]
        have = frame.groupby(column)[weight].sum()
        have = have[have > 0]
        known = {c for c, _n in cats}
        strange = [str(c) for c in have.index if c not in known and c != margins.UNKNOWN]
        if strange:
            skipped.append(
                (
                    variable,
                    _(
                        "respondents in %(cats)s, which the margins do not list",
                        cats=", ".join(sorted(strange)),
                    ),
                )
            )
            continue
        empty = [c for c, n in cats if n > 0 and c not in have.index]
        if empty:
            skipped.append(
                (
                    variable,
                    _(
                        "no respondent in %(cats)s; merge categories in the margins file",
                        cats=", ".join(empty),
                    ),
                )
            )
            continue
        population = float(sum(n for _c, n in cats))
        share = float(have.get(margins.UNKNOWN, 0.0)) / total if total > 0 else 0.0
        if share > 0:
            targets = tuple((c, n * (1 - share)) for c, n in cats)
            targets += ((margins.UNKNOWN, population * share),)
            unknown.append((variable, share))
        else:
            targets = tuple((c, float(n)) for c, n in cats)
        used.append((column, targets))
        variables.append(variable)
    return Weighting(nonresponse, tuple(used), tuple(variables), tuple(unknown), tuple(skipped))


def margin_questions(
    campaign: Campaign, stored: Sequence[tuple[MarginVariable, Any]]
) -> list[Question]:
    wanted = {code for variable, _c in stored for code in margins.ANSWERS.get(variable, ())}
    return [q for q in campaign.questionnaire.questions if q.code in wanted]


def weighting_dict(sample: Sample, weighting: Weighting) -> dict[str, Any]:
    if sample.probability:
        return weighting.to_dict()
    if sample.key == "invited":
        return {
            "weighting": _(
                "Answers to standalone invitation codes: no sampling design, every answer "
                "counts once; descriptive only"
            ),
            "adjustments": [],
            "margins": [],
            "margins_unknown_share": {},
            "margins_skipped": {},
        }
    return {
        "weighting": _("Weighted to each desk's transaction volume; not a probability sample"),
        "adjustments": ["desk_volume"],
        "margins": [],
        "margins_unknown_share": {},
        "margins_skipped": {},
    }
