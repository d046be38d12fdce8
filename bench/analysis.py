"""Benchmark: the full SIPAS report via ``surveyapp analyze`` versus R survey and samplics.

Not a test (pytest never collects it). Run from the repository root::

    .venv/bin/python bench/analysis.py [--rows 1000000] [--peer-rows 100000] [--peer-items 2]

It simulates 1,000,000 respondents x 33 items (63 strata = provinces, ~700 districts,
~33,000 communes as PSUs, 5-30% item non-response), writes CSV and Parquet, and times

* ``surveyapp analyze`` (a subprocess, as a user runs it): 33 item shares + 13 indices
  (criteria 1.1-1.4, 2.1-2.6, fields 1 and 2, overall), national and by district, logit CIs;
* R survey (``svyciprop`` national + ``svyby(..., svyciprop)`` by district, logit) and
  samplics (``TaylorEstimator`` proportion, logit CI, national + domain) on a subsample of
  ``--peer-rows`` respondents and ``--peer-items`` items, extrapolated linearly to the full
  rows x 33 items (indices, which the peers would need extra work for, are not charged to
  them). The extrapolation is printed next to the measured time.

Peak RSS is measured per tool with ``/usr/bin/time``. Everything runs in one go, within a
few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
ITEMS_CSV = Path(os.environ.get("SURVEYAPP_SHARED_DATA", "/work/shared/data")) / "sipas"


def simulate(rows: int, seed: int = 2024) -> pa.Table:
    """A SIPAS-like stratified cluster sample, vectorised."""
    rng = np.random.default_rng(seed)
    n_strata, n_district, n_psu = 63, 700, 33_000
    psu = np.sort(rng.integers(0, n_psu, rows))
    district = psu * n_district // n_psu
    stratum = district * n_strata // n_district
    psu_w = rng.uniform(200, 2000, n_psu)
    weight = psu_w[psu] * rng.uniform(0.8, 1.25, rows)
    effect = rng.normal(0, 0.5, n_psu)[psu] + rng.normal(0, 0.9, rows)
    cols: dict[str, pa.Array] = {
        "stratum": pa.array(stratum + 1, pa.int16()),
        "district": pa.array(district + 1, pa.int16()),
        "psu": pa.array(psu + 1, pa.int32()),
        "w": pa.array(np.round(weight, 3)),
    }
    shift = np.linspace(-0.6, 0.6, 33)
    for k in range(33):
        raw = 3.4 + effect + shift[k] + rng.normal(0, 0.8, rows)
        val = np.clip(np.rint(raw), 1, 5).astype(np.int8)
        miss = rng.random(rows) < (0.3 if k >= 30 else 0.05)
        cols[f"q{k + 1}"] = pa.array(val, mask=miss)
    return pa.table(cols)


def index_args() -> list[str]:
    crit: dict[str, list[str]] = {}
    for line in (ITEMS_CSV / "items-2022.csv").read_text().splitlines()[1:]:
        parts = line.split(",")
        crit.setdefault(parts[2], []).append(f"q{parts[0]}")
    args = [f"{c}={','.join(v)}" for c, v in sorted(crit.items())]
    args += [
        "2.6=" + ",".join(f"q{k}" for k in range(15, 34)),
        "1=1.1,1.2,1.3,1.4",
        "2=2.6",
        "overall=1,2",
    ]
    return [x for a in args for x in ("--index", a)]


def design_args(estimates: list[str]) -> list[str]:
    """The design (weight, strata, PSUs), then ``estimates``, by district and nationally with
    logit intervals: the job every timed ``surveyapp analyze`` run does."""
    design = ["--weight", "w", "--strata", "stratum", "--cluster", "psu"]
    return [*design, *estimates, "--by", "district", "--national", "--ci", "logit"]


CPU: dict[str, float] = {}


def timed(cmd: list[str], out: Path | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of a command (user+sys CPU in ``CPU``)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "MAXRSS %M CPU %U %S", *cmd],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {proc.stderr[-2000:]}")
    rss = float(re.findall(r"MAXRSS (\d+)", proc.stderr)[-1]) / 1024
    user, system = re.findall(r"CPU ([0-9.]+) ([0-9.]+)", proc.stderr)[-1]
    CPU[cmd[0]] = float(user) + float(system)
    if out is not None:
        out.write_text(proc.stdout)
    return wall, rss, proc.stdout


R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(TRUE)
d <- read.csv(args[1])
k <- as.integer(args[2])
t0 <- proc.time()[["elapsed"]]
des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = d, nest = TRUE)
df <- degf(des)
for (i in seq_len(k)) {
  v <- paste0("q", i)
  des$variables$.y <- as.numeric(des$variables[[v]] %in% c(4, 5))
  sub <- des[!is.na(des$variables[[v]]), ]
  invisible(svyciprop(~.y, sub, method = "logit", df = df))
  invisible(svyby(~.y, ~district, sub, svyciprop, method = "logit", vartype = "ci", df = df))
}
cat("ESTIMATION", proc.time()[["elapsed"]] - t0, "\n")
"""

