"""Campaign reports: SIPAS estimates per item and index node against the targets.

One module per concern, each importing only the ones above it in this list:

- :mod:`.common` — the samples, the ``by`` levels, :class:`Report`, what a report estimates;
- :mod:`.weighting` — how the probability sample is weighted (design weight, non-response,
  calibration with ``unknown`` categories);
- :mod:`.cells` — the cell table (or rows) and design a report is computed from, and the
  ``surveyapp analyze`` arguments that reproduce it;
- :mod:`.building` — the report and the sections of a report file;
- :mod:`.ranking` — rank intervals and pairwise differences of the ``by`` levels;
- :mod:`.across` — a campaign on the old administrative structure beside one on the new,
  per unit through the crosswalk;
- :mod:`.trends` — the campaigns of one questionnaire side by side.

Callers use the names re-exported here (``reports.build``, ``reports.trend`` …).
"""

from __future__ import annotations

from surveyapp.services.reports.building import build, file_sections, fold, has_answers
from surveyapp.services.reports.cells import (
    analyze_args,
    frame_for,
    run,
    run_cells,
    weighting_for,
)
from surveyapp.services.reports.common import (
    CONVENIENCE,
    INCONCLUSIVE,
    INVITED,
    MET,
    N_TO_DECIDE_REASONS,
    NOT_MET,
    PROBABILITY,
    SAMPLE_TITLES,
    SAMPLES,
    VERDICT_LABELS,
    VERDICT_REASON_LABELS,
    VERDICT_REASONS,
    VERDICTS,
    Report,
    Sample,
    percent,
    vietnamese,
)
from surveyapp.services.reports.ranking import (
    Ranking,
    differences,
    index_choices,
    joint_covariance,
    rank_intervals,
)
from surveyapp.services.reports.trends import Trend, earlier_campaigns, trend
from surveyapp.services.reports.weighting import Weighting

__all__ = [
    "CONVENIENCE",
    "INCONCLUSIVE",
    "INVITED",
    "MET",
    "NOT_MET",
    "N_TO_DECIDE_REASONS",
    "PROBABILITY",
    "SAMPLES",
    "SAMPLE_TITLES",
    "VERDICTS",
    "VERDICT_LABELS",
    "VERDICT_REASONS",
    "VERDICT_REASON_LABELS",
    "Ranking",
    "Report",
    "Sample",
    "Trend",
    "Weighting",
    "analyze_args",
    "build",
    "differences",
    "earlier_campaigns",
    "file_sections",
    "fold",
    "frame_for",
    "has_answers",
    "index_choices",
    "joint_covariance",
    "percent",
    "rank_intervals",
    "run",
    "run_cells",
    "trend",
    "vietnamese",
    "weighting_for",
]
