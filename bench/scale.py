"""Beyond one server, in simulation: 10M desk ratings over 34 provinces x 3,321 communes.

Not a test (pytest never collects it). PostgreSQL only; run from the repository root:

    .venv/bin/python bench/scale.py                       # 1M, 3M, 10M ratings (~15-25 min)
    .venv/bin/python bench/scale.py --scales 100000,300000 --repeat 2   # a quick look

It
1. makes a schema of its own (``bench_scale`` on ``BENCH_PG_URL``, only 127.0.0.1, dropped at
   the end), creates the app's tables in it (``create_all``, which also creates the tally
   triggers), loads the desk questionnaire (desk-2026) and makes 34 provinces with 3,321
   communes (60-150 each), one desk per commune plus a provincial centre, a transaction
   volume per desk, and one open campaign per province asking the desk questionnaire on QR
   and kiosk;
2. simulates the desk ratings as tallies: per (campaign, channel, desk) cell the flag
   vectors ``x`` (satisfied, answered per rated item) of its n ratings are drawn from a few
   random patterns with multinomial counts, so ``products = sum count * x x'`` is a genuine
   sum of outer products of 0/1 vectors with y <= r; n per cell follows the desk's volume.
   The app also reads the ``responses`` table (whether a final rating exists, the held-out
   count through a partial index), so each rating also gets a response row without its
   answers, inserted with the tally triggers off (``session_replication_role = replica``).
   Before that it checks on a small campaign that the report from such tallies equals, to
   1e-9, the report from the equivalent real responses with answers folded the normal way;
3. keeps ``responses_sim`` (PARTITION BY LIST (campaign_id), one partition per campaign)
   and ``responses_flat`` (the same rows, one table, indexed on campaign_id) with as many
   rows as there are ratings, and shows with EXPLAIN (ANALYZE, BUFFERS) that one province's
   GROUP BY desk reads only its partition;
4. for the smallest, a middle and the largest province (by communes) and for 1M, 3M and 10M
   ratings in all (same cells, more ratings per cell), times ``reports.build(campaign,
   sample="convenience", by="commune")`` in an app context (no report is kept between
   requests; a new session per run, best of ``--repeat`` after one warm-up), the tally read
   plus analysis alone (``run_cells``), the queries of ``build()`` that once read the
   campaign's response rows (now a probe, a partial index or the tallied cells; also
   ``final_counts_by_channel``, which the dashboard's ranking once counted with), and the
   peer ``SELECT service_point_id, count(*) FROM responses_sim WHERE campaign_id = X GROUP
   BY 1``, and prints them with the ratios to the peer.

Bounded: every step is bounded by the ratings asked for (at most ``max(--scales)``).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_SCHEMA = "bench_scale"
SEED = 16
PROVINCES, COMMUNES = 34, 3321
LOW, HIGH = 60, 150  # communes per province
PATTERNS = 5  # flag vectors per cell
CHANNELS = ("qr", "kiosk")
CHANNEL_SHARE = (0.7, 0.3)
CENTRE_FACTOR = 5.0  # the provincial centre's volume over a commune desk's


def note(text: str) -> None:
    print(text, flush=True)


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# ----------------------------------------------------------------------------- the app


def make_app(url: str) -> Any:
    from surveyapp import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-scale",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "BASE_URL": "http://127.0.0.1:5000",
        }
    )


def communes_per_province(rng: np.random.Generator) -> list[int]:
    """34 counts in [60, 150] summing to 3,321, the smallest 60 and the largest 150."""
    counts = rng.integers(LOW, HIGH + 1, PROVINCES)
    counts[0], counts[1] = LOW, HIGH
    while (gap := COMMUNES - int(counts.sum())) != 0:
        i = int(rng.integers(2, PROVINCES))
        step = 1 if gap > 0 else -1
        if LOW < counts[i] + step < HIGH:
            counts[i] += step
    return [int(c) for c in counts]


def build_schema(app: Any, rng: np.random.Generator) -> dict[str, Any]:
    """Tables, questionnaire, units, desks with volumes, one campaign per province."""
    from sqlalchemy import insert, select

    from surveyapp.extensions import db
    from surveyapp.models import (
        Campaign,
        CampaignChannel,
        CampaignPeriod,
        CampaignStatus,
        Channel,
        QuestionType,
        ServicePoint,
        TransactionVolume,
        Unit,
        UnitLevel,
    )
    from surveyapp.models.base import Base
    from surveyapp.services import instruments

    today = date.today()
    starts, ends = today - timedelta(days=60), today + timedelta(days=60)
    with app.app_context():
        Base.metadata.create_all(db.engine)
        qn = instruments.desk()
        db.session.flush()
        sizes = communes_per_province(rng)
        provinces = db.session.execute(
            insert(Unit).returning(Unit.id),
            [
                {
                    "code": f"P{p + 1:02d}",
                    "name": f"Tỉnh mô phỏng {p + 1}",
                    "level": UnitLevel.PROVINCE,
                }
                for p in range(PROVINCES)
            ],
        ).scalars()
        province_ids = list(provinces)
        rows = []
        for p, (pid, size) in enumerate(zip(province_ids, sizes, strict=True)):
            for c in range(size):
                rows.append(
                    {"code": f"P{p + 1:02d}C{c + 1:03d}", "name": f"Xã {c + 1} tỉnh {p + 1}",
                     "level": UnitLevel.COMMUNE, "parent_id": pid}
                )  # fmt: skip
        commune_ids = list(db.session.execute(insert(Unit).returning(Unit.id), rows).scalars())
        # Desks: the provincial centre, then one per commune (in that order per province).
        desk_rows, desk_unit, desk_province, desk_centre = [], [], [], []
        k = 0
        for p, (pid, size) in enumerate(zip(province_ids, sizes, strict=True)):
            desk_rows.append({"unit_id": pid, "name": f"Trung tâm PVHCC tỉnh {p + 1}"})
            desk_unit.append(pid), desk_province.append(p), desk_centre.append(True)
            for c in range(size):
                uid = commune_ids[k]
                k += 1
                desk_rows.append({"unit_id": uid, "name": f"Bộ phận Một cửa xã {c + 1}/{p + 1}"})
                desk_unit.append(uid), desk_province.append(p), desk_centre.append(False)
        desk_ids = list(
            db.session.execute(insert(ServicePoint).returning(ServicePoint.id), desk_rows).scalars()
        )
        volume = rng.lognormal(7.5, 0.6, len(desk_ids)) * np.where(desk_centre, CENTRE_FACTOR, 1)
        db.session.execute(
            insert(TransactionVolume),
            [
                {
                    "service_point_id": d,
                    "period_start": starts,
                    "period_end": ends,
                    "transactions": int(v),
                }
                for d, v in zip(desk_ids, volume, strict=True)
            ],
        )
        campaign_ids, period_ids = [], []
        for p, pid in enumerate(province_ids):
            campaign = Campaign(
                name=f"Đánh giá tại quầy tỉnh mô phỏng {p + 1}",
                questionnaire=qn,
                status=CampaignStatus.OPEN,
                starts=starts,
                ends=ends,
                units=[db.session.get_one(Unit, pid)],
                channels=[
                    CampaignChannel(channel=Channel.QR),
                    CampaignChannel(channel=Channel.KIOSK),
                ],
                periods=[CampaignPeriod(name="Đợt 1", starts=starts, ends=ends)],
            )
            db.session.add(campaign)
            db.session.flush()
            campaign_ids.append(campaign.id)
            period_ids.append(campaign.periods[0].id)
        from surveyapp.data import tallies

        meta = {
            "qn": qn.id,
            "layout": tallies.cells_layout(qn),
            "items": len([q for q in qn.questions if q.type == QuestionType.LIKERT5]),
            "likert": [q.id for q in qn.questions if q.type == QuestionType.LIKERT5],
            "satisfied": sorted(int(v) for v in qn.satisfied_values),
            "sizes": sizes,
            "province_ids": province_ids,
            "campaign_ids": campaign_ids,
            "period_ids": period_ids,
            "desk_ids": np.array(desk_ids),
            "desk_unit": np.array(desk_unit),
            "desk_province": np.array(desk_province),
            "volume": volume,
            "starts": starts,
            "ends": ends,
        }
        db.session.commit()
        assert db.session.scalar(select(Campaign.id).limit(1)) is not None
    return meta


# ----------------------------------------------------------------------------- the cells


class Cells:
    """Every (campaign, channel, desk) cell: its share of the ratings and its patterns."""

    def __init__(self, meta: dict[str, Any], rng: np.random.Generator) -> None:
        n_desks = len(meta["desk_ids"])
        self.desk = np.repeat(meta["desk_ids"], len(CHANNELS))
        self.unit = np.repeat(meta["desk_unit"], len(CHANNELS))
        self.province = np.repeat(meta["desk_province"], len(CHANNELS))
        self.channel = np.tile(np.array(CHANNELS), n_desks)
        self.campaign = np.array(meta["campaign_ids"])[self.province]
        self.period = np.array(meta["period_ids"])[self.province]
        share = np.repeat(meta["volume"], len(CHANNELS)) * np.tile(CHANNEL_SHARE, n_desks)
        self.share = share / share.sum()
        size = len(self.desk)
        self.x, self.p = patterns(rng, size, meta["items"], 0.9)
        self.n = np.zeros(size, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.desk)

    def counts_for(self, total: int) -> np.ndarray:
        """n per cell for ``total`` ratings in all (largest remainders; at least 1)."""
        exact = self.share * total
        n = np.floor(exact).astype(np.int64)
        rest = total - int(n.sum())
        n[np.argsort(-(exact - n))[:rest]] += 1
        return np.maximum(n, 1)

    def products(self, n: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Sums of x x' over each cell's n ratings (C x K x K, int64)."""
        counts = rng.multinomial(n, self.p)
        assert (counts.sum(axis=1) == n).all()
        return np.einsum("cp,cpi,cpj->cij", counts, self.x, self.x)


