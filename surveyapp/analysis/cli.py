"""``surveyapp analyze``: the command-line face of the analysis package (DESIGN.md §5).

``analyze`` is a plain click command; the Flask CLI group registers it, and
``python -m surveyapp.analysis`` runs it standalone.
"""

from __future__ import annotations

import csv
import io
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from .ci import CI_METHODS
from .columns import ColumnTable
from .design import LONELY_PSU
from .errors import AnalysisError
from .estimate import analyze as run_analysis
from .results import Analysis, Spec

COLUMNS = (
    "statistic",
    "variable",
    "values",
    "domain",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "deff",
    "n",
    "target",
    "verdict",
)


def parse_value(text: str) -> Any:
    """``"4"`` -> 4, ``"0.5"`` -> 0.5, anything else stays a string."""
    t = text.strip()
    try:
        return int(t)
    except ValueError:
        pass
    try:
        f = float(t)
    except ValueError:
        return t
    return f if math.isfinite(f) else t


def _split_eq(opt: str, text: str) -> tuple[str, str]:
    if "=" not in text:
        raise click.ClickException(f"{opt} {text!r}: expected NAME=VALUE")
    name, _, rest = text.partition("=")
    if not name.strip() or not rest.strip():
        raise click.ClickException(f"{opt} {text!r}: expected NAME=VALUE")
    return name.strip(), rest.strip()


def _csv_list(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def parse_margin(text: str) -> tuple[str, tuple[tuple[str, float], ...]]:
    """``"sex:F=140000,M=132000"`` -> ``("sex", (("F", 140000.0), ("M", 132000.0)))``."""
    var, sep, rest = text.partition(":")
    if not sep or not var.strip():
        raise click.ClickException(f"--margin {text!r}: expected VAR:cat=N[,cat=N...]")
    cats = []
    for item in _csv_list(rest):
        cat, val = _split_eq("--margin", item)
        try:
            n = float(val)
        except ValueError:
            raise click.ClickException(
                f"--margin {var}: population total {val!r} is not a number"
            ) from None
        cats.append((cat, n))
    if not cats:
        raise click.ClickException(f"--margin {text!r}: no categories")
    return var.strip(), tuple(cats)


def read_data(path: str, columns: Sequence[str]) -> ColumnTable:
    """Read the needed columns of a CSV or Parquet file (pyarrow, multithreaded; no pandas);
    unknown column -> AnalysisError."""
    p = Path(path)
    wanted = list(dict.fromkeys(c for c in columns if c))
    if p.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        names = pq.read_schema(p).names
        missing = [c for c in wanted if c not in names]
        if missing:
            raise AnalysisError(f"unknown column {missing[0]!r} in {p.name}")
        # ParquetFile.read, not read_table: the latter imports pandas
        return ColumnTable(pq.ParquetFile(p).read(columns=wanted, use_threads=True))
    import pyarrow as pa
    import pyarrow.csv as pcsv

    with p.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), [])
    missing = [c for c in wanted if c not in header]
    if missing:
        raise AnalysisError(f"unknown column {missing[0]!r} in {p.name}")
    convert = pcsv.ConvertOptions(include_columns=wanted, strings_can_be_null=True)
    # 4 MiB blocks: measured a little faster than 1 or 16 MiB on 2 cores
    read = pcsv.ReadOptions(use_threads=True, block_size=1 << 22)
    types = _sniff_types(p, wanted)
    try:
        if types:
            try:
                # typed read: pyarrow's type inference costs more than the parsing
                table = pcsv.read_csv(
                    p,
                    read_options=read,
                    convert_options=pcsv.ConvertOptions(
                        include_columns=wanted, strings_can_be_null=True, column_types=types
                    ),
                )
            except pa.ArrowInvalid:
                # a later row breaks the sniffed type: read untyped so the bad row is named
                table = pcsv.read_csv(p, read_options=read, convert_options=convert)
        else:
            table = pcsv.read_csv(p, read_options=read, convert_options=convert)
    except pa.ArrowInvalid as exc:
        raise AnalysisError(f"{p.name}: {str(exc).splitlines()[0]}") from exc
    return ColumnTable(table)


