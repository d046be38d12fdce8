"""How long an analyst waits for the campaign dashboard and its XLSX report on a big campaign.

Not a test (pytest never collects it). Run from the repository root:

    .venv/bin/python bench/dashboard.py                          # 100k SQLite, 1M PostgreSQL
    .venv/bin/python bench/dashboard.py --backends sqlite --sqlite-rows 20000
    .venv/bin/python bench/dashboard.py --profile                # + where the time goes

For each backend it
1. makes a fresh database (a SQLite file in a temporary folder; a PostgreSQL schema of its own,
   ``bench_dashboard``, dropped afterwards), migrates it and loads the Đồng Nai demo (units,
   desks, the SIPAS questionnaire, the campaign with its targets, the analyst);
2. bulk-loads N simulated final responses into the demo campaign without the ORM (SQLite:
   ``executemany``; PostgreSQL: ``COPY``, binary for the answers): 90 % the probability sample
   (paper and web-with-invitation; 11 strata, 40 of 200 PSUs drawn per stratum, households
   drawn within PSUs, design weight and both population sizes stored), 10 % QR/kiosk ratings
   spread over the demo's 23 desks; 33 Likert items with item non-response of 2-15 %, 3 % of
   respondents who stop after field 1, six demographics with 2 % missing, 1 % void responses;
3. times, as the analyst logged in through the Flask test client (in-process, so only the
   app and the database are measured), ``GET /dashboard/<id>`` and
   ``GET /dashboard/<id>/report.xlsx``: the first request after loading (it folds every
   response's answers into ``response_bits`` once), the best of ``--repeat`` warm runs, and
   the best of ``--repeat`` requests each made right after one more response is stored (a
   campaign in the field: every kept report is out of date), once as the app runs (the
   latest report shown at once, the fresh one computed in the background) and once with
   ``REPORT_STALE_SECONDS = 0`` (waiting for the fresh report: what the background refresh
   costs); and, in the same run, two peers over the same tables: ``SELECT count(*)`` of the
   answers and a single ``GROUP BY question_id, value`` over them (best of ``--repeat``);
4. checks that a new final response shows in the dashboard once its refresh is done.

Only 127.0.0.1 is contacted; every step is bounded by the row counts.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_SCHEMA = "bench_dashboard"
SEED = 7
CHUNK = 50_000  # responses generated and loaded at a time (bounds memory)
STRATUM_PSUS, PSUS_DRAWN = 200, 40
CUTS = np.array([-1.6, -0.9, -0.2, 1.5])
RUN = f"{time.time_ns():x}"  # tells this run's added responses from an earlier run's


# ----------------------------------------------------------------------------- the app


def make_app(url: str) -> Any:
    from surveyapp import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-dashboard",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "BASE_URL": "http://127.0.0.1:5000",
        }
    )


def prepare(app: Any) -> dict[str, Any]:
    """Migrate, load the demo, and return what the generator needs (ids of the demo rows)."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from surveyapp.extensions import db
    from surveyapp.models import Campaign, QuestionType, ServicePoint, Unit, UnitLevel
    from surveyapp.services import demo

    with app.app_context():
        upgrade()
        summary = demo.load()
        db.session.commit()
        campaign = db.session.get(Campaign, summary.campaign_id)
        assert campaign is not None
        districts = db.session.scalars(
            select(Unit).where(Unit.level == UnitLevel.DISTRICT).order_by(Unit.code)
        ).all()
        qn = campaign.questionnaire
        return {
            "campaign_id": campaign.id,
            "questionnaire_id": qn.id,
            "period_id": campaign.periods[0].id,
            "districts": [
                (d.code, [c.id for c in d.children if c.level == UnitLevel.COMMUNE])
                for d in districts
            ],
            "desks": [(s.id, s.unit_id) for s in db.session.scalars(select(ServicePoint))],
            "likert": [q.id for q in qn.questions if q.type == QuestionType.LIKERT5],
            "single": [
                (q.id, max(q.values or [2])) for q in qn.questions if q.type == QuestionType.SINGLE
            ],
            "field1_items": 16,  # q1-q16 are field 1 (access to services)
        }