def write_tallies(
    app: Any, meta: dict[str, Any], cells: Cells, rows: np.ndarray, n: np.ndarray,
    products: np.ndarray,
) -> None:  # fmt: skip
    """Replace the tally rows of cells ``rows`` (indices) with counts ``n`` and ``products``."""
    from sqlalchemy import delete, insert

    from surveyapp.extensions import db
    from surveyapp.models import TallyCell

    campaigns = sorted({int(c) for c in cells.campaign[rows]})
    with app.app_context():
        db.session.execute(delete(TallyCell).where(TallyCell.campaign_id.in_(campaigns)))
        db.session.execute(
            insert(TallyCell),
            [
                {
                    "campaign_id": int(cells.campaign[i]),
                    "layout": meta["layout"],
                    "questionnaire_id": meta["qn"],
                    "channel": str(cells.channel[i]),
                    "service_point_id": int(cells.desk[i]),
                    "unit_id": int(cells.unit[i]),
                    "n": int(n[j]),
                    "products": products[j].astype(np.int64).tobytes(),
                }
                for j, i in enumerate(rows)
            ],
        )
        db.session.commit()


def add_rows(
    conn: Any, meta: dict[str, Any], cells: Cells, rows: np.ndarray, before: np.ndarray,
    after: np.ndarray, *, app_rows: bool = True, sim_rows: bool = True,
) -> None:  # fmt: skip
    """Response rows (no answers) so cells ``rows`` hold ``after`` ratings, not ``before``:
    into the app's ``responses`` (tally triggers off) and into ``responses_sim`` and
    ``responses_flat``."""
    buf = io.StringIO()
    for j, i in enumerate(rows):
        add = int(after[j] - before[j])
        if add > 0:
            buf.write(
                f"{i}\t{cells.campaign[i]}\t{cells.channel[i]}\t{cells.desk[i]}\t"
                f"{cells.unit[i]}\t{cells.period[i]}\t{int(before[j])}\t{add}\n"
            )
    with conn.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bench_add (cell int, campaign_id int, channel text,"
            " service_point_id int, unit_id int, period_id int, start bigint, add bigint)"
        )
        cur.execute("TRUNCATE bench_add")
        with cur.copy("COPY bench_add FROM STDIN") as copy:
            copy.write(buf.getvalue())
        # In arrival order: every desk's k-th rating before any desk's (k+1)-th, so the
        # provinces' rows interleave on the pages as they do when all of them are in the field.
        series = "bench_add a, generate_series(a.start + 1, a.start + a.add) g ORDER BY g, a.cell"
        if app_rows:
            # The tally triggers (and foreign key checks) do not fire in replica mode: the
            # tallies of these rows are the simulated ones.
            cur.execute("SET session_replication_role = replica")
            cur.execute(
                "INSERT INTO responses (campaign_id, questionnaire_id, channel, status, nonce,"
                " unit_id, service_point_id, period_id, language, flags, held, submitted_at)"
                f" SELECT a.campaign_id, {meta['qn']}, a.channel, 'final',"
                " 'sim-' || a.campaign_id || '-' || a.cell || '-' || g, a.unit_id,"
                " a.service_point_id, a.period_id,"
                " 'vi', '[]', false, now() - (g % 1000) * interval '1 hour' FROM " + series
            )
            cur.execute("SET session_replication_role = DEFAULT")
        if sim_rows:
            for table in ("responses_sim", "responses_flat"):
                cur.execute(
                    f"INSERT INTO {table} (id, campaign_id, service_point_id, unit_id, channel,"
                    " status, submitted_at) SELECT nextval('responses_sim_id'), a.campaign_id,"
                    " a.service_point_id, a.unit_id, a.channel, 'final',"
                    " now() - (g % 1000) * interval '1 hour' FROM " + series
                )
    conn.commit()