def _sniff_types(path: Path, wanted: list[str]) -> dict[str, Any]:
    """Column types inferred from the first 1 MiB, widened (int64/float64/string)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    try:
        reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(block_size=1 << 20),
            convert_options=pcsv.ConvertOptions(include_columns=wanted, strings_can_be_null=True),
        )
        schema = reader.schema
        reader.close()
    except (pa.ArrowInvalid, OSError):
        return {}
    types: dict[str, Any] = {}
    for field in schema:
        if pa.types.is_integer(field.type):
            types[field.name] = pa.int64()
        elif pa.types.is_floating(field.type):
            types[field.name] = pa.float64()
        elif pa.types.is_string(field.type):
            types[field.name] = pa.string()
    return types


def format_table(result: Analysis) -> str:
    """A fixed-width text table of the estimates."""
    d = result.design
    lines = [f"design: n={d.n} strata={d.strata} psu={d.psu} df={d.df}"]
    head = (
        "statistic",
        "variable",
        "domain",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "deff",
        "n",
        "verdict",
        "reason",
    )
    rows: list[tuple[str, ...]] = [head]
    for e in result.estimates:
        dom = "" if e.domain is None else f"{e.domain[0]}={e.domain[1]}"
        var = e.variable + ("" if e.values is None else "=" + ",".join(map(str, e.values)))
        rows.append(
            (
                e.statistic,
                var,
                dom,
                *(_fmt(x) for x in (e.estimate, e.se, e.ci_low, e.ci_high, e.deff)),
                str(e.n),
                e.verdict or "",
                e.reason or e.verdict_reason or "",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for r in rows:
        lines.append(
            "  ".join(
                c.rjust(w) if i >= 3 else c.ljust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()
        )
    return "\n".join(lines) + "\n"


def _fmt(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "NA"
    return f"{x:.6g}" if abs(x) >= 1e4 else f"{x:.4f}"


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["values"] = "" if row["values"] is None else ",".join(map(str, row["values"]))
    dom = row["domain"]
    out["domain"] = "" if dom is None else "{}={}".format(*next(iter(dom.items())))
    return {k: ("" if v is None else v) for k, v in out.items()}


def format_csv(result: Analysis, extended: bool = False) -> str:
    buf = io.StringIO()
    rows = [_flat(r) for r in result.to_dict(extended)["estimates"]]
    cols = list(rows[0]) if rows else list(COLUMNS)
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def format_xlsx(result: Analysis, extended: bool = False) -> bytes:
    from openpyxl import Workbook

    from surveyapp import xlsx

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "estimates"
    rows = [_flat(r) for r in result.to_dict(extended)["estimates"]]
    cols = list(rows[0]) if rows else list(COLUMNS)
    xlsx.append(ws, cols)
    for r in rows:
        xlsx.append(ws, [r[c] for c in cols])
    ds = wb.create_sheet("design")
    for k, v in result.design.to_dict().items():
        xlsx.append(ds, [k, v])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@click.command("analyze")
@click.argument("data", type=click.Path(exists=True, dir_okay=False))
@click.option("--weight", help="Weight column (default: 1, or implied by --fpc).")
@click.option("--strata", help="Stratum column.")
@click.option("--cluster", help="Cluster column per stage: PSU[,SSU].")
@click.option("--fpc", help="fpc column per stage: population sizes (>1) or fractions (<=1).")
@click.option(
    "--prop", "props", multiple=True, help="COL=V1[,V2...]: share with a value in the set."
)
@click.option("--mean", "means", multiple=True, help="Mean of a numeric column.")
@click.option("--total", "totals", multiple=True, help="Total of a numeric column.")
@click.option("--ratio", "ratios", multiple=True, help="NUM/DEN: ratio of totals.")
@click.option(
    "--index",
    "indices",
    multiple=True,
    help="NAME=PART[,PART...]: mean of the parts' satisfied shares.",
)
@click.option("--satisfied", default="4,5", show_default=True, help="Satisfied values.")
@click.option("--by", help="Domain column: estimates per level on the full design.")
@click.option(
    "--national/--no-national",
    default=False,
    help="With --by, also print the whole-sample rows first.",
)
@click.option(
    "--margin",
    "margins",
    multiple=True,
    help="VAR:cat=N[,cat=N...]; one post-stratifies, several rake.",
)
@click.option("--ci", type=click.Choice(CI_METHODS), default="logit", show_default=True)
@click.option("--level", type=float, default=0.95, show_default=True)
@click.option(
    "--df", "df_kind", type=click.Choice(["design", "inf"]), default="design", show_default=True
)
@click.option("--lonely-psu", type=click.Choice(LONELY_PSU), default="fail", show_default=True)
@click.option("--target", "targets", multiple=True, help="NAME=P: target for a share/index.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "table", "csv", "xlsx"]),
    default="json",
    show_default=True,
)
@click.option("--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@click.option("--extended", is_flag=True, help="Add cv, small, p_meets_target, n_to_decide.")
def analyze(
    data: str,
    weight: str | None,
    strata: str | None,
    cluster: str | None,
    fpc: str | None,
    props: tuple[str, ...],
    means: tuple[str, ...],
    totals: tuple[str, ...],
    ratios: tuple[str, ...],
    indices: tuple[str, ...],
    satisfied: str,
    by: str | None,
    national: bool,
    margins: tuple[str, ...],
    ci: str,
    level: float,
    df_kind: str,
    lonely_psu: str,
    targets: tuple[str, ...],
    fmt: str,
    output: str | None,
    extended: bool,
) -> None:
    """Design-based estimates (shares, means, totals, SIPAS indices) from DATA (CSV/Parquet)."""
    try:
        spec = _spec(
            props,
            means,
            totals,
            ratios,
            indices,
            satisfied,
            by,
            national,
            margins,
            ci,
            level,
            df_kind,
            targets,
        )
        clusters = _csv_list(cluster) if cluster else []
        fpcs = _csv_list(fpc) if fpc else []
        index_names = {n for n, _ in spec.indices}
        needed = [weight, strata, *clusters, *fpcs, by]
        needed += [c for c, _ in spec.props] + list(spec.means) + list(spec.totals)
        needed += [c for r in spec.ratios for c in r] + [m for m, _ in spec.margins]
        needed += [p for _, parts in spec.indices for p in parts if p not in index_names]
        frame = read_data(data, [c for c in needed if c])
        result = run_analysis(
            frame,
            spec,
            weight=weight,
            strata=strata,
            cluster=clusters,
            fpc=fpcs,
            lonely_psu=lonely_psu,
        )
    except AnalysisError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "xlsx":
        payload = format_xlsx(result, extended)
        if output:
            Path(output).write_bytes(payload)
        else:
            sys.stdout.buffer.write(payload)
        return
    if fmt == "json":
        text = result.to_json(extended) + "\n"
    elif fmt == "csv":
        text = format_csv(result, extended)
    else:
        text = format_table(result)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


def _spec(
    props: tuple[str, ...],
    means: tuple[str, ...],
    totals: tuple[str, ...],
    ratios: tuple[str, ...],
    indices: tuple[str, ...],
    satisfied: str,
    by: str | None,
    national: bool,
    margins: tuple[str, ...],
    ci: str,
    level: float,
    df_kind: str,
    targets: tuple[str, ...],
) -> Spec:
    prop_list = []
    for p in props:
        col, vals = _split_eq("--prop", p)
        prop_list.append((col, tuple(parse_value(v) for v in _csv_list(vals))))
    idx = []
    for text in indices:
        name, parts = _split_eq("--index", text)
        idx.append((name, tuple(_csv_list(parts))))
    rat = []
    for r in ratios:
        num, sep, den = r.partition("/")
        if not sep or not num or not den:
            raise click.ClickException(f"--ratio {r!r}: expected NUM/DEN")
        rat.append((num.strip(), den.strip()))
    tg = []
    for t in targets:
        name, val = _split_eq("--target", t)
        try:
            tg.append((name, float(val)))
        except ValueError:
            raise click.ClickException(f"--target {name}: {val!r} is not a number") from None
    sat = tuple(parse_value(v) for v in _csv_list(satisfied))
    return Spec(
        props=tuple(prop_list),
        means=means,
        totals=totals,
        ratios=tuple(rat),
        indices=tuple(idx),
        satisfied=sat,
        by=by,
        national=national,
        margins=tuple(parse_margin(m) for m in margins),
        ci=ci,
        level=level,
        df=df_kind,
        targets=tuple(tg),
    )
