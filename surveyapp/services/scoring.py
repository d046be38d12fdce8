"""Scoring an instrument's index tree on any of its scales, through the analysis package.

Every rated item becomes one or more 0/1 columns whose "satisfied" share the analysis package
estimates, so each index stays a linear combination of shares linearised jointly (the
covariances between items count), whatever the scale:

- a ``share`` rule (Likert 4–5, yes/no "Có", 0–10 ``at_least``): one column, 1 when the answer
  counts;
- the 0–10 ``mean`` rule: mean answer ÷ 10 = (1/10)·Σ_{t=1..10} P(answer ≥ t), so the item is
  the plain mean of ten threshold columns; exact, not an approximation;
- a ``points`` node weights its parts by their maximum points, so its share is points earned
  out of its maximum, and its score is that share × ``max_points``.

The instrument's rules are read from ``Questionnaire.scoring`` (stored explicitly when the
file was loaded, see :data:`surveyapp.services.instruments.SCORING_DEFAULTS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from surveyapp.analysis import Analysis, Spec
from surveyapp.models.questionnaires import (
    AggregationRule,
    IndexNode,
    Question,
    Questionnaire,
    QuestionType,
)
from surveyapp.services.instruments import SCORING_DEFAULTS, item_parts

ITEM_PREFIX = "item:"


@dataclass(frozen=True)
class Scored:
    """What to add to a response frame and what to ask the analysis package."""

    columns: dict[str, np.ndarray]  # derived 0/1 columns (NaN where unanswered)
    spec: Spec
    max_points: dict[str, float]  # node code -> its maximum points, where it has one


def rules(qn: Questionnaire) -> dict[str, dict[str, Any]]:
    out = {kind: dict(rule) for kind, rule in SCORING_DEFAULTS.items()}
    out["likert5"]["values"] = [int(v) for v in qn.satisfied_values]
    out.update({k: dict(v) for k, v in (qn.scoring or {}).items()})
    return out


def rule_text(qn: Questionnaire) -> dict[str, str]:
    """Each rated type's rule in words (English; the views translate the keys they show)."""
    texts = {}
    for kind, rule in rules(qn).items():
        if rule["rule"] == "mean":
            texts[kind] = "mean/10"
        elif "at_least" in rule:
            texts[kind] = f"share >= {rule['at_least']}"
        else:
            texts[kind] = "share in " + ",".join(str(v) for v in rule["values"])
    return texts


def rated_items(qn: Questionnaire) -> list[Question]:
    """The questions beneath the index tree, in questionnaire order."""
    used = {code for node in qn.index_nodes for code in item_parts(node)}
    return [q for q in qn.questions if q.code in used]


def _components(q: Question, values: np.ndarray, rule: dict[str, Any]) -> dict[str, np.ndarray]:
    answered = ~np.isnan(values)

    def indicator(hit: np.ndarray) -> np.ndarray:
        return np.where(answered, hit.astype(np.float64), np.nan)

    if q.type == QuestionType.SCALE10 and rule["rule"] == "mean":
        return {f"{q.code}~ge{t}": indicator(values >= t) for t in range(1, 11)}
    if q.type == QuestionType.SCALE10:
        return {f"{q.code}~ge{rule['at_least']}": indicator(values >= rule["at_least"])}
    return {f"{q.code}~in": indicator(np.isin(values, list(rule["values"])))}


def scored(qn: Questionnaire, frame: pd.DataFrame, **spec_args: Any) -> Scored:
    """The derived columns and the :class:`Spec` of ``qn``'s index tree over ``frame`` (one
    row per response, one column per question code). ``spec_args`` go to the Spec (``by``,
    ``national``, ``ci``, ``level``...)."""
    by_type = rules(qn)
    columns: dict[str, np.ndarray] = {}
    indices: list[tuple[str, tuple[str, ...]]] = []
    weights: list[tuple[str, tuple[float, ...]]] = []
    for q in rated_items(qn):
        raw = pd.to_numeric(frame[q.code], errors="coerce").to_numpy(dtype=np.float64)
        parts = _components(q, raw, by_type[q.type.value])
        columns.update(parts)
        indices.append((ITEM_PREFIX + q.code, tuple(parts)))
    points = node_points(qn)
    for node in qn.index_nodes:
        names, wts = _node_parts(node, points)
        indices.append((node.code, names))
        if wts is not None:
            weights.append((node.code, wts))
    spec = Spec(indices=tuple(indices), index_weights=tuple(weights), satisfied=(1.0,), **spec_args)
    return Scored(columns, spec, points)


def node_points(qn: Questionnaire) -> dict[str, float]:
    out = {q.code: float(q.max_points) for q in qn.questions if q.max_points is not None}
    out.update({n.code: float(n.max_points) for n in qn.index_nodes if n.max_points is not None})
    return out


def _node_parts(
    node: IndexNode, points: dict[str, float]
) -> tuple[tuple[str, ...], tuple[float, ...] | None]:
    def name(code: str, is_question: bool) -> str:
        return ITEM_PREFIX + code if is_question else code

    if node.rule == AggregationRule.ITEM_WEIGHTED:
        return tuple(ITEM_PREFIX + c for c in item_parts(node)), None
    parts = tuple(name(p.code, p.question is not None) for p in node.parts)
    if node.rule == AggregationRule.POINTS:
        return parts, tuple(points[p.code] for p in node.parts)
    return parts, None


@dataclass(frozen=True)
class NodeScore:
    """A node's estimate: share of its maximum (0–1) with CI, and the same in points."""

    code: str
    share: float | None
    ci_low: float | None
    ci_high: float | None
    se: float | None
    n: int
    max_points: float | None

    @property
    def points(self) -> float | None:
        if self.share is None or self.max_points is None:
            return None
        return self.share * self.max_points

    @property
    def points_ci(self) -> tuple[float, float] | None:
        if self.ci_low is None or self.ci_high is None or self.max_points is None:
            return None
        return self.ci_low * self.max_points, self.ci_high * self.max_points


def node_scores(
    qn: Questionnaire, result: Analysis, max_points: dict[str, float], domain: Any = None
) -> list[NodeScore]:
    """The index nodes' rows of ``result`` for one domain (None: the whole sample)."""
    out = []
    for node in qn.index_nodes:
        try:
            est = result.find(node.code, domain)
        except KeyError:
            out.append(NodeScore(node.code, None, None, None, None, 0, max_points.get(node.code)))
            continue
        ok = est.estimate is not None and np.isfinite(est.estimate)
        out.append(
            NodeScore(
                node.code,
                float(est.estimate) if ok else None,
                _finite(est.ci_low) if ok else None,
                _finite(est.ci_high) if ok else None,
                _finite(est.se) if ok else None,
                int(est.n),
                max_points.get(node.code),
            )
        )
    return out


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None
