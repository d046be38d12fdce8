"""``surveyapp sae``: Fay–Herriot small-area estimates from a CSV of direct estimates.

The contract is DESIGN.md §5, "``surveyapp sae`` — the small-area contract". A plain click
command (no app, no database), registered on the Flask CLI group like ``analyze``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import click
import numpy as np

from .errors import AnalysisError
from .sae import METHODS, SAEResult, fay_herriot

CSV_COLUMNS = ("area", "direct", "direct_se", "eblup", "mse", "gamma", "synthetic")


def _number(text: str, opt: str, col: str, row: int) -> float:
    try:
        v = float(text)
    except ValueError:
        raise AnalysisError(
            f"{opt} column {col!r}: non-numeric value {text!r} in data row {row}"
        ) from None
    if not math.isfinite(v):
        raise AnalysisError(f"{opt} column {col!r}: non-numeric value {text!r} in data row {row}")
    return v


def read_areas(
    path: str, area: str, estimate: str, se: str, covariates: tuple[str, ...]
) -> tuple[list[str], list[float], list[float], list[list[float]]]:
    """Read the area table; every problem is an :class:`AnalysisError` naming column and row.

    Rows are numbered as data rows (the first row after the header is data row 1), as
    ``surveyapp analyze`` does. An empty estimate *and* se marks an out-of-sample area (NaN).
    """
    p = Path(path)
    try:
        fh = p.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise AnalysisError(f"{path}: {exc.strerror or exc}") from None
    with fh:
        try:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            for opt, col in (
                ("--area", area),
                ("--estimate", estimate),
                ("--se", se),
                *(("--covariate", c) for c in covariates),
            ):
                if col not in header:
                    raise AnalysisError(f"{opt}: unknown column {col!r} in {p.name}")
            labels: list[str] = []
            ys: list[float] = []
            ses: list[float] = []
            xs: list[list[float]] = []
            seen: dict[str, int] = {}
            for row_no, row in enumerate(reader, start=1):
                label = (row.get(area) or "").strip()
                if not label:
                    raise AnalysisError(f"--area column {area!r}: empty value in data row {row_no}")
                if label in seen:
                    raise AnalysisError(
                        f"--area column {area!r}: {label!r} in data row {row_no} repeats"
                        f" data row {seen[label]}"
                    )
                seen[label] = row_no
                y, s = _estimate_and_se(row, estimate, se, row_no)
                xrow = []
                for c in covariates:
                    txt = (row.get(c) or "").strip()
                    if not txt:
                        raise AnalysisError(
                            f"--covariate column {c!r}: empty value in data row {row_no}"
                        )
                    xrow.append(_number(txt, "--covariate", c, row_no))
                labels.append(label)
                ys.append(y)
                ses.append(s)
                xs.append(xrow)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise AnalysisError(f"{p.name}: not a readable UTF-8 CSV file ({exc})") from None
    return labels, ys, ses, xs


def _estimate_and_se(
    row: dict[str, Any], estimate: str, se: str, row_no: int
) -> tuple[float, float]:
    """The row's direct estimate and its se (both NaN for an out-of-sample area)."""
    e_txt = (row.get(estimate) or "").strip()
    s_txt = (row.get(se) or "").strip()
    if bool(e_txt) != bool(s_txt):
        missing = (estimate, "--estimate") if not e_txt else (se, "--se")
        raise AnalysisError(
            f"{missing[1]} column {missing[0]!r}: empty in data row {row_no}"
            " (give both estimate and se, or neither for an out-of-sample area)"
        )
    if not e_txt:
        return math.nan, math.nan
    y = _number(e_txt, "--estimate", estimate, row_no)
    s = _number(s_txt, "--se", se, row_no)
    if s <= 0:
        raise AnalysisError(
            f"--se column {se!r}: {s_txt} in data row {row_no} must be > 0 for an in-sample area"
        )
    return y, s


def format_csv(result: SAEResult) -> str:
    """One row per area, the JSON ``areas`` keys as columns; empty cell for null."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for a in result.areas:
        w.writerow(
            [
                a.area,
                "" if a.direct is None else repr(a.direct),
                "" if a.direct_se is None else repr(a.direct_se),
                repr(a.eblup),
                repr(a.mse),
                "" if a.gamma is None else repr(a.gamma),
                "true" if a.synthetic else "false",
            ]
        )
    return buf.getvalue()


@click.command("sae")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--area", required=True, help="Column naming the area (commune).")
@click.option(
    "--estimate", required=True, help="Column of direct estimates (empty: out of sample)."
)
@click.option("--se", required=True, help="Column of design standard errors.")
@click.option(
    "--covariate",
    "covariates",
    multiple=True,
    help="Area-level covariate column (repeat for several); an intercept is always included.",
)
@click.option("--method", type=click.Choice(METHODS), default="reml", show_default=True)
@click.option("--format", "fmt", type=click.Choice(("json", "csv")), default="json")
@click.option("--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
def sae(
    file: str,
    area: str,
    estimate: str,
    se: str,
    covariates: tuple[str, ...],
    method: str,
    fmt: str,
    output: str | None,
) -> None:
    """Fay–Herriot small-area estimates (EBLUP with MSE) from a CSV of direct estimates."""
    try:
        labels, ys, ses, xs = read_areas(file, area, estimate, se, covariates)
        sev = np.asarray(ses, dtype=np.float64)
        result = fay_herriot(
            np.asarray(ys, dtype=np.float64),
            sev**2,
            np.asarray(xs, dtype=np.float64).reshape(len(labels), len(covariates)),
            areas=labels,
            names=covariates,
            method=method,
        )
    except AnalysisError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        text = json.dumps(result.to_dict(), ensure_ascii=False) + "\n"
    else:
        text = format_csv(result)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
