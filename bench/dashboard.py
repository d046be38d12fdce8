"""How long an analyst waits for the campaign dashboard and its XLSX report on a big campaign
(issue 16's goals), on a campaign shaped like today's Đồng Nai one.

Not a test (pytest never collects it). Run from the repository root:

    .venv/bin/python bench/dashboard.py                          # 100k SQLite, 1M PostgreSQL
    .venv/bin/python bench/dashboard.py --backends sqlite --paper-share 0.02
    .venv/bin/python bench/dashboard.py --backends sqlite --profile   # + where the time goes

For each backend it
1. makes a fresh database (a SQLite file in a temporary folder; a PostgreSQL schema of its own,
   ``bench_dashboard``, dropped afterwards), migrates it and loads the Đồng Nai demo
   (:mod:`surveyapp.services.demo`: 95 communes of the 2025 structure with three hamlets each
   and their household frame, 96 active desks, SIPAS and the desk questionnaire, the 2024 and
   2026 campaigns, the analyst);
2. adds a bench campaign of its own, built the way the demo builds its 2026 campaign and with
   its functions: the province's campaign with the 2025 targets (``demo._campaign``), the
   desk questionnaire on QR and kiosk when ``--desk-questionnaire desk`` (the default when the
   demo's 2026 campaign does so; ``demo._desk_questionnaire_on_desks``), the 2026 campaign's
   calibration margins copied (``margins.import_margins``), and its paper sample drawn by
   ``sampling.draw`` with the demo's plan (``demo.DRAW_PLAN_2026``: every commune a stratum,
   two hamlets by PPS, households by SRS); the campaign runs over the demo campaign's dates, so
   the desks' transaction volumes for that period weight its desk ratings;
3. bulk-loads N simulated final responses into it without the ORM (SQLite: ``executemany``;
   PostgreSQL: ``COPY``, binary for the numeric answers): ``--paper-share`` of them the
   probability sample (SIPAS on paper, spread evenly over the drawn hamlets; stratum, PSU and
   SSU as ``sampling.draw`` labels them, design weight ``1 / (π_hamlet · n_h / N_h)`` where
   ``N_h`` is the hamlet's frame households scaled to the province's ~1.23 million households
   and never below the ``n_h`` drawn, and the population sizes the plan stores: none for a PPS
   stage; the forms the draw printed are the first responses of their hamlets, returned), the
   others QR/kiosk ratings spread over the 96 active desks (the desk questionnaire: five
   criteria, the overall rating, reasons and a few comments for a low rating; or SIPAS).
   SIPAS answers: 33 Likert items with item non-response of 2-15 %, 3 % of respondents who
   stop after section A, six demographics with 2 % missing (area from the commune); 1 % of
   responses void;
4. measures, as the analyst logged in through the Flask test client (in-process, so only the
   app and the database are measured), ``GET /dashboard/<id>?by=commune`` (both samples, all
   indices, by commune) and ``GET /dashboard/<id>/report.xlsx``:
   (1) the bulk load and the first view after it, and their total: the first view folds the
   load's tally journal (every loaded QR/kiosk rating) and the paper answers' bit masks on
   its way; with ``--fold-first`` that fold is timed on its own before the first view
   (``data.tallies.fold`` for the ratings, then ``services.reports.fold`` for the paper bits,
   what ``surveyapp fold`` does) and counted in the total. Checks that the load journalled
   every loaded rating, and that the convenience report's n equals the final QR/kiosk
   ratings loaded (a rating the tallies silently missed fails the bench);
   (2) the fresh report right after a new response (no report is kept between requests, so
   every request computes one): store one more paper response and one more QR rating, then
   request; best of ``--repeat``; then the same request again without a new response (it
   costs the same: nothing is kept); then checks that the new response shows in
   ``report.json``;
   (3) peers in the same run over the same tables: ``SELECT count(*) FROM answers`` and
   ``SELECT question_id, value, count(*) FROM answers GROUP BY question_id, value``; every
   view time is also shown as a multiple of the GROUP BY.
   ``--profile`` adds a cProfile of one more fresh page and XLSX (cumulative, top functions).

The report machinery is reached through HTTP requests; only the fold (``--fold-first``) and
the convenience n check call services directly. Only 127.0.0.1 is contacted; every step is
bounded by the row counts and ``--repeat``. Every figure is printed with the load average
(the machine may be shared).
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_SCHEMA = "bench_dashboard"
BENCH_NAME = "Bench: khảo sát SIPAS quy mô lớn (dữ liệu mô phỏng)"
SEED = 7
DRAW_SEED = 16
CHUNK = 50_000  # responses generated and loaded at a time (bounds memory)
CUTS = np.array([-1.6, -0.9, -0.2, 1.5])
CHANNEL_EFFECT = {"paper": 0.0, "qr": 0.25, "kiosk": 0.15}
BY = "commune"
GOAL_FIRST = 30.0  # s, bulk load + first view, 1M PostgreSQL
GOAL_FRESH = {"sqlite": 1.0, "postgres": 2.0}  # s, fresh report (100k SQLite, 1M PostgreSQL)
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


def prepare(app: Any, desk_questionnaire: str | None) -> dict[str, Any]:
    """Migrate, load the demo, add the bench campaign; return what the generator needs."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from surveyapp.extensions import db
    from surveyapp.models import Campaign, CampaignStatus, Channel, Unit
    from surveyapp.services import demo, instruments, margins, sampling

    with app.app_context():
        upgrade()
        summary = demo.load()
        db.session.commit()
        model = db.session.get_one(Campaign, summary.current_campaign_id)
        on_desks = {
            c.questionnaire_id for c in model.channels if c.channel in (Channel.QR, Channel.KIOSK)
        }
        desk_qn = instruments.desk()
        demo_uses = "desk" if on_desks == {desk_qn.id} else "sipas"
        chosen = desk_questionnaire or demo_uses
        province = db.session.scalars(select(Unit).where(Unit.code == "75")).one()
        campaign = demo._campaign(
            BENCH_NAME, instruments.sipas(), province, model.starts, model.ends,
            CampaignStatus.OPEN,
        )  # fmt: skip
        if chosen == "desk":
            demo._desk_questionnaire_on_desks(campaign)
        stored = margins.stored(model)
        if stored:
            margins.import_margins(campaign, _margins_file(stored), "bench-margins.csv")
        sample = sampling.draw(campaign, demo.DRAW_PLAN_2026, DRAW_SEED)
        forms = sampling.forms_of(sample.id)
        db.session.commit()
        meta = _describe(campaign, forms)
        meta["desk_questionnaire"] = chosen
        meta["demo_desk_questionnaire"] = demo_uses
        return meta