SAMPLICS = r"""
import sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np, pandas as pd
from samplics.estimation import TaylorEstimator
from samplics.utils.types import PopParam, SinglePSUEst
d = pd.read_parquet(sys.argv[1])
k = int(sys.argv[2])
t0 = time.perf_counter()
for i in range(1, k + 1):
    s = d[d[f"q{i}"].notna()]
    y = s[f"q{i}"].isin([4, 5]).astype(int).to_numpy()
    for dom in (None, s["district"].to_numpy()):
        est = TaylorEstimator(PopParam.prop, ciprop_method="logit")
        est.estimate(y, samp_weight=s["w"].to_numpy(), stratum=s["stratum"].to_numpy(),
                     psu=s["psu"].to_numpy(), domain=dom, remove_nan=True,
                     single_psu=SinglePSUEst.skip)
print("ESTIMATION", time.perf_counter() - t0)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--peer-rows", type=int, default=100_000)
    ap.add_argument("--peer-items", type=int, default=2)
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "surveyapp-bench"))
    ap.add_argument("--skip-peers", action="store_true")
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    csv_path, pq_path = work / f"sipas-{args.rows}.csv", work / f"sipas-{args.rows}.parquet"
    if not csv_path.exists():
        print(f"simulating {args.rows:,} respondents ...", flush=True)
        table = simulate(args.rows)
        pcsv.write_csv(table, csv_path)
        pq.write_table(table, pq_path)
    sub_csv, sub_pq = work / f"peer-{args.peer_rows}.csv", work / f"peer-{args.peer_rows}.parquet"
    if not sub_csv.exists():
        table = pq.read_table(pq_path)
        # whole PSUs: the first peer_rows respondents of the PSU-sorted file
        sub = table.slice(0, args.peer_rows)
        pcsv.write_csv(sub, sub_csv)
        pq.write_table(sub, sub_pq)

    items = [x for k in range(1, 34) for x in ("--prop", f"q{k}=4,5")]
    cli = [sys.executable, "-m", "surveyapp.analysis"]
    common = design_args([*items, *index_args()])
    results: list[tuple[str, str, float, float, str]] = []
    for label, path in (
        ("surveyapp analyze (CSV)", csv_path),
        ("surveyapp analyze (Parquet)", pq_path),
    ):
        best = None
        for _ in range(3):
            wall, rss, out = timed([*cli, str(path), *common])
            cpu = CPU[cli[0]]
            best = (wall, rss, cpu) if best is None or wall < best[0] else best
        assert best is not None
        n_rows = len(json.loads(out)["estimates"])
        results.append(
            (
                label,
                f"{args.rows:,} x 33 + 13 idx",
                best[0],
                best[1],
                f"measured (best of 3), CPU {best[2]:.2f} s, {n_rows} rows",
            )
        )
        print(f"{label}: {best[0]:.2f} s, {best[1]:.0f} MiB", flush=True)
    ours = min(r[2] for r in results)
    # the peers' exact job on the same subsample, measured rather than extrapolated
    peer_items = [x for k in range(1, args.peer_items + 1) for x in ("--prop", f"q{k}=4,5")]
    sub_cmd = [*cli, str(sub_csv), *design_args(peer_items)]
    wall, rss, _ = timed(sub_cmd)
    results.append(
        (
            "surveyapp analyze (CSV, peers' job)",
            f"{args.peer_rows:,} x {args.peer_items}",
            wall,
            rss,
            f"measured, CPU {CPU[cli[0]]:.2f} s",
        )
    )
    sub_ours = wall
    scale = (args.rows / args.peer_rows) * (33 / args.peer_items)
    if not args.skip_peers:
        if shutil.which("Rscript"):
            rs = work / "peer.R"
            rs.write_text(R_SCRIPT)
            wall, rss, out = timed(["Rscript", str(rs), str(sub_csv), str(args.peer_items)])
            est = float(re.findall(r"ESTIMATION ([0-9.]+)", out)[0])
            results.append(
                (
                    "R survey 4.1 svyciprop+svyby",
                    f"{args.peer_rows:,} x {args.peer_items}",
                    wall,
                    rss,
                    f"estimation {est:.1f} s; extrapolated full: {est * scale:.0f} s",
                )
            )
            print(f"R: {wall:.1f} s wall, estimation {est:.1f} s", flush=True)
        sp = work / "peer_samplics.py"
        sp.write_text(SAMPLICS)
        wall, rss, out = timed([sys.executable, str(sp), str(sub_pq), str(args.peer_items)])
        est = float(re.findall(r"ESTIMATION ([0-9.]+)", out)[0])
        results.append(
            (
                "samplics 0.6 TaylorEstimator",
                f"{args.peer_rows:,} x {args.peer_items}",
                wall,
                rss,
                f"estimation {est:.1f} s; extrapolated full: {est * scale:.0f} s",
            )
        )
        print(f"samplics: {wall:.1f} s wall, estimation {est:.1f} s", flush=True)
    print()
    print("| tool | data | wall s | peak RSS MiB | note |\n|---|---|---|---|---|")
    for label, data, wall, rss, note in results:
        print(f"| {label} | {data} | {wall:.2f} | {rss:.0f} | {note} |")
    print()
    for label, _, wall, _, note in results[3:]:
        m = re.search(r"extrapolated full: ([0-9.]+) s", note)
        if m:
            print(
                f"measured on the subsample vs {label}: {wall / sub_ours:.0f}x "
                "(peer wall incl. start-up and reading / ours, same data, same job)"
            )
            print(
                f"speed-up vs {label}: {float(m.group(1)) / ours:.0f}x "
                f"(extrapolated peer estimation time / our best wall time incl. reading)"
            )


if __name__ == "__main__":
    main()
