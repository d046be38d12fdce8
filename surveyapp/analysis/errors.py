"""Errors raised by the analysis package."""

from __future__ import annotations


class AnalysisError(ValueError):
    """Bad input or an estimation problem, with a one-line message naming the culprit.

    The command line prints ``str(error)`` on one line and exits with status 2.
    """