def _margins_file(stored: list[Any]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["variable", "category", "population", "source"])
    for m in stored:
        population = int(m.population) if float(m.population).is_integer() else m.population
        writer.writerow([m.variable.value, m.category, population, m.source])
    return out.getvalue().encode()


def _describe(campaign: Any, forms: list[Any]) -> dict[str, Any]:
    """The bench campaign's ids, its drawn hamlets with their design, the desks, the items."""
    from sqlalchemy import func, select

    from surveyapp.extensions import db
    from surveyapp.models import Channel, Household, QuestionType, ServicePoint, Unit, UnitLevel
    from surveyapp.services import demo

    frame = dict(
        db.session.execute(
            select(Household.village_id, func.count()).group_by(Household.village_id)
        ).all()
    )
    new_villages = db.session.scalars(
        select(Unit.id).where(Unit.level == UnitLevel.VILLAGE, Unit.valid_from.is_not(None))
    ).all()
    # The demo's frame lists 30-119 households a hamlet; the province has ~1.23 million.
    scale = demo.ADULTS_2026 / demo.ADULTS_PER_HOUSEHOLD / sum(frame[v] for v in new_villages)
    psus: dict[str, dict[str, Any]] = {}
    for form in forms:
        if form.reserve:
            continue
        village = form.household.village
        psu = psus.setdefault(
            form.psu,
            {
                "stratum": form.stratum,
                "psu": form.psu,
                "commune": village.parent_id,
                "urban": bool(village.urban),
                "pi": float(np.prod(form.stage_probs[:-1])),
                "households": round(frame[village.id] * scale),
                "fpc1": form.fpc1,
                "fpc2": form.fpc2 is not None,  # SRS of households: N_h is the fpc
                "forms": [],
            },
        )
        psu["forms"].append((form.serial, form.ssu))
    communes = sorted({p["commune"] for p in psus.values()})
    desks = [
        (s.id, s.unit_id, bool(s.unit.urban))
        for s in db.session.scalars(
            select(ServicePoint).where(ServicePoint.active.is_(True)).order_by(ServicePoint.id)
        )
    ]
    sipas = campaign.questionnaire
    desk_qn = (
        next((c.questionnaire for c in campaign.channels if c.channel == Channel.QR), None) or sipas
    )
    by_code = {q.code: q for q in desk_qn.questions}
    return {
        "campaign_id": campaign.id,
        "period_id": campaign.periods[0].id,
        "starts": campaign.periods[0].starts,
        "days": max((min(campaign.ends, _today()) - campaign.starts).days, 1),
        "sipas_id": sipas.id,
        "desk_qn_id": desk_qn.id,
        "psus": list(psus.values()),
        "communes": communes,
        "desks": desks,
        "likert": [q.id for q in sipas.questions if q.type == QuestionType.LIKERT5],
        "field1_items": sum(
            1 for q in sipas.questions if q.type == QuestionType.LIKERT5 and q.section.code == "A"
        ),
        "single": [
            (q.id, q.code, len(q.values or [1, 2]))
            for q in sipas.questions
            if q.type == QuestionType.SINGLE
        ],
        "desk_items": [by_code[c].id for c in demo.DESK_ITEMS if c in by_code],
        "desk_reasons": [demo.DESK_REASONS[c] for c in demo.DESK_ITEMS if c in by_code],
        "desk_overall": by_code["d_overall"].id if "d_overall" in by_code else None,
        "desk_why": by_code["d_why"].id if "d_why" in by_code else None,
        "desk_reasons_id": by_code["d_reasons"].id if "d_reasons" in by_code else None,
    }