def create_sim_tables(conn: Any, campaign_ids: list[int]) -> None:
    with conn.cursor() as cur:
        cur.execute("CREATE SEQUENCE responses_sim_id")
        columns = (
            "(id bigint NOT NULL, campaign_id int NOT NULL, service_point_id int,"
            " unit_id int, channel varchar(10) NOT NULL, status varchar(8) NOT NULL,"
            " submitted_at timestamptz NOT NULL)"
        )
        cur.execute(f"CREATE TABLE responses_sim {columns} PARTITION BY LIST (campaign_id)")
        for cid in campaign_ids:
            cur.execute(
                f"CREATE TABLE responses_sim_c{cid} PARTITION OF responses_sim"
                f" FOR VALUES IN ({cid})"
            )
        cur.execute(f"CREATE TABLE responses_flat {columns}")
        cur.execute("CREATE INDEX ix_responses_flat_campaign ON responses_flat (campaign_id)")
    conn.commit()


# ----------------------------------------------------------------------------- the check


def check_equivalence(app: Any, conn: Any, meta: dict[str, Any], rng: np.random.Generator) -> str:
    """Two small campaigns of province P01 over the same 4 desks x 2 channels: A with
    simulated tallies (and answerless response rows, triggers off), B with the same flag
    vectors as real responses and answers, folded the normal way. Their tally cells and
    their reports must agree."""
    from sqlalchemy import select

    from surveyapp.extensions import db
    from surveyapp.models import (
        Answer,
        Campaign,
        CampaignChannel,
        CampaignPeriod,
        CampaignStatus,
        Channel,
        Response,
        TallyCell,
        Unit,
    )
    from surveyapp.services import reports

    desks = np.flatnonzero(meta["desk_province"] == 0)[:4]
    ids: list[int] = []
    with app.app_context():
        qn_id = meta["qn"]
        for label in ("A", "B"):
            campaign = Campaign(
                name=f"Kiểm tra {label}",
                questionnaire_id=qn_id,
                status=CampaignStatus.OPEN,
                starts=meta["starts"],
                ends=meta["ends"],
                units=[db.session.get_one(Unit, meta["province_ids"][0])],
                channels=[
                    CampaignChannel(channel=Channel.QR),
                    CampaignChannel(channel=Channel.KIOSK),
                ],
                periods=[CampaignPeriod(name="Đợt 1", starts=meta["starts"], ends=meta["ends"])],
            )
            db.session.add(campaign)
            db.session.flush()
            ids.append(campaign.id)
        periods = [db.session.get_one(Campaign, c).periods[0].id for c in ids]
        db.session.commit()
    # The small cells, simulated like the big ones (patterns, multinomial counts).
    small = _SmallCells(meta, desks, ids[0], periods[0], rng)
    n = rng.integers(20, 60, len(small))
    counts = rng.multinomial(n, small.p)
    products = np.einsum("cp,cpi,cpj->cij", counts, small.x, small.x)
    write_tallies(app, meta, small, np.arange(len(small)), n, products)
    add_rows(conn, meta, small, np.arange(len(small)), np.zeros_like(n), n, sim_rows=False)
    # B: one response per rating with the answers its flag vector says, triggers on.
    satisfied = meta["satisfied"]
    unsatisfied = [v for v in (1, 2, 3, 4, 5) if v not in satisfied]
    with app.app_context():
        nonce = 0
        for i in range(len(small)):
            for p in range(PATTERNS):
                for _ in range(int(counts[i, p])):
                    nonce += 1
                    answers = []
                    for item, qid in enumerate(meta["likert"]):
                        y, r = small.x[i, p, 2 * item], small.x[i, p, 2 * item + 1]
                        if r:
                            pool = satisfied if y else unsatisfied
                            answers.append(Answer(question_id=qid, value=int(rng.choice(pool))))
                    db.session.add(
                        Response(
                            campaign_id=ids[1], questionnaire_id=qn_id,
                            channel=Channel(str(small.channel[i])), nonce=f"check-{nonce}",
                            unit_id=int(small.unit[i]), service_point_id=int(small.desk[i]),
                            period_id=periods[1], answers=answers,
                        )
                    )  # fmt: skip
        db.session.commit()
        got = {}
        for cid in ids:
            campaign = db.session.get_one(Campaign, cid)
            got[cid] = reports.build(campaign, sample="convenience", by="commune")
        stored = {}
        for cid in ids:
            stored[cid] = {
                (c.channel, c.service_point_id, c.unit_id): (c.n, bytes(c.products))
                for c in db.session.scalars(select(TallyCell).where(TallyCell.campaign_id == cid))
            }
        db.session.remove()
    a, b = got[ids[0]], got[ids[1]]
    assert stored[ids[0]] == stored[ids[1]], "folded tallies differ from the simulated ones"
    assert a.design == b.design, (a.design, b.design)
    assert len(a.estimates) == len(b.estimates) > 0
    worst = 0.0
    for ra, rb in zip(a.estimates, b.estimates, strict=True):
        assert ra.keys() == rb.keys()
        for key, va in ra.items():
            vb = rb[key]
            if isinstance(va, float) and isinstance(vb, float):
                if np.isnan(va) and np.isnan(vb):
                    continue
                diff = abs(va - vb)
                assert diff <= 1e-9 * max(1.0, abs(va)), (ra["variable"], key, va, vb)
                worst = max(worst, diff)
            else:
                assert va == vb, (ra["variable"], key, va, vb)
    return (
        f"{len(small)} cells, {int(n.sum())} ratings: folded tallies identical, "
        f"{len(a.estimates)} estimates equal (largest difference {worst:.1e})"
    )


