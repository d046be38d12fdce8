"""The four checks of issue 12's proof, run on one built plan (see messy_build).

``evaluate(dbs, plan)`` builds the plan once and returns, per check, the failures found:
``serve`` (no page, API call or command answers 5xx or a traceback), ``equal`` (the report is
export-responses + the analyze line it prints, to 1e-9), ``xlsx`` (no cell of any workbook the
product writes is a formula) and ``backup`` (backup -> restore into the other kind of database
-> backup gives the same rows, and back again).
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import shlex
from pathlib import Path
from typing import Any

import numpy as np
from flask import Flask
from messy_build import (
    Built,
    Databases,
    Plan,
    build,
    cli,
    other_kind,
    primary_kind,
    server_error,
    traceback_of,
)
from openpyxl import load_workbook
from support import analyze_args_shown

from surveyapp.extensions import db

# ---------------------------------------------------------------------------------------------
# What a user can open


def urls(app: Flask, built: Built) -> list[str]:
    cid = built.campaign_id
    out = [
        "/",
        "/dashboard/",
        f"/dashboard/{cid}",
        f"/dashboard/{cid}/trend",
        f"/dashboard/{cid}/report.xlsx",
        f"/dashboard/{cid}/report.html",
        f"/dashboard/{cid}/responses",
        "/admin/",
        "/admin/units",
        "/admin/desks",
        f"/admin/campaigns/{cid}",
        f"/admin/campaigns/{cid}/margins",
        f"/admin/campaigns/{cid}/margins/template.xlsx",
        "/admin/users",
        "/admin/audit",
        "/entry/",
        "/entry/batches",
        "/entry/keyers",
        "/entry/reconcile",
        "/entry/draws",
        "/entry/frame",
        "/entry/import",
        f"/entry/import/template/{cid}.xlsx",
        "/api/v1/campaigns",
        f"/api/v1/campaigns/{cid}",
        f"/api/v1/campaigns/{cid}/targets",
        f"/api/v1/campaigns/{cid}/results",
        f"/api/v1/campaigns/{cid}/trend",
        f"/api/v1/campaigns/{cid}/responses",
        f"/api/v1/campaigns/{cid}/responses?format=csv",
    ]
    for by in ("district", "desk", "channel"):
        out += [f"/dashboard/{cid}?by={by}", f"/api/v1/campaigns/{cid}/results?by={by}"]
    for sample in ("probability", "convenience"):
        out += [
            f"/api/v1/campaigns/{cid}/results?sample={sample}",
            f"/api/v1/campaigns/{cid}/responses?sample={sample}",
        ]
    for desk_id in built.desk_ids:
        out += [f"/admin/desks/{desk_id}"] + [
            f"/admin/desks/{desk_id}/qr.{fmt}" for fmt in ("png", "svg", "pdf")
        ]
    for batch_id in built.batch_ids:
        out += [f"/entry/batches/{batch_id}", f"/entry/batches/{batch_id}/print"]
    for user_id in built.user_ids:
        out.append(f"/admin/users/{user_id}/password")
    return out


def open_every_page(app: Flask, built: Built) -> tuple[list[str], dict[str, bytes]]:
    """GET every page as the administrator; the 5xx answers, and the XLSX bodies."""
    failures = []
    files = {}
    for url in urls(app, built):
        response = built.client.get(url)
        if (bad := server_error(response, f"GET {url}")) is not None:
            failures.append(bad)
        elif response.status_code == 200 and url.endswith(".xlsx"):
            files[url] = response.get_data()
    return failures, files


def run_commands(app: Flask, built: Built, tmp: Path) -> tuple[list[str], dict[str, bytes]]:
    """Every read-only command on the campaign; the ones that fail, and the XLSX they wrote."""
    cid = str(built.campaign_id)
    failures = []
    files: dict[str, bytes] = {}
    runs: list[list[str]] = []
    for fmt in ("json", "xlsx", "html"):
        for by in (None, "district"):
            out = tmp / f"report-{fmt}-{by}.{fmt}"
            args = ["report", "--campaign", cid, "--format", fmt, "--output", str(out)]
            runs.append(args + (["--by", by] if by else []))
    runs.append(["report", "--campaign", cid, "--sample", "convenience", "--by", "desk"])
    for fmt in ("csv", "xlsx", "parquet"):
        out = tmp / f"export.{fmt}"
        runs.append(["export-responses", "--campaign", cid, "--format", fmt, "--output", str(out)])
    runs.append(["export-responses", "--campaign", cid, "--all-selected"])
    runs.append(["import-responses", "--campaign", cid, "--template", str(tmp / "template.xlsx")])
    runs.append(["backup", "--output", str(tmp / "backup.jsonl")])
    runs.append(["desks", "list", "--format", "json"])
    runs.append(["campaigns", "list", "--format", "json"])
    for args in runs:
        result = cli(app, args)
        if (tb := traceback_of(result)) is not None:
            failures.append(f"surveyapp {shlex.join(args)}: traceback\n{tb}")
        elif result.exit_code != 0 and args[0] != "report":
            # A report may refuse cleanly (e.g. no responses); the equality check catches a
            # report that refuses a campaign with data.
            failures.append(
                f"surveyapp {shlex.join(args)}: exit {result.exit_code}: {result.output}"
            )
    for path in tmp.glob("*.xlsx"):
        files[path.name] = path.read_bytes()
    # analyze on the export, as the report prints it, in its XLSX format too.
    shown = cli(app, ["report", "--campaign", cid, "--by", "district", "--show-analyze-command"])
    if shown.exit_code == 0 and (tmp / "export.csv").exists():
        args = analyze_args_shown(shown.output)
        out = tmp / "analyze.xlsx"
        result = cli(
            app,
            ["analyze", str(tmp / "export.csv"), *args, "--format", "xlsx", "--output", str(out)],
        )
        if (tb := traceback_of(result)) is not None:
            failures.append(f"analyze: traceback\n{tb}")
        elif result.exit_code == 0:
            files["analyze.xlsx"] = out.read_bytes()
    return failures, files


def formula_cells(data: bytes) -> list[str]:
    """Every cell of a workbook that is not a plain value (a formula, data_type 'f')."""
    workbook = load_workbook(io.BytesIO(data))
    found = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    found.append(f"{sheet.title}!{cell.coordinate}={cell.value!r}"[:120])
    return found


def describe(plan: Plan, built: Built) -> str:
    return (
        f"plan: {short(plan)}\nbuilt: paper={built.paper} convenience={built.convenience} "
        f"invited={built.invited} notes={plan.notes}"
    )


def short(value: Any) -> Any:
    """A plan's repr with every long text cut (a 10,000-character name would hide the rest)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        inner = ", ".join(
            f"{f.name}={short(getattr(value, f.name))}" for f in dataclasses.fields(value) if f.repr
        )
        return f"{type(value).__name__}({inner})"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(short(v)) for v in value) + "]"
    if isinstance(value, str) and len(value) > 24:
        return f"{value[:12]!r}…({len(value)} chars)"
    return repr(value)