def _today() -> Any:
    from datetime import date

    return date.today()


def reuse(app: Any) -> dict[str, Any]:
    """A database kept by ``--keep`` (or ``--sqlite-file``): migrate it and measure again."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from surveyapp.extensions import db
    from surveyapp.models import Campaign

    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE responses")
        cid = db.session.scalar(select(Campaign.id).where(Campaign.name == BENCH_NAME))
        assert cid is not None, "no bench campaign in this database"
        return {"campaign_id": cid, "desk_questionnaire": "as stored"}


# ----------------------------------------------------------------------------- the data


def generate(
    meta: dict[str, Any], n: int, share: float, start_id: int, *, postgres: bool
) -> Iterator[dict[str, Any]]:
    """Chunks of response rows and their answers (numeric, and text)."""
    rng = np.random.default_rng(SEED)
    psus = meta["psus"]
    n_items = len(meta["likert"])
    offsets = rng.normal(0, 0.2, n_items)
    missing = rng.uniform(0.02, 0.15, n_items)
    communes = meta["communes"]
    # The demo's commune effect: N(0, 0.25²) plus the trend since 2024.
    effect = dict(zip(communes, 0.1 + rng.normal(0, 0.25, len(communes)), strict=True))
    psu_effect = np.array([effect[p["commune"]] for p in psus])
    desks = meta["desks"]
    desk_effect = np.array([effect.get(unit, 0.0) for _, unit, _ in desks])
    desk_urban = np.array([urban for _, _, urban in desks])
    prob = rng.random(n) < share
    psu = rng.integers(0, len(psus), n)
    drawn = np.bincount(psu[prob], minlength=len(psus))
    households = np.maximum([p["households"] for p in psus], drawn)
    pi = np.array([p["pi"] for p in psus])
    weight = households / (pi * np.maximum(drawn, 1))
    # The drawn forms are the first responses of their hamlet (returned, keyed).
    form_of = np.full(n, -1)
    form_list: list[tuple[str, str]] = []
    order = np.flatnonzero(prob)
    order = order[np.argsort(psu[order], kind="stable")]
    firsts = np.searchsorted(psu[order], np.arange(len(psus)))
    for k, p in enumerate(psus):
        take = order[firsts[k] : firsts[k] + min(len(p["forms"]), int(drawn[k]))]
        form_of[take] = np.arange(len(form_list), len(form_list) + len(take))
        form_list += p["forms"][: len(take)]
    desk_q = meta["desk_questionnaire"] == "desk"
    single_ids = np.array([q for q, _, _ in meta["single"]], dtype=np.int64)
    probs = _demographic_probs(meta["single"])
    stamp = "{} {:02d}:{:02d}:00" + ("+00" if postgres else ".000000")
    next_id = start_id
    for lo in range(0, n, CHUNK):
        hi = min(lo + CHUNK, n)
        m = hi - lo
        p, k = prob[lo:hi], psu[lo:hi]
        d = rng.integers(0, len(desks), m)
        channel = np.where(p, "paper", np.where(rng.random(m) < 0.7, "qr", "kiosk"))
        ids = np.arange(next_id, next_id + m)
        next_id += m
        days = rng.integers(0, meta["days"], m)
        minutes = rng.integers(8 * 60, 17 * 60, m)
        rows = []
        for i in range(m):
            rid = int(ids[i])
            if p[i]:
                h = psus[k[i]]
                f = form_of[lo + i]
                serial, ssu = form_list[f] if f >= 0 else (None, f"{h['psu']}/B{rid}")
                design: tuple[Any, ...] = (
                    meta["sipas_id"], h["commune"], None, serial, h["stratum"], h["psu"], ssu,
                    float(weight[k[i]]), h["fpc1"],
                    float(households[k[i]]) if h["fpc2"] else None,
                )  # fmt: skip
            else:
                desk_id, unit_id, _ = desks[d[i]]
                qn = meta["desk_qn_id"] if desk_q else meta["sipas_id"]
                design = (qn, unit_id, desk_id, None, None, None, None, None, None, None)
            day = meta["starts"] + timedelta(days=int(days[i]))
            rows.append(
                (
                    rid, meta["campaign_id"], design[0], str(channel[i]),
                    "void" if rng.random() < 0.01 else "final", f"bench-{rid}", design[1],
                    design[2], meta["period_id"], *design[3:], "vi", "[]",
                    stamp.format(day.isoformat(), minutes[i] // 60, minutes[i] % 60),
                )
            )  # fmt: skip
        area = np.where(p, psu_effect[k], desk_effect[d])
        eta = 0.9 + area + np.vectorize(CHANNEL_EFFECT.get)(channel) + rng.standard_normal(m)
        sipas = p | (not desk_q)
        parts_r, parts_q, parts_v = [], [], []
        texts: list[tuple[int, int, str]] = []
        # SIPAS: Likert items with item non-response, early stops, demographics.
        s_ids, s_eta = ids[sipas], eta[sipas]
        ms = len(s_ids)
        z = s_eta[:, None] + offsets[None, :] + rng.standard_normal((ms, n_items))
        values = 1 + (z[:, :, None] > CUTS[None, None, :]).sum(axis=2)
        blank = rng.random((ms, n_items)) < missing[None, :]
        blank[rng.random(ms) < 0.03, meta["field1_items"] :] = True
        urban = np.where(p, np.array([h["urban"] for h in psus])[k], desk_urban[d])[sipas]
        demo_vals = np.column_stack(
            [
                np.where(urban, 1, 2)
                if code == "area"
                else rng.choice(len(pr), size=ms, p=pr) + 1
                for (_, code, _), pr in zip(meta["single"], probs, strict=True)
            ]
        ) if len(single_ids) else np.zeros((ms, 0), dtype=np.int64)  # fmt: skip
        demo_blank = rng.random(demo_vals.shape) < 0.02
        value = np.concatenate([np.where(blank, 0, values), np.where(demo_blank, 0, demo_vals)], 1)
        question = np.concatenate([np.array(meta["likert"]), single_ids])
        rr, cc = np.nonzero(value)
        parts_r.append(s_ids[rr])
        parts_q.append(question[cc])
        parts_v.append(value[rr, cc])
        if desk_q and (~p).any():
            _desk_answers(rng, meta, ids[~p], eta[~p], parts_r, parts_q, parts_v, texts)
        answers = {
            "response_id": np.concatenate(parts_r).astype(np.int32),
            "question_id": np.concatenate(parts_q).astype(np.int32),
            "value": np.concatenate(parts_v).astype(np.int32),
        }
        yield {"responses": rows, "answers": answers, "texts": texts}


def _demographic_probs(single: list[tuple[int, str, int]]) -> list[np.ndarray]:
    from surveyapp.services import demo

    out = []
    for _, code, options in single:
        given = demo.DEMOGRAPHIC_PROBS.get(code)
        out.append(np.array(given) if given else np.full(options, 1.0 / options))
    return out


def _desk_answers(
    rng: np.random.Generator,
    meta: dict[str, Any],
    ids: np.ndarray,
    eta: np.ndarray,
    parts_r: list[np.ndarray],
    parts_q: list[np.ndarray],
    parts_v: list[np.ndarray],
    texts: list[tuple[int, int, str]],
) -> None:
    """The desk questionnaire: five criteria (each about the mean of its SIPAS items, so
    less noisy than one item), the overall rating their rounded mean; a visitor with a
    rating of 3 or lower gives one or two reasons of the lowest criterion and, one in five,
    a comment."""
    from surveyapp.services import demo

    m, k = len(ids), len(meta["desk_items"])
    z = eta[:, None] + rng.normal(0, 0.15, k)[None, :] + rng.normal(0, 0.6, (m, k))
    crit = (1 + (z[:, :, None] > CUTS[None, None, :]).sum(axis=2)).astype(float)
    crit[rng.random((m, k)) < 0.03] = np.nan
    answered = ~np.isnan(crit).all(axis=1)
    overall = np.floor(np.nanmean(np.where(answered[:, None], crit, 3.0), axis=1) + 0.5)
    for j, qid in enumerate(meta["desk_items"]):
        given = ~np.isnan(crit[:, j])
        parts_r.append(ids[given])
        parts_q.append(np.full(int(given.sum()), qid))
        parts_v.append(crit[given, j].astype(np.int64))
    if meta["desk_overall"] is not None:
        parts_r.append(ids[answered])
        parts_q.append(np.full(int(answered.sum()), meta["desk_overall"]))
        parts_v.append(overall[answered].astype(np.int64))
    if meta["desk_reasons_id"] is None:
        return
    low = answered & (
        (np.nanmin(np.where(answered[:, None], crit, 5.0), axis=1) <= 3) | (overall <= 3)
    )
    lowest = np.argmin(np.where(np.isnan(crit), 9.0, crit), axis=1)
    for i in np.flatnonzero(low):
        pool = meta["desk_reasons"][lowest[i]]
        picked = {int(pool[rng.integers(len(pool))])}
        if rng.random() < 0.4:
            picked.add(int(rng.integers(1, 10)))
        texts.append((int(ids[i]), meta["desk_reasons_id"], ",".join(map(str, sorted(picked)))))
        if meta["desk_why"] is not None and rng.random() < 0.2:
            comment = demo.DESK_COMMENTS[int(rng.integers(len(demo.DESK_COMMENTS)))]
            texts.append((int(ids[i]), meta["desk_why"], comment))


RESPONSE_COLUMNS = [
    "id", "campaign_id", "questionnaire_id", "channel", "status", "nonce", "unit_id",
    "service_point_id", "period_id", "serial", "stratum", "psu", "ssu", "weight", "fpc1",
    "fpc2", "language", "flags", "submitted_at",
]  # fmt: skip


def _after_load(cur: Any, meta: dict[str, Any]) -> None:
    """The drawn forms some response carries the serial of came back (as keying records)."""
    c = int(meta["campaign_id"])
    cur.execute(
        f"UPDATE forms SET fate = 'returned' WHERE campaign_id = {c} AND serial IN "
        f"(SELECT serial FROM responses WHERE campaign_id = {c} AND serial IS NOT NULL)"
    )


def load_sqlite(app: Any, meta: dict[str, Any], n: int, share: float) -> dict[str, int]:
    from surveyapp.extensions import db

    counts = _new_counts()
    with app.app_context():
        start = _next_id(db, "responses")
        journal = _journal_rows(db)
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("PRAGMA synchronous=OFF")
            answer_id = _next_id(db, "answers")
            marks = ",".join("?" * len(RESPONSE_COLUMNS))
            for chunk in generate(meta, n, share, start, postgres=False):
                cur.executemany(
                    f"INSERT INTO responses ({','.join(RESPONSE_COLUMNS)}) VALUES ({marks})",
                    chunk["responses"],
                )
                a = chunk["answers"]
                ids = range(answer_id, answer_id + len(a["value"]))
                answer_id += len(a["value"])
                cur.executemany(
                    "INSERT INTO answers (id, response_id, question_id, value) VALUES (?,?,?,?)",
                    zip(ids, a["response_id"].tolist(), a["question_id"].tolist(),
                        a["value"].tolist(), strict=True),
                )  # fmt: skip
                t = chunk["texts"]
                cur.executemany(
                    "INSERT INTO answers (id, response_id, question_id, text) VALUES (?,?,?,?)",
                    [(answer_id + j, *row) for j, row in enumerate(t)],
                )
                answer_id += len(t)
                counts["responses"] += len(chunk["responses"])
                counts["answers"] += len(a["value"]) + len(t)
                _count_ratings(counts, chunk["responses"])
            _after_load(cur, meta)
            raw.commit()
            cur.execute("ANALYZE")
            raw.commit()
        finally:
            raw.close()
        _check_journal(db, journal, counts)
    return counts


def _new_counts() -> dict[str, int]:
    return {"responses": 0, "answers": 0, "tallied": 0, "ratings_final": 0}


_CHANNEL, _STATUS = RESPONSE_COLUMNS.index("channel"), RESPONSE_COLUMNS.index("status")


def _count_ratings(counts: dict[str, int], rows: list[tuple[Any, ...]]) -> None:
    """The loaded responses the triggers journal (a tallied channel, any status), and the
    final QR/kiosk ratings the convenience report must count (none are held)."""
    from surveyapp.models.tallies import TALLIED_CHANNELS

    for row in rows:
        if row[_CHANNEL] in TALLIED_CHANNELS:
            counts["tallied"] += 1
            counts["ratings_final"] += row[_STATUS] == "final" and row[_CHANNEL] in ("qr", "kiosk")


def _journal_rows(db: Any) -> int:
    from sqlalchemy import text

    n = int(db.session.scalar(text("SELECT count(*) FROM tally_journal")))
    db.session.rollback()
    return n


def _check_journal(db: Any, before: int, counts: dict[str, int]) -> None:
    """Every loaded rating is journalled once (SQLite's triggers fire per inserted row; the
    PostgreSQL loader journals them itself after the COPY)."""
    after = _journal_rows(db)
    counts["journal"] = after - before
    assert after - before == counts["tallied"], (
        f"tally_journal grew by {after - before:,}, loaded {counts['tallied']:,} ratings"
    )
    print(f"  tally_journal: {after - before:,} rows for {counts['tallied']:,} loaded ratings "
          f"({counts['ratings_final']:,} final QR/kiosk)", flush=True)  # fmt: skip


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


def load_postgres(app: Any, meta: dict[str, Any], n: int, share: float) -> dict[str, int]:
    from surveyapp.extensions import db
    from surveyapp.models.tallies import TALLIED_CHANNELS

    counts = _new_counts()
    with app.app_context():
        start = _next_id(db, "responses")
        journal = _journal_rows(db)
        answer_id = _next_id(db, "answers")
        raw = db.engine.raw_connection()
        try:
            conn = raw.driver_connection
            assert conn is not None
            with conn.cursor() as cur:
                # The generator's foreign keys are right by construction; checking 30M of
                # them one trigger call at a time would be most of the load time.
                cur.execute("SET session_replication_role = replica")
                for chunk in generate(meta, n, share, start, postgres=True):
                    with cur.copy(
                        f"COPY responses ({','.join(RESPONSE_COLUMNS)}) FROM STDIN"
                    ) as copy:
                        for row in chunk["responses"]:
                            copy.write_row(row)
                    a = chunk["answers"]
                    with cur.copy(
                        "COPY answers (id, response_id, question_id, value) "
                        "FROM STDIN (FORMAT BINARY)"
                    ) as copy:
                        copy.write(_copy_binary_answers(answer_id, a))
                    answer_id += len(a["value"])
                    t = chunk["texts"]
                    with cur.copy(
                        "COPY answers (id, response_id, question_id, text) FROM STDIN"
                    ) as copy:
                        for j, row in enumerate(t):
                            copy.write_row((answer_id + j, *row))
                    answer_id += len(t)
                    counts["responses"] += len(chunk["responses"])
                    counts["answers"] += len(a["value"]) + len(t)
                    _count_ratings(counts, chunk["responses"])
                cur.execute("SET session_replication_role = DEFAULT")
                # The replica role switched the tally triggers off too: journal the loaded
                # ratings as migration 0020 does for the rows it finds.
                cur.execute(
                    f"INSERT INTO tally_journal (response_id) SELECT id FROM responses "
                    f"WHERE id >= {int(start)} AND channel IN "
                    f"({', '.join(repr(c) for c in TALLIED_CHANNELS)})"
                )
                _after_load(cur, meta)
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
        _check_journal(db, journal, counts)
    return counts


# ----------------------------------------------------------------------------- timing


@contextmanager
def profiled(enabled: bool, label: str, lines: int = 35) -> Iterator[None]:
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
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(lines)
        print(f"--- profile: {label}\n{out.getvalue()}", flush=True)


def measure(app: Any, meta: dict[str, Any], args: argparse.Namespace) -> dict[str, float]:
    from sqlalchemy import text

    from surveyapp.extensions import db
    from surveyapp.services import demo

    client = app.test_client()
    response = client.post("/login", data={"username": "analyst", "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302, response.status_code
    cid = meta["campaign_id"]

    def get(url: str) -> Callable[[], None]:
        def fetch() -> None:
            got = client.get(url)
            if got.status_code != 200:
                raise SystemExit(
                    f"GET {url}: {got.status_code}\n{got.get_data(as_text=True)[-1500:]}"
                )

        return fetch

    page = get(f"/dashboard/{cid}?by={BY}")
    xlsx = get(f"/dashboard/{cid}/report.xlsx")
    out: dict[str, float] = {}
    # (1) The first views after the bulk load: the first folds the load's journal and bits,
    # unless --fold-first times that fold on its own before it.
    if args.fold_first:
        out.update(fold_first(app, cid, args.profile))
    out["page_first"] = _timed(page)
    note(f"GET /dashboard/<id>?by={BY}, first view after the load", out["page_first"])
    out["xlsx_first"] = _timed(xlsx)
    note("GET /dashboard/<id>/report.xlsx, first after the page", out["xlsx_first"])
    out["convenience_n"] = float(convenience_n(app, cid))
    if "ratings_final" in meta:
        assert out["convenience_n"] == meta["ratings_final"], (
            f"convenience report n {out['convenience_n']:.0f}, "
            f"loaded {meta['ratings_final']:,} final QR/kiosk ratings"
        )
        print(f"  convenience n = {out['convenience_n']:,.0f} = final QR/kiosk loaded", flush=True)
    # (3) Peers, same database and session.
    with app.app_context():

        def count() -> None:
            db.session.execute(text("SELECT count(*) FROM answers")).scalar()
            db.session.rollback()

        def group_by() -> None:
            db.session.execute(
                text("SELECT question_id, value, count(*) FROM answers GROUP BY question_id, value")
            ).all()
            db.session.rollback()

        out["count"] = min(_timed(count) for _ in range(max(args.repeat, 1) + 1))
        out["groupby"] = min(_timed(group_by) for _ in range(max(args.repeat, 1) + 1))
        note("peer SELECT count(*) FROM answers, best", out["count"])
        note("peer GROUP BY question_id, value, best", out["groupby"])
        db.session.remove()
    # (2) Fresh report right after a new response (every request computes its report), and
    # the same request again with nothing new.
    for name, fn in (("page", page), ("xlsx", xlsx)):
        times = []
        for i in range(args.repeat):
            add_response(app, meta, f"{name}-{i}")
            times.append(_timed(fn))
        out[f"{name}_fresh"] = min(times)
        note(f"{name}, fresh after a new response (best of {args.repeat})", min(times))
        again = min(_timed(fn) for _ in range(args.repeat))
        out[f"{name}_again"] = again
        note(f"{name}, again with no new response (best of {args.repeat})", again)
    out["shows"] = float(new_response_shows(app, client, meta))
    if args.profile:
        for name, fn in ((f"GET /dashboard/<id>?by={BY}", page), ("report.xlsx", xlsx)):
            add_response(app, meta, f"prof-{name[-4:]}")
            with profiled(True, f"{name}, fresh after a new response"):
                fn()
    return out


def fold_first(app: Any, cid: int, profile: bool) -> dict[str, float]:
    """The first view's fold on its own: the ratings' journal into the tally cells, then the
    paper answers into their bit masks (``services.reports.fold``, as ``surveyapp fold``)."""
    from surveyapp.data import tallies
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services import reports

    out: dict[str, float] = {}
    with app.app_context():
        t0 = time.perf_counter()
        with profiled(profile, "data.tallies.fold() of the loaded ratings", 25):
            folded = tallies.fold()
        out["fold_tallies"] = time.perf_counter() - t0
        note(f"fold of the tally journal ({folded:,} ratings)", out["fold_tallies"])
        t0 = time.perf_counter()
        _, filled = reports.fold(db.session.get_one(Campaign, cid))
        out["fold_bits"] = time.perf_counter() - t0
        note(f"fold of the paper answers into bit masks ({filled:,} responses)", out["fold_bits"])
        db.session.remove()
    return out


def convenience_n(app: Any, cid: int) -> int:
    """The desk ratings the convenience report counts (read from the tally cells)."""
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services import reports

    with app.app_context():
        report = reports.build(db.session.get_one(Campaign, cid), sample="convenience")
        db.session.remove()
    return int(report.design["n"])


def add_response(app: Any, meta: dict[str, Any], tag: str) -> None:
    """Store a copy of a paper response and of a QR rating, answers included, as new final
    responses (the paper one's answers go into bit masks, the rating through the journal)."""
    for channel in ("paper", "qr"):
        _copy_response(app, meta, channel, tag)


def _copy_response(app: Any, meta: dict[str, Any], channel: str, tag: str) -> int:
    from sqlalchemy import select

    from surveyapp.extensions import db
    from surveyapp.models import Answer, Response

    cid = meta["campaign_id"]
    with app.app_context():
        row = db.session.execute(
            Response.__table__.select()
            .where(
                Response.campaign_id == cid,
                Response.channel == channel,
                Response.status == "final",
                Response.serial.is_(None),
            )
            .limit(1)
        ).one()
        values = dict(row._mapping)
        source = values.pop("id")
        # Unique per run too: a --reuse run stores into a database an earlier run added to.
        values["nonce"] = f"bench-{RUN}-{channel}-{tag}"
        if channel == "paper":
            values["ssu"] = f"{values['psu']}/b{RUN[-10:]}-{tag}"  # ≤ 50 characters
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


def new_response_shows(app: Any, client: Any, meta: dict[str, Any]) -> bool:
    """With no report kept, a new final paper response counts at once."""
    url = f"/dashboard/{meta['campaign_id']}/report.json"
    before = client.get(url).json["design"]["n"]
    _copy_response(app, meta, "paper", "shows")
    after = client.get(url).json["design"]["n"]
    return bool(after == before + 1)


def note(label: str, seconds: float) -> None:
    """Each figure as soon as it is measured (a slow run can be read while it goes on)."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"  {label}: {seconds:.3f} s  [load {load}]", flush=True)


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def shape(app: Any, meta: dict[str, Any]) -> str:
    """What the bench campaign holds (printed with the figures)."""
    from sqlalchemy import text

    from surveyapp.extensions import db

    with app.app_context():
        q = (
            "SELECT channel, count(*), count(DISTINCT stratum), count(DISTINCT psu), "
            "count(DISTINCT service_point_id) FROM responses WHERE campaign_id = :c "
            "AND status = 'final' GROUP BY channel ORDER BY channel"
        )
        rows = db.session.execute(text(q), {"c": meta["campaign_id"]}).all()
        answers = db.session.scalar(
            text(
                "SELECT count(*) FROM answers JOIN responses r ON r.id = answers.response_id "
                "WHERE r.campaign_id = :c"
            ),
            {"c": meta["campaign_id"]},
        )
        total = db.session.scalar(text("SELECT count(*) FROM answers"))
        margins = db.session.scalar(
            text("SELECT count(*) FROM population_margins WHERE campaign_id = :c"),
            {"c": meta["campaign_id"]},
        )
        db.session.remove()
    parts = []
    for channel, n, strata, psus, desks in rows:
        if channel == "paper":
            parts.append(f"paper {n:,} ({strata} strata, {psus} PSUs)")
        else:
            parts.append(f"{channel} {n:,} ({desks} desks)")
    return (
        f"final responses: {', '.join(parts)}; answers {answers:,} of {total:,} in the table; "
        f"{margins} margin rows; QR/kiosk questionnaire: {meta['desk_questionnaire']}"
    )


# ----------------------------------------------------------------------------- backends


def _run(
    app: Any,
    n: int,
    args: argparse.Namespace,
    reusing: bool,
    load: Callable[[Any, dict[str, Any], int, float], dict[str, Any]],
) -> dict[str, Any]:
    """Set up (or reuse) the bench campaign, bulk-load ``n`` responses with ``load``, and
    measure."""
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    if reusing:
        meta = reuse(app)
        out["setup"], out["load"] = time.perf_counter() - t0, 0.0
    else:
        meta = prepare(app, args.desk_questionnaire)
        out["setup"] = time.perf_counter() - t0
        note("setup (migrate, demo, bench campaign)", out["setup"])
        t0 = time.perf_counter()
        meta.update(load(app, meta, n, args.paper_share))
        out["load"] = time.perf_counter() - t0
        note(f"bulk load of {n:,} responses", out["load"])
    out["shape"] = shape(app, meta)
    print(f"  {out['shape']}", flush=True)
    out.update(measure(app, meta, args))
    return out


def run_sqlite(n: int, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        path = Path(args.sqlite_file) if args.sqlite_file else Path(tmp) / "bench.sqlite"
        reusing = bool(args.reuse and args.sqlite_file and path.exists())
        if not reusing:
            path.unlink(missing_ok=True)
        app = make_app(f"sqlite:///{path}")
        out = _run(app, n, args, reusing, load_sqlite)
        with app.app_context():
            from surveyapp.extensions import db

            db.engine.dispose()
        return out


def run_postgres(n: int, args: argparse.Namespace) -> dict[str, Any]:
    import psycopg

    from surveyapp.config import normalise_database_url

    plain = normalise_database_url(PG_URL).replace("postgresql+psycopg://", "postgresql://")
    assert "127.0.0.1" in plain or "localhost" in plain, "only a local PostgreSQL"
    admin = psycopg.connect(plain, autocommit=True, connect_timeout=5)
    schema = args.pg_schema
    if not args.reuse:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    url = f"{normalise_database_url(PG_URL)}{sep}options=-csearch_path%3D{schema}"
    app = make_app(url)
    try:
        return _run(app, n, args, bool(args.reuse), load_postgres)
    finally:
        with app.app_context():
            from surveyapp.extensions import db

            db.session.remove()
            db.engine.dispose()
        if not args.keep:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()


def report(name: str, key: str, n: int, args: argparse.Namespace, m: dict[str, Any]) -> None:
    reused = " (reused database: no load; views not the first after one)" if args.reuse else ""
    print(f"\n== {name}: {n:,} responses, paper share {args.paper_share:g}{reused}")
    print(f"   {m['shape']}")
    g = m["groupby"]
    print(f"{'what':<58} {'s':>8} {'× GROUP BY':>11}")
    fold = m.get("fold_tallies", 0.0) + m.get("fold_bits", 0.0)
    total = m["load"] + fold + m["page_first"]
    rows = [
        ("setup: migrate, demo, bench campaign (not in the goal)", m["setup"]),
        ("bulk load (no ORM) incl. journal, ANALYZE", m["load"]),
    ]
    if "fold_tallies" in m:
        rows += [
            ("fold: tally journal into cells (data.tallies.fold)", m["fold_tallies"]),
            ("fold: paper answers into bit masks (reports.fold)", m["fold_bits"]),
        ]
    first = "(after the fold)" if "fold_tallies" in m else "(it folds)"
    rows += [
        (f"GET /dashboard/<id>?by={BY}, first view {first}", m["page_first"]),
        ("  total: load + fold + first page view", total),
        ("GET …/report.xlsx, first (after the page)", m["xlsx_first"]),
        (f"GET /dashboard/<id>?by={BY}, fresh after a new response", m["page_fresh"]),
        (f"GET /dashboard/<id>?by={BY}, again, no new response", m["page_again"]),
        ("GET /dashboard/<id>/report.xlsx, fresh after a new response", m["xlsx_fresh"]),
        ("GET /dashboard/<id>/report.xlsx, again, no new response", m["xlsx_again"]),
        ("peer: SELECT count(*) FROM answers", m["count"]),
        ("peer: SELECT question_id, value, count(*) … GROUP BY", g),
    ]
    for label, seconds in rows:
        print(f"{label:<58} {seconds:>8.3f} {seconds / g:>11.1f}")
    print(f"goal: load + first view ≤ {GOAL_FIRST:g} s (at 1M PostgreSQL): "
          f"{'met' if total <= GOAL_FIRST else 'NOT met'} ({total:.1f} s)")  # fmt: skip
    worst = max(m["page_fresh"], m["xlsx_fresh"])
    where = "100k SQLite" if key == "sqlite" else "1M PostgreSQL"
    print(f"goal: fresh report ≤ {GOAL_FRESH[key]:g} s (at {where}): "
          f"{'met' if worst <= GOAL_FRESH[key] else 'NOT met'} ({worst:.2f} s)")  # fmt: skip
    print(f"a new response shows at once with no report kept: {'yes' if m['shows'] else 'NO'}")
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--sqlite-rows", type=int, default=100_000)
    parser.add_argument("--pg-rows", type=int, default=1_000_000)
    parser.add_argument(
        "--paper-share", type=float, default=0.9,
        help="fraction of responses that are the paper probability sample (realistic: 0.02)",
    )  # fmt: skip
    parser.add_argument(
        "--desk-questionnaire", choices=("sipas", "desk"), default=None,
        help="what QR/kiosk ask (default: what the demo's 2026 campaign uses)",
    )  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3, help="fresh runs; the best is shown")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile one more fresh page and XLSX (and the fold with --fold-first)",
    )
    parser.add_argument(
        "--fold-first", action="store_true",
        help="time the fold of the loaded data on its own before the first view",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema")
    parser.add_argument(
        "--reuse", action="store_true",
        help="measure the schema a --keep run (or the --sqlite-file) left (no load)",
    )  # fmt: skip
    parser.add_argument("--pg-schema", default=PG_SCHEMA, help="created and dropped")
    parser.add_argument("--sqlite-file", help="build the SQLite database here and keep it")
    args = parser.parse_args()
    if not 0 < args.paper_share <= 1:
        parser.error("--paper-share must be in (0, 1]")
    args.repeat = max(args.repeat, 1)
    backends = args.backends.split(",")
    if "sqlite" in backends:
        report("SQLite", "sqlite", args.sqlite_rows, args, run_sqlite(args.sqlite_rows, args))
    if "postgres" in backends:
        report("PostgreSQL", "postgres", args.pg_rows, args, run_postgres(args.pg_rows, args))


if __name__ == "__main__":
    main()
