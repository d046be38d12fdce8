"""``surveyapp official``: the registry of published results (SIPAS, PAR INDEX, PAPI, PCI)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from surveyapp.cli_common import emit, fail
from surveyapp.extensions import db
from surveyapp.models.official import OfficialIndex
from surveyapp.services import ServiceError, official

official_cli = AppGroup("official", help="Published index results and own-survey history.")


@official_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
def official_import(file: str) -> None:
    """Import results from CSV/XLSX: every row, or none (problems named by row and column)."""
    try:
        data = Path(file).read_bytes()
        changed = official.import_results(data, Path(file).name)
    except OSError as exc:
        fail(str(exc))
    except ServiceError as exc:
        db.session.rollback()
        fail(_("Nothing was imported.") + "\n" + str(exc))
    db.session.commit()
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


COMMANDS = (official_cli,)