def reuse(app: Any) -> dict[str, Any]:
    """A schema kept by ``--keep``: bring it to the current migrations and measure again."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from surveyapp.extensions import db
    from surveyapp.models import Campaign

    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE responses")
        return {"campaign_id": db.session.scalar(select(func.min(Campaign.id)))}


# ----------------------------------------------------------------------------- the data


def generate(meta: dict[str, Any], n: int, start_id: int) -> Iterator[dict[str, Any]]:
    """Chunks of responses (columns) and their answers (response, question, value)."""
    rng = np.random.default_rng(SEED)
    n_items = len(meta["likert"])
    offsets = rng.normal(0, 0.2, n_items)
    missing = rng.uniform(0.02, 0.15, n_items)
    strata = meta["districts"]
    # Every stratum draws PSUS_DRAWN of STRATUM_PSUS PSUs; each PSU has N2 households.
    psu_size = rng.integers(3000, 12000, (len(strata), PSUS_DRAWN))
    district_effect = rng.normal(0, 0.25, len(strata))
    desks = meta["desks"]
    likert = np.array(meta["likert"], dtype=np.int32)
    # Household counts per PSU are needed for the weights before the rows are made.
    prob = rng.random(n) < 0.9
    stratum = rng.integers(0, len(strata), n)
    psu = rng.integers(0, PSUS_DRAWN, n)
    drawn = np.zeros((len(strata), PSUS_DRAWN), dtype=np.int64)
    np.add.at(drawn, (stratum[prob], psu[prob]), 1)
    next_id = start_id
    for lo in range(0, n, CHUNK):
        hi = min(lo + CHUNK, n)
        m = hi - lo
        p, s, k = prob[lo:hi], stratum[lo:hi], psu[lo:hi]
        desk = rng.integers(0, len(desks), m)
        channel = np.where(
            p,
            np.where(rng.random(m) < 0.85, "paper", "web_invite"),
            np.where(rng.random(m) < 0.7, "qr", "kiosk"),
        )
        status = np.where(rng.random(m) < 0.01, "void", "final")
        ids = np.arange(next_id, next_id + m)
        next_id += m
        commune = np.array(
            [strata[si][1][ki % len(strata[si][1])] for si, ki in zip(s, k, strict=True)]
        )
        unit = np.where(p, commune, np.array([u for _, u in desks])[desk])
        n2 = psu_size[s, k]
        weight = (STRATUM_PSUS / PSUS_DRAWN) * n2 / np.maximum(drawn[s, k], 1)
        # Strata of their own: the demo's 440 paper responses keep their own design.
        code = [f"B{strata[si][0]}" for si in s]
        responses = {
            "id": ids,
            "channel": channel,
            "status": status,
            "unit_id": unit,
            "service_point_id": np.where(p, -1, np.array([d for d, _ in desks])[desk]),
            "stratum": np.where(p, code, ""),
            "psu": np.where(p, [f"{c}-P{ki:03d}" for c, ki in zip(code, k, strict=True)], ""),
            "ssu": np.where(p, [f"H{i}" for i in ids], ""),
            "weight": np.where(p, weight, np.nan),
            "fpc1": np.where(p, float(STRATUM_PSUS), np.nan),
            "fpc2": np.where(p, n2.astype(float), np.nan),
            "prob": p,
        }
        eta = 0.9 + district_effect[s] + np.where(p, 0.0, 0.2) + rng.standard_normal(m)
        z = eta[:, None] + offsets[None, :] + rng.standard_normal((m, n_items))
        values = 1 + (z[:, :, None] > CUTS[None, None, :]).sum(axis=2)
        blank = rng.random((m, n_items)) < missing[None, :]
        stops = rng.random(m) < 0.03
        blank[stops, meta["field1_items"] :] = True
        single_ids = np.array([q for q, _ in meta["single"]], dtype=np.int32)
        single_vals = np.column_stack(
            [rng.integers(1, options + 1, m) for _, options in meta["single"]]
        )
        single_blank = rng.random(single_vals.shape) < 0.02
        value = np.concatenate(
            [np.where(blank, 0, values), np.where(single_blank, 0, single_vals)], axis=1
        )
        question = np.concatenate([likert, single_ids])
        keep = value != 0
        rows, cols = np.nonzero(keep)
        answers = {
            "response_id": ids[rows].astype(np.int32),
            "question_id": question[cols].astype(np.int32),
            "value": value[rows, cols].astype(np.int32),
        }
        yield {"responses": responses, "answers": answers}


RESPONSE_COLUMNS = [
    "id", "campaign_id", "questionnaire_id", "channel", "status", "nonce", "unit_id",
    "service_point_id", "period_id", "stratum", "psu", "ssu", "weight", "fpc1", "fpc2",
    "language", "flags", "submitted_at",
]  # fmt: skip


def _response_tuples(meta: dict[str, Any], r: dict[str, Any]) -> list[tuple[Any, ...]]:
    out = []
    for i in range(len(r["id"])):
        rid = int(r["id"][i])
        prob = bool(r["prob"][i])
        desk = int(r["service_point_id"][i])
        out.append(
            (
                rid, meta["campaign_id"], meta["questionnaire_id"], str(r["channel"][i]),
                str(r["status"][i]), f"bench-{rid}", int(r["unit_id"][i]),
                None if desk < 0 else desk, meta["period_id"],
                str(r["stratum"][i]) if prob else None, str(r["psu"][i]) if prob else None,
                str(r["ssu"][i]) if prob else None,
                float(r["weight"][i]) if prob else None, float(r["fpc1"][i]) if prob else None,
                float(r["fpc2"][i]) if prob else None, "vi", "[]", "2025-06-01 08:00:00+00:00",
            )
        )  # fmt: skip
    return out


def load_sqlite(app: Any, meta: dict[str, Any], n: int) -> int:
    from surveyapp.extensions import db

    with app.app_context():
        start = _next_id(db, "responses")
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("PRAGMA synchronous=OFF")
            answer_id = _next_id(db, "answers")
            marks = ",".join("?" * len(RESPONSE_COLUMNS))
            for chunk in generate(meta, n, start):
                cur.executemany(
                    f"INSERT INTO responses ({','.join(RESPONSE_COLUMNS)}) VALUES ({marks})",
                    _response_tuples(meta, chunk["responses"]),
                )
                a = chunk["answers"]
                ids = range(answer_id, answer_id + len(a["value"]))
                answer_id += len(a["value"])
                cur.executemany(
                    "INSERT INTO answers (id, response_id, question_id, value) VALUES (?,?,?,?)",
                    zip(ids, a["response_id"].tolist(), a["question_id"].tolist(),
                        a["value"].tolist(), strict=True),
                )  # fmt: skip
            raw.commit()
            cur.execute("ANALYZE")
            raw.commit()
        finally:
            raw.close()
        return answer_id


def _next_id(db: Any, table: str) -> int:
    from sqlalchemy import text

    return int(db.session.scalar(text(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")))


def _copy_binary_answers(first_id: int, a: dict[str, np.ndarray]) -> bytes:
    """PostgreSQL's binary COPY format for (id, response_id, question_id, value), all int4."""
    n = len(a["value"])
    dtype = np.dtype(
        [("f", ">i2")] + [(f"{name}{part}", ">i4") for name in "abcd" for part in ("l", "v")]
    )
    rows = np.empty(n, dtype=dtype)
    rows["f"] = 4
    for name, values in zip(
        "abcd",
        (np.arange(first_id, first_id + n), a["response_id"], a["question_id"], a["value"]),
        strict=True,
    ):
        rows[f"{name}l"] = 4
        rows[f"{name}v"] = values
    header = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
    return header + rows.tobytes() + b"\xff\xff"


