"""Design-based estimation for satisfaction surveys (SIPAS).

This package is pure: numpy, scipy, pandas and pyarrow only. It never imports Flask, WTForms
or SQLAlchemy (``tests/analysis/test_purity.py`` enforces it), so it can be used from the
command line, from the dashboard adapter and from notebooks alike.

Methods follow R's ``survey`` package (Lumley 2010, *Complex Surveys*): Taylor linearization
(Binder 1983) with PSUs nested in strata, fpc per stage, R's lonely-PSU options; domains and
missing answers are estimated on the full design, never by subsetting; SIPAS indices are
linear combinations of item shares linearized jointly, so covariances between items count;
post-stratification and raking (Deville & Särndal 1992) with R's calibration residuals;
share CIs as R ``svyciprop`` (Korn & Graubard 1998 for ``beta``). Every estimator is tested
against R survey 4.1 values in ``tests/analysis/reference``.

Calling it
----------
Unit-level rows (a pandas DataFrame)::

    from surveyapp.analysis import Spec, analyze
    spec = Spec(
        props=(("q19", (4, 5)),),                       # --prop q19=4,5
        indices=(("2.2", ("q19", "q20", "q21", "q22")),  # --index 2.2=q19,q20,q21,q22
                 ("2", ("2.2",))),
        by="district", national=True,                    # --by district (+ whole sample)
        margins=(("sex", (("F", 140000), ("M", 132000))),),  # --margin sex:F=...,M=...
        ci="logit", level=0.95, df="design",
        targets=(("2", 0.8),),                           # --target 2=0.8
    )
    result = analyze(frame, spec, weight="w", strata="stratum", cluster=("psu",),
                     fpc=("N_psu",), lonely_psu="fail")
    result.to_dict()   # {"design": {...}, "estimates": [rows exactly as surveyapp analyze]}

``surveyapp analyze`` passes a :class:`~surveyapp.analysis.columns.ColumnTable` (the file's
columns as numpy arrays straight from pyarrow) instead of a DataFrame, so the command never
imports pandas; ``result.to_json()`` is ``json.dumps(result.to_dict())``, faster.

``Design.from_arrays(...)`` builds a design from arrays (use it with
``calibration_frame.trim_weights`` / ``nonresponse_adjust`` and ``analyze(..., design=d)``).

Sufficient statistics (one SQL GROUP BY instead of the rows)::

    from surveyapp.analysis.cells_api import analyze_cell_frame
    result = analyze_cell_frame(cells, spec, strata="stratum", psu="psu",
                                stratum_popsize={...})

where ``cells`` has one row per (stratum, psu[, ssu][, margin variables][, by]) with
``n`` (rows), ``sw`` (sum of weights) and per share column ``q``: ``q__wy`` = sum(w*[q in
4,5]), ``q__wr`` = sum(w*[q answered]), ``q__r`` = count answered (and ``q__y`` = count in
the set when raking; ``q__wyy`` for means/totals). The result equals ``analyze`` on the rows
(tested). See :mod:`surveyapp.analysis.cells_api` for the SQL.

Comparisons and rankings: :func:`surveyapp.analysis.estimate.compare_domains` on rows and
:func:`surveyapp.analysis.cells_api.compare_cell_frame` on cells (the domains' joint
covariance in one pass, calibrated too: differences, rank intervals); two periods:
:func:`surveyapp.analysis.targets.difference`; sample sizes:
:func:`surveyapp.analysis.targets.plan_sample_size`.

Modules: :mod:`.results` (the specification and result types), :mod:`.plan` (a
specification as base statistics), :mod:`.frame_adapter` (DataFrame or ColumnTable columns
as arrays), :mod:`.estimate` (the estimators).

Command line: :data:`surveyapp.analysis.cli.analyze` (``surveyapp analyze``;
``python -m surveyapp.analysis``).
"""

from .design import Design
from .errors import AnalysisError
from .estimate import analyze, analyze_cells, compare_domains
from .results import Analysis, DesignSummary, DomainComparison, Estimate, Spec

__all__ = [
    "Analysis",
    "AnalysisError",
    "Design",
    "DesignSummary",
    "DomainComparison",
    "Estimate",
    "Spec",
    "analyze",
    "analyze_cells",
    "compare_domains",
]