# ---------------------------------------------------------------------------------------------
# The checks

CHECKS = ("serve", "equal", "xlsx", "backup")


def evaluate(dbs: Databases, plan: Plan) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {name: [] for name in CHECKS}
    with dbs.app(primary_kind()) as app:
        built = build(app, plan)
        folder = Path(app.instance_path).parent
        found["serve"] += built.problems
        pages, page_files = open_every_page(app, built)
        commands_dir = folder / "commands"
        commands_dir.mkdir()
        commands, command_files = run_commands(app, built, commands_dir)
        found["serve"] += pages + commands
        files = {**page_files, **command_files}
        if not any("report" in name for name in files):
            found["xlsx"].append(f"no report.xlsx was written: {sorted(files)}")
        for name, data in files.items():
            found["xlsx"] += [f"{name}: {cell}" for cell in formula_cells(data)]
        equal_dir = folder / "equal"
        equal_dir.mkdir()
        found["equal"] += compare_report_and_analyze(app, built, equal_dir)
        backup_path = folder / "first.jsonl"
        first = _backup(app, backup_path, found["backup"])
    if first is not None:
        found["backup"] += round_trip(dbs, first, backup_path)
    note = describe(plan, built)
    return {name: [note, *failures] if failures else [] for name, failures in found.items()}


def compare_report_and_analyze(app: Flask, built: Built, tmp: Path) -> list[str]:
    """The report's numbers are export-responses + the analyze line the report prints."""
    from surveyapp.data import queries
    from surveyapp.models import Unit

    cid = str(built.campaign_id)
    # The report labels a district or desk as the dashboard does (its name, with its code or
    # id when two share the name); the export has the code or id.
    districts = queries.level_labels("district")
    names = {
        "district": {u.code: districts[u.id] for u in db.session.query(Unit) if u.id in districts},
        "desk": {str(k): v for k, v in queries.desk_labels().items()},
    }
    failures: list[str] = []
    for sample, rows in (("probability", built.paper), ("convenience", built.convenience)):
        export = tmp / f"{sample}.csv"
        exported = cli(
            app,
            ["export-responses", "--campaign", cid, "--sample", sample, "--output", str(export)],
        )
        if exported.exit_code != 0:
            failures.append(f"export-responses --sample {sample}: {exported.output[-500:]}")
            continue
        breakdowns = [[], ["--by", "district"]]
        if sample == "convenience":
            breakdowns.append(["--by", "desk"])
        for by in breakdowns:
            where = f"--sample {sample} {' '.join(by)}"
            report = cli(app, ["report", "--campaign", cid, "--sample", sample, *by])
            shown = cli(
                app,
                ["report", "--campaign", cid, "--sample", sample, *by, "--show-analyze-command"],
            )
            if shown.exit_code != 0:
                failures.append(f"report {where} --show-analyze-command: {shown.output[-500:]}")
                continue
            args = analyze_args_shown(shown.output)
            analyzed = cli(app, ["analyze", str(export), *args, "--format", "json"])
            if rows == 0:
                continue  # nothing to estimate (the serve check sees any traceback)
            if report.exit_code != 0 or analyzed.exit_code != 0:
                failures.append(
                    f"{where}: report exit {report.exit_code} ({_last_line(report)}), "
                    f"analyze exit {analyzed.exit_code} ({_last_line(analyzed)})"
                )
                continue
            mine = json.loads(report.output)
            theirs = json.loads(analyzed.output)
            if by:
                # The report names its districts; the export (and so analyze) has their codes.
                # The report's --by rows also carry the whole-sample rows, which analyze --by
                # does not repeat.
                mine["estimates"] = [r for r in mine["estimates"] if r["domain"] is not None]
                column = by[1]
                for row in theirs["estimates"]:
                    code = row["domain"][column]
                    code = str(int(code)) if isinstance(code, float) else str(code)
                    row["domain"] = {column: names[column].get(code, code)}
            failures += _same_estimates(where, mine, theirs)
    return failures