def load_postgres(app: Any, meta: dict[str, Any], n: int) -> int:
    from surveyapp.extensions import db

    with app.app_context():
        start = _next_id(db, "responses")
        answer_id = _next_id(db, "answers")
        raw = db.engine.raw_connection()
        try:
            conn = raw.driver_connection
            assert conn is not None
            with conn.cursor() as cur:
                # The generator's foreign keys are right by construction; checking 30M of
                # them one trigger call at a time would be most of the load time.
                cur.execute("SET session_replication_role = replica")
                for chunk in generate(meta, n, start):
                    r = chunk["responses"]
                    with cur.copy(
                        f"COPY responses ({','.join(RESPONSE_COLUMNS)}) FROM STDIN"
                    ) as copy:
                        for row in _response_tuples(meta, r):
                            copy.write_row(row)
                    a = chunk["answers"]
                    with cur.copy(
                        "COPY answers (id, response_id, question_id, value) "
                        "FROM STDIN (FORMAT BINARY)"
                    ) as copy:
                        copy.write(_copy_binary_answers(answer_id, a))
                    answer_id += len(a["value"])
                cur.execute("SET session_replication_role = DEFAULT")
                for table in ("responses", "answers"):
                    cur.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE responses")
            conn.execute("VACUUM ANALYZE answers")
            conn.autocommit = False
        finally:
            raw.close()
        return answer_id


