"""``python -m surveyapp.analysis DATA.csv ...`` runs ``surveyapp analyze`` without Flask."""

from .cli import analyze

if __name__ == "__main__":
    analyze(prog_name="python -m surveyapp.analysis")