def _last_line(result: Any) -> str:
    tb = traceback_of(result)
    text = tb if tb is not None else result.output
    lines = text.strip().splitlines()
    return lines[-1][:300] if lines else ""


def _same_estimates(where: str, report: dict[str, Any], analyzed: dict[str, Any]) -> list[str]:
    mine, theirs = _estimates(report), _estimates(analyzed)
    if mine.keys() != theirs.keys():
        return [f"{where}: rows differ: {sorted(mine.keys() ^ theirs.keys())[:6]}"]
    failures = []
    for key, row in mine.items():
        other = theirs[key]
        for name in ("estimate", "se", "ci_low", "ci_high", "deff", "n", "verdict"):
            a, b = row.get(name), other.get(name)
            if isinstance(a, float) and isinstance(b, float):
                same = bool(np.isclose(a, b, rtol=1e-9, atol=1e-12)) or (
                    np.isnan(a) and np.isnan(b)
                )
            else:
                same = a == b
            if not same:
                failures.append(f"{where} {key} {name}: report {a!r}, analyze {b!r}")
    return failures


def _estimates(payload: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (row["variable"], json.dumps(row.get("domain"), sort_keys=True, ensure_ascii=False)): row
        for row in payload["estimates"]
    }


def _backup(app: Flask, path: Path, failures: list[str]) -> list[str] | None:
    result = cli(app, ["backup", "--output", str(path)])
    if result.exit_code != 0:
        failures.append(
            f"backup on {app.config['SQLALCHEMY_DATABASE_URI'][:12]}: {_last_line(result)}"
        )
        return None
    return path.read_text(encoding="utf-8").splitlines()[1:]  # without the dated header


def round_trip(dbs: Databases, first: list[str], first_path: Path) -> list[str]:
    """Backup -> restore into the other kind of database -> backup is the same, and back."""
    reason = dbs.pg_available()
    if reason is not None:
        return [] if os.environ.get("CI", "").lower() != "true" else [f"no PostgreSQL: {reason}"]
    failures: list[str] = []
    second_path = first_path.with_name("second.jsonl")
    with dbs.app(other_kind()) as other:
        restored = cli(other, ["restore", str(first_path)])
        if restored.exit_code != 0:
            return [f"restore into {other_kind()}: {_last_line(restored)}"]
        second = _backup(other, second_path, failures)
    if second is None:
        return failures
    if not same_rows(first, second):
        return [f"{primary_kind()} -> {other_kind()}: {_first_difference(first, second)}"]
    with dbs.app(primary_kind()) as again:
        restored = cli(again, ["restore", str(second_path)])
        if restored.exit_code != 0:
            return [f"restore back into {primary_kind()}: {_last_line(restored)}"]
        third = _backup(again, first_path.with_name("third.jsonl"), failures)
        if third is not None and not same_rows(first, third):
            failures.append(
                f"{other_kind()} -> {primary_kind()}: {_first_difference(first, third)}"
            )
        # A restored database takes new rows (its id sequences continue after the restored ids).
        from surveyapp.models import Unit

        try:
            db.session.add(Unit(code="99", name="Tỉnh mới", level="province"))
            db.session.commit()
        except Exception as exc:
            failures.append(f"a new row after the restore: {exc!r}"[:300])
    return failures


ISO_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00)?$")


def same_rows(a: list[str], b: list[str]) -> bool:
    """Backups hold the same rows. SQLite hands back naive UTC datetimes and PostgreSQL
    aware ones, so ``...T09:25:32`` and ``...T09:25:32+00:00`` are the same moment."""
    return len(a) == len(b) and all(
        x == y or _moments(x) == _moments(y) for x, y in zip(a, b, strict=True)
    )


def _moments(line: str) -> Any:
    item = json.loads(line)
    return {
        k: (v.removesuffix("+00:00") if isinstance(v, str) and ISO_MOMENT.match(v) else v)
        for k, v in item["r"].items()
    } | {"__table": item["t"]}


def _first_difference(a: list[str], b: list[str]) -> str:
    for x, y in zip(a, b, strict=False):
        if not same_rows([x], [y]):
            return f"first difference:\n{x[:300]}\n{y[:300]}"
    return f"{len(a)} lines against {len(b)}"
