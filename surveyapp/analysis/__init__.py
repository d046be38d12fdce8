"""Design-based estimation for satisfaction surveys.

This package is pure: numpy, scipy and statsmodels only. It never imports Flask, WTForms or
SQLAlchemy (``tests/analysis/test_purity.py`` enforces it), so it can be used from the command
line, from the dashboard adapter and from notebooks alike.
"""

from .design import Design
from .errors import AnalysisError
from .estimate import Analysis, DesignSummary, Estimate, Spec, analyze, analyze_cells

__all__ = [
    "Analysis",
    "AnalysisError",
    "Design",
    "DesignSummary",
    "Estimate",
    "Spec",
    "analyze",
    "analyze_cells",
]
