"""``surveyapp official``: the registry of published results (SIPAS, PAR INDEX, PAPI, PCI)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from surveyapp.cli_common import emit, import_file
from surveyapp.models.official import OfficialIndex
from surveyapp.services import crosswalk, official, unit_tree

official_cli = AppGroup("official", help="Published index results and own-survey history.")


@official_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
def official_import(file: str) -> None:
    """Import results from CSV/XLSX: every row, or none (problems named by row and column)."""
    changed = import_file(official.import_results, file)
    click.echo(_("%(n)d results imported.", n=len(changed)))


@official_cli.command("list")
@click.option("--index", type=click.Choice([i.value for i in OfficialIndex]), default=None)
@click.option("--province", default=None, help="Province code, e.g. 75.")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table")
def official_list(index: str | None, province: str | None, fmt: str) -> None:
    """The registry, newest year first."""
    rows = [
        {
            "index": official.index_label(r.index_code),
            "kind": str(r.kind),
            "year": r.year,
            "province": r.province_code,
            "node": r.node,
            "score": r.score,
            "max_score": r.max_score,
            "rank": f"{r.rank}/{r.rank_of}" if r.rank is not None else None,
            "se": r.se,
            "source": r.source,
        }
        for r in official.listing(OfficialIndex(index) if index else None, province)
    ]
    emit(rows, fmt, ["index", "kind", "year", "province", "node", "score", "max_score", "rank"])


@official_cli.command("template")
@click.option("--output", type=click.Path(dir_okay=False), help="File to write (default stdout).")
def official_template(output: str | None) -> None:
    """A CSV with the registry's columns and an example row per index."""
    data = official.template()
    if output:
        Path(output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)


units_cli = AppGroup("units", help="Administrative units and the 2025 reorganisation.")
crosswalk_cli = AppGroup("crosswalk", help="Old units → new units, with population shares.")
units_cli.add_command(crosswalk_cli)


@units_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
def units_import(file: str) -> None:
    """Import units from CSV/XLSX (code, name, level, kind, parent_code, valid_from,
    valid_to, urban): every row, or none. A stored code is updated."""
    changed = import_file(unit_tree.import_units, file)
    click.echo(_("%(n)d units imported.", n=len(changed)))


@crosswalk_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
def crosswalk_import(file: str) -> None:
    """Import a crosswalk from CSV/XLSX: every row, or none (problems named by row and
    column). The mappings of each old unit in the file replace its stored ones."""
    added = import_file(crosswalk.import_crosswalk, file)
    click.echo(_("%(n)d crosswalk rows imported.", n=len(added)))


@crosswalk_cli.command("list")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table")
def crosswalk_list(fmt: str) -> None:
    """The stored crosswalk; ``exact`` is false where an old unit was split."""
    emit(
        crosswalk.listing(),
        fmt,
        ["old_code", "old_name", "new_code", "new_name", "share", "exact", "population"],
    )


@crosswalk_cli.command("template")
@click.option("--output", type=click.Path(dir_okay=False), help="File to write (default stdout).")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default=None)
def crosswalk_template(output: str | None, fmt: str | None) -> None:
    """The crosswalk's columns, the stored mappings and a blank row per historical unit not
    yet mapped: XLSX, or CSV with --format csv or an output file ending in .csv."""
    if fmt is None:
        fmt = "csv" if (output is None or output.lower().endswith(".csv")) else "xlsx"
    data = crosswalk.template(fmt)
    if output:
        Path(output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)


COMMANDS = (official_cli, units_cli)
