"""Only what pyproject.toml cannot say: the top-level migrations/ ship as surveyapp.migrations."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["surveyapp", "surveyapp.*"]),
        "surveyapp.migrations",
        "surveyapp.migrations.versions",
    ],
)