# ----------------------------------------------------------------------------- timing


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, float]:
    """(first call, best of ``repeat`` further calls) in seconds."""
    t0 = time.perf_counter()
    fn()
    cold = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return cold, min(times)


@contextmanager
def profiled(enabled: bool, label: str) -> Iterator[None]:
    if not enabled:
        yield
        return
    prof = cProfile.Profile()
    prof.enable()
    try:
        yield
    finally:
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
        print(f"--- profile: {label}\n{out.getvalue()}")


def measure(app: Any, meta: dict[str, Any], args: argparse.Namespace) -> dict[str, float]:
    from sqlalchemy import text

    from surveyapp.extensions import db
    from surveyapp.services import demo

    client = app.test_client()
    response = client.post("/login", data={"username": "analyst", "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302, response.status_code
    cid = meta["campaign_id"]

    def page() -> None:
        got = client.get(f"/dashboard/{cid}")
        assert got.status_code == 200, (got.status_code, got.get_data(as_text=True)[-600:])

    def xlsx() -> None:
        got = client.get(f"/dashboard/{cid}/report.xlsx")
        assert got.status_code == 200, (got.status_code, got.get_data(as_text=True)[-600:])

    with app.app_context():

        def count() -> None:
            db.session.execute(text("SELECT count(*) FROM answers")).scalar()
            db.session.rollback()

        def group_by() -> None:
            db.session.execute(
                text("SELECT question_id, value, count(*) FROM answers GROUP BY question_id, value")
            ).all()
            db.session.rollback()

        out: dict[str, float] = {}
        out["count_cold"], out["count"] = best_of(args.repeat, count)
        out["groupby_cold"], out["groupby"] = best_of(args.repeat, group_by)
        db.session.remove()
    with profiled(args.profile, "dashboard page (first view: folds every response's answers)"):
        t0 = time.perf_counter()
        page()
        out["page_cold"] = time.perf_counter() - t0
    note("page, first view after loading", out["page_cold"])
    with app.app_context():  # a --reuse run may have shown an older report: let it refresh
        from surveyapp.services import report_cache

        report_cache.wait_for_refreshes(600)
    out["page"] = min(_timed(page) for _ in range(args.repeat))
    note("page, best warm", out["page"])
    out["xlsx_cold"], out["xlsx"] = best_of(args.repeat, xlsx)
    note("xlsx, first", out["xlsx_cold"])
    note("xlsx, best warm", out["xlsx"])
    # While fieldwork runs every view after a new response finds its reports out of date.
    # The page and its downloads then show the latest report at once (saying when it was
    # computed) and refresh it in the background (REPORT_STALE_SECONDS); with that turned off
    # they wait for the fresh report, which is also the background refresh's time. Each run
    # stores one more response (with its answers) first.
    for name, fn in (("page", page), ("xlsx", xlsx)):
        out[f"{name}_new"] = min(
            _after_new(app, meta, f"{name}-{i}", fn, settle=True) for i in range(args.repeat)
        )
        note(f"{name}, best after a new response (latest report shown)", out[f"{name}_new"])
    stale_seconds = app.config["REPORT_STALE_SECONDS"]
    app.config["REPORT_STALE_SECONDS"] = 0
    try:
        for name, fn in (("page", page), ("xlsx", xlsx)):
            with profiled(args.profile, f"{name} after a new response (fresh report)"):
                first = _after_new(app, meta, f"{name}-fresh-0", fn)
            rest = [_after_new(app, meta, f"{name}-fresh-{i}", fn) for i in range(1, args.repeat)]
            out[f"{name}_fresh"] = min([first, *rest])
            note(f"{name}, best after a new response (fresh report)", out[f"{name}_fresh"])
    finally:
        app.config["REPORT_STALE_SECONDS"] = stale_seconds
    out["fresh"] = float(still_fresh(app, client, meta))
    return out


def _after_new(
    app: Any, meta: dict[str, Any], tag: str, fn: Callable[[], Any], *, settle: bool = False
) -> float:
    """Store one more response, then time ``fn``; with ``settle``, let the background refresh
    it started finish (untimed) before the next run."""
    from surveyapp.services import report_cache

    add_response(app, meta, tag)
    spent = _timed(fn)
    if settle:
        with app.app_context():
            report_cache.wait_for_refreshes(600)
    return spent


def add_response(app: Any, meta: dict[str, Any], tag: str) -> int:
    """Store a copy of a paper response, answers included, as a new final response."""
    from sqlalchemy import select

    from surveyapp.extensions import db
    from surveyapp.models import Answer, Response

    cid = meta["campaign_id"]
    with app.app_context():
        row = db.session.execute(
            Response.__table__.select()
            .where(Response.campaign_id == cid, Response.channel == "paper")
            .limit(1)
        ).one()
        values = dict(row._mapping)
        source = values.pop("id")
        # Unique per run too: a --reuse run stores into a schema an earlier run added to.
        values["nonce"] = f"bench-{RUN}-{tag}"
        values["ssu"] = f"bench-{RUN}-{tag}"
        new_id = db.session.execute(
            Response.__table__.insert().values(**values).returning(Response.id)
        ).scalar_one()
        db.session.execute(
            Answer.__table__.insert().from_select(
                ["response_id", "question_id", "value", "text"],
                select(Answer.response_id * 0 + new_id, Answer.question_id, Answer.value,
                       Answer.text).where(Answer.response_id == source),
            )
        )  # fmt: skip
        db.session.commit()
        return int(new_id)


def note(label: str, seconds: float) -> None:
    """Each figure as soon as it is measured (a slow run can be read while it goes on)."""
    print(f"  {label}: {seconds:.3f} s", flush=True)


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def still_fresh(app: Any, client: Any, meta: dict[str, Any]) -> bool:
    """A new final response must change the dashboard (its response count) once the
    background refresh it starts is done."""
    from surveyapp.services import report_cache

    cid = meta["campaign_id"]
    before = client.get(f"/dashboard/{cid}/report.json").json["design"]["n"]
    add_response(app, meta, "fresh")
    client.get(f"/dashboard/{cid}/report.json")  # the latest report, or already the fresh one
    with app.app_context():
        report_cache.wait_for_refreshes(600)
    after = client.get(f"/dashboard/{cid}/report.json").json["design"]["n"]
    return bool(after == before + 1)


# ----------------------------------------------------------------------------- backends


def run_sqlite(n: int, args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        path = Path(args.sqlite_file) if args.sqlite_file else Path(tmp) / "bench.sqlite"
        path.unlink(missing_ok=True)
        app = make_app(f"sqlite:///{path}")
        t0 = time.perf_counter()
        meta = prepare(app)
        load_sqlite(app, meta, n)
        loaded = time.perf_counter() - t0
        note("load", loaded)
        out = measure(app, meta, args)
        out["load"] = loaded
        with app.app_context():
            from surveyapp.extensions import db

            db.engine.dispose()
        return out


def run_postgres(n: int, args: argparse.Namespace) -> dict[str, float]:
    import psycopg

    from surveyapp.config import normalise_database_url

    plain = normalise_database_url(PG_URL).replace("postgresql+psycopg://", "postgresql://")
    admin = psycopg.connect(plain, autocommit=True, connect_timeout=5)
    schema = args.pg_schema
    if not args.reuse:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    url = f"{normalise_database_url(PG_URL)}{sep}options=-csearch_path%3D{schema}"
    app = make_app(url)
    try:
        t0 = time.perf_counter()
        if args.reuse:
            meta = reuse(app)
        else:
            meta = prepare(app)
            load_postgres(app, meta, n)
        loaded = time.perf_counter() - t0
        note("load", loaded)
        out = measure(app, meta, args)
        out["load"] = loaded
        return out
    finally:
        with app.app_context():
            from surveyapp.extensions import db

            db.session.remove()
            db.engine.dispose()
        if not args.keep:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()


def report(name: str, n: int, goal: float, m: dict[str, float]) -> None:
    print(f"\n== {name}: {n:,} responses (loaded in {m['load']:.1f} s)")
    rows = [
        ("peer: SELECT count(*) FROM answers", "count", "count_cold"),
        ("peer: GROUP BY question_id, value", "groupby", "groupby_cold"),
        ("GET /dashboard/<id>, first view after load", "page", "page_cold"),
        ("GET /dashboard/<id>, new response, latest shown", "page_new", None),
        ("GET /dashboard/<id>, new response, fresh", "page_fresh", None),
        ("GET /dashboard/<id>/report.xlsx", "xlsx", "xlsx_cold"),
        ("report.xlsx, new response, latest shown", "xlsx_new", None),
        ("report.xlsx, new response, fresh", "xlsx_fresh", None),
    ]
    print(f"{'what':<46} {'first s':>8} {'best s':>8} {'× count(*)':>11} {'× GROUP BY':>11}")
    for label, key, first in rows:
        best = m[key]
        shown = f"{m[first]:>8.3f}" if first else f"{'':>8}"
        print(f"{label:<46} {shown} {best:>8.3f} {best / m['count']:>11.1f} "
              f"{best / m['groupby']:>11.2f}")  # fmt: skip
    for label, page, xlsx in [
        ("warm", "page", "xlsx"),
        ("after a new response, latest shown", "page_new", "xlsx_new"),
        ("after a new response, fresh", "page_fresh", "xlsx_fresh"),
    ]:
        worst = max(m[page], m[xlsx])
        print(f"goal ≤ {goal:g} s for page and xlsx, {label}: "
              f"{'met' if worst <= goal else 'NOT met'} ({worst:.2f} s)")  # fmt: skip
    print(f"a new response changes the dashboard: {'yes' if m['fresh'] else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--sqlite-rows", type=int, default=100_000)
    parser.add_argument("--pg-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="warm runs; the best is shown")
    parser.add_argument("--profile", action="store_true", help="cProfile the cold page and XLSX")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the schema a --keep run left (no load)"
    )
    parser.add_argument("--pg-schema", default=PG_SCHEMA, help="created and dropped")
    parser.add_argument("--sqlite-file", help="build the SQLite database here and keep it")
    args = parser.parse_args()
    backends = args.backends.split(",")
    if "sqlite" in backends:
        report("SQLite", args.sqlite_rows, 1.0, run_sqlite(args.sqlite_rows, args))
    if "postgres" in backends:
        report("PostgreSQL", args.pg_rows, 5.0, run_postgres(args.pg_rows, args))


if __name__ == "__main__":
    main()