def patterns(
    rng: np.random.Generator, size: int, items: int, answered_rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per cell, PATTERNS flag vectors (answered with ``answered_rate``, satisfied if answered
    with the cell's own rate) and their weights (Dirichlet, drawn once; counts per scale)."""
    rate = rng.beta(6, 3, size)
    answered = rng.random((size, PATTERNS, items)) < answered_rate
    satisfied = answered & (rng.random((size, PATTERNS, items)) < rate[:, None, None])
    x = np.zeros((size, PATTERNS, 2 * items), dtype=np.int64)
    x[:, :, 0::2] = satisfied
    x[:, :, 1::2] = answered
    return x, rng.dirichlet(np.ones(PATTERNS), size)


class _SmallCells(Cells):
    """The check's cells: 4 desks x 2 channels of one campaign."""

    def __init__(
        self, meta: dict[str, Any], desks: np.ndarray, campaign: int, period: int,
        rng: np.random.Generator,
    ) -> None:  # fmt: skip
        self.desk = np.repeat(meta["desk_ids"][desks], len(CHANNELS))
        self.unit = np.repeat(meta["desk_unit"][desks], len(CHANNELS))
        self.channel = np.tile(np.array(CHANNELS), len(desks))
        size = len(self.desk)
        self.campaign = np.full(size, campaign)
        self.period = np.full(size, period)
        self.x, self.p = patterns(rng, size, meta["items"], 0.85)


# ----------------------------------------------------------------------------- measuring


def measure(app: Any, conn: Any, cid: int, repeat: int) -> dict[str, float]:
    """build, run_cells, build()'s once row-reading queries, and the two GROUP BY peers."""
    from sqlalchemy import func, select, text

    from surveyapp.extensions import db
    from surveyapp.models import Campaign, TallyCell
    from surveyapp.services import reports
    from surveyapp.services.reports import cells as report_cells

    sample = reports.SAMPLES["convenience"]

    def in_session(fn: Callable[[Any], Any]) -> Callable[[], Any]:
        def run() -> Any:
            try:
                return fn(db.session.get_one(Campaign, cid))
            finally:
                db.session.remove()  # a new session per run, as a new request has

        return run

    def best(fn: Callable[[], Any]) -> float:
        fn()  # warm-up (untimed)
        return min(timed(fn) for _ in range(repeat))

    out: dict[str, float] = {}
    with app.app_context():
        out["cells"] = float(
            db.session.scalar(
                select(func.count()).select_from(TallyCell).where(TallyCell.campaign_id == cid)
            )
            or 0
        )
        out["ratings"] = float(
            db.session.scalar(select(func.sum(TallyCell.n)).where(TallyCell.campaign_id == cid))
            or 0
        )
        db.session.remove()
        out["build"] = best(
            in_session(lambda c: reports.build(c, sample="convenience", by="commune"))
        )
        out["run_cells"] = best(in_session(lambda c: report_cells.run_cells(c, sample, "commune")))
        # The queries of build() that read the campaign's response rows before issue 16 §1
        # (now a probe, a partial index, the tallied cells), and the count the ranking once kept.
        for name, fn in _row_queries().items():
            out[name] = best(in_session(lambda c, fn=fn: fn(c, sample)))
        for name, table in (("peer", "responses_sim"), ("flat", "responses_flat")):
            sql = text(
                f"SELECT service_point_id, count(*) FROM {table} WHERE campaign_id = :c GROUP BY 1"
            )
            out[name] = best(
                in_session(lambda c, sql=sql: db.session.execute(sql, {"c": c.id}).all())
            )
    return out


def _row_queries() -> dict[str, Callable[[Any, Any], Any]]:
    from surveyapp.data import queries
    from surveyapp.services import abuse, campaigns

    return {
        "final_counts": lambda c, s: campaigns.final_counts_by_channel(c, s),
        "has_final": lambda c, s: campaigns.has_final(c, s),
        "held_out": lambda c, s: abuse.held_out(c, s.channels),
        "answered_units": lambda c, s: queries.answered_units(c),
        "no_volume": lambda c, s: queries.desks_without_volume(c, s),
    }


ROW_QUERIES = ("has_final", "held_out", "answered_units", "no_volume", "final_counts")


def explain(conn: Any, cid: int) -> list[str]:
    lines = []
    with conn.cursor() as cur:
        for table in ("responses_sim", "responses_flat"):
            cur.execute(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT service_point_id, count(*)"
                f" FROM {table} WHERE campaign_id = %s GROUP BY 1",
                (cid,),
            )
            lines.append(f"-- {table}, campaign {cid}:")
            lines += [f"   {row[0]}" for row in cur.fetchall()]
    conn.rollback()
    return lines


def vacuum(conn: Any, tables: list[str]) -> None:
    conn.commit()
    conn.autocommit = True
    for table in tables:
        conn.execute(f"VACUUM ANALYZE {table}")
    conn.autocommit = False


# ----------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="1000000,3000000,10000000")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is shown")
    parser.add_argument("--pg-schema", default=PG_SCHEMA, help="created and dropped")
    parser.add_argument("--keep", action="store_true", help="keep the schema")
    args = parser.parse_args()
    scales = sorted(int(s) for s in args.scales.split(","))

    import psycopg

    from surveyapp.config import normalise_database_url

    base = normalise_database_url(PG_URL)
    assert "127.0.0.1" in base or "localhost" in base, "only 127.0.0.1 may be contacted"
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    schema = args.pg_schema
    admin = psycopg.connect(plain, autocommit=True, connect_timeout=5)
    admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    app = make_app(f"{base}{sep}options=-csearch_path%3D{schema}")
    conn = psycopg.connect(plain, connect_timeout=5, options=f"-csearch_path={schema}")
    rng = np.random.default_rng(SEED)
    started = time.perf_counter()
    try:
        t0 = time.perf_counter()
        meta = build_schema(app, rng)
        cells = Cells(meta, rng)
        create_sim_tables(conn, meta["campaign_ids"])
        note(
            f"schema: {PROVINCES} provinces, {sum(meta['sizes'])} communes "
            f"({min(meta['sizes'])}-{max(meta['sizes'])} per province), "
            f"{len(meta['desk_ids'])} desks, {len(cells)} cells "
            f"({time.perf_counter() - t0:.1f} s)"
        )
        note("check: " + check_equivalence(app, conn, meta, rng))
        sizes = np.array(meta["sizes"])
        order = np.argsort(sizes, kind="stable")
        chosen = [int(order[0]), int(order[len(order) // 2]), int(order[-1])]
        everything = np.arange(len(cells))
        results: list[tuple[int, int, dict[str, float]]] = []
        explained: list[str] = []
        for total in scales:
            t0 = time.perf_counter()
            n = cells.counts_for(total)
            products = cells.products(n, np.random.default_rng(SEED + total))
            # The simulated sums are what a fold of such ratings gives: y <= r, diagonal = first
            # moments, every entry between 0 and n.
            diag = np.diagonal(products, axis1=1, axis2=2)
            assert (diag[:, 0::2] <= diag[:, 1::2]).all() and (products <= n[:, None, None]).all()
            write_tallies(app, meta, cells, everything, n, products)
            add_rows(conn, meta, cells, everything, cells.n, n)
            cells.n = n
            vacuum(conn, ["responses", "responses_sim", "responses_flat"])
            note(f"\n{total:,} ratings loaded ({time.perf_counter() - t0:.1f} s)")
            for p in chosen:
                cid = meta["campaign_ids"][p]
                m = measure(app, conn, cid, args.repeat)
                results.append((total, p, m))
                note(
                    f"  province P{p + 1:02d} ({sizes[p]} communes): {int(m['cells'])} cells, "
                    f"{int(m['ratings']):,} ratings; build {m['build']:.3f} s, run_cells "
                    f"{m['run_cells']:.3f} s, peer "
                    f"{m['peer']:.3f} s, flat {m['flat']:.3f} s"
                )
            if total == scales[-1]:
                explained = explain(conn, meta["campaign_ids"][chosen[-1]])
        print_table(results, sizes, explained, time.perf_counter() - started)
    finally:
        with app.app_context():
            from surveyapp.extensions import db

            db.session.remove()
            db.engine.dispose()
        conn.close()
        if not args.keep:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()


def print_table(
    results: list[tuple[int, int, dict[str, float]]], sizes: np.ndarray, explained: list[str],
    spent: float,
) -> None:  # fmt: skip
    print("\n== reports.build(campaign, sample='convenience', by='commune'), best of runs (s)")
    head = (
        f"{'ratings':>10} {'province':>8} {'communes':>8} {'cells':>6} {'its ratings':>11} "
        f"{'build':>7} {'run_cells':>9} {'peer':>7} {'flat':>7} "
        f"{'build/peer':>10} {'cells/peer':>10}"
    )
    print(head)
    for total, p, m in results:
        print(
            f"{total:>10,} {f'P{p + 1:02d}':>8} {sizes[p]:>8} {int(m['cells']):>6} "
            f"{int(m['ratings']):>11,} {m['build']:>7.3f} {m['run_cells']:>9.3f} "
            f"{m['peer']:>7.3f} {m['flat']:>7.3f} "
            f"{m['build'] / m['peer']:>10.2f} {m['run_cells'] / m['peer']:>10.2f}"
        )
    print(
        "peer: SELECT service_point_id, count(*) FROM responses_sim WHERE campaign_id = X"
        " GROUP BY 1 (partitioned); flat: the same over responses_flat (one table, index on"
        " campaign_id); run_cells: tallies read + analysis only"
    )
    print("\n== build()'s once row-reading queries, best of runs (ms)")
    print(
        f"{'ratings':>10} {'province':>8} {'its ratings':>11} "
        + " ".join(f"{k:>14}" for k in ROW_QUERIES)
    )
    for total, p, m in results:
        print(
            f"{total:>10,} {f'P{p + 1:02d}':>8} {int(m['ratings']):>11,} "
            + " ".join(f"{1000 * m[k]:>14.1f}" for k in ROW_QUERIES)
        )
    print(
        "has_final: campaigns.has_final (build's probe); held_out: abuse.held_out;"
        " answered_units: queries.answered_units (the levels); no_volume:"
        " queries.desks_without_volume; final_counts: campaigns.final_counts_by_channel"
        " (no longer in build() nor in the dashboard's ranking)"
    )
    if explained:
        print("\n== EXPLAIN (ANALYZE, BUFFERS) at the largest scale, largest province")
        print("\n".join(explained))
    print(f"\ntotal run time {spent:.0f} s")


if __name__ == "__main__":
    main()
