"""Throughput of the citizen submit path behind gunicorn, and no acknowledged loss on kill -9.

Not a test (pytest never collects it). Run from the repository root:

    .venv/bin/python bench/submit.py                 # SQLite (WAL), and PostgreSQL if reachable
    .venv/bin/python bench/submit.py --requests 3000 --concurrency 8 --backends sqlite

What it does, for each backend:
1. makes a fresh database (a SQLite file in WAL mode; a scratch PostgreSQL database that it
   drops afterwards), migrates it and adds the SIPAS questionnaire, an open campaign and a desk;
2. starts ``gunicorn -c gunicorn.conf.py -w 2 "surveyapp:create_app()"`` (the repository's
   settings: 4 threads per worker) on 127.0.0.1 with rate limits off
   (``SURVEYAPP_RATELIMIT_ENABLED=false``) and, beside it, the same gunicorn settings serving a
   minimal Flask endpoint, both measured in the same run by the same load generator;
3. the load generator is a second process on 127.0.0.1 (threads, one connection per request,
   bounded by a request count and a time limit): every request is a full SIPAS form (33 items,
   6 demographics, a comment) POSTed to ``/s/<token>/send``; nonces are minted with the shared
   secret exactly as the form page would issue them, so only the submit path is timed;
4. prints responses/s, p50 and p99 for both, the CPU time per response of the gunicorn
   workers, the load generator and (PostgreSQL) the database backends — steadier than rates
   on a shared machine — and checks the rows: one per acknowledged POST;
5. the crash check: the same load again, and ``kill -9`` of one gunicorn worker in the middle;
   afterwards every POST that got its 303 must be in the database (printed as a count check).

Only 127.0.0.1 is ever contacted; all request counts and durations are bounded.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-" + secrets.token_hex(8)
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
HOST = "127.0.0.1"
# The repository's gunicorn settings (threads per worker), used for both servers alike.
CONFIG = ROOT / "gunicorn.conf.py"


# ----------------------------------------------------------------------------- minimal app


def minimal_app() -> Any:
    """The reference: the smallest Flask endpoint, served the same way."""
    from flask import Flask

    app = Flask("minimal")

    @app.post("/ok")
    def ok() -> Any:
        return "ok"

    return app


# ----------------------------------------------------------------------------- load generator


def _nonce(scope: str) -> str:
    raw = secrets.token_urlsafe(18)
    digest = hmac.new(SECRET.encode(), f"{scope}|{raw}".encode(), hashlib.sha256).digest()
    return f"{raw}.{base64.urlsafe_b64encode(digest[:18]).decode()}"


def _form(token: str, rng: random.Random) -> dict[str, str]:
    data = {f"q{i}": str(rng.choice([3, 4, 4, 5, 5])) for i in range(1, 34)}
    data.update(sex="1", age_group="2", ethnicity="1", education="3", occupation="2", area="1")
    data["comment"] = "Cán bộ hướng dẫn tận tình."
    data["nonce"] = _nonce(f"qr:{token}")
    return data


def load(
    port: int, path: str, token: str | None, requests: int, concurrency: int, seconds: float
) -> dict[str, Any]:
    """Send at most ``requests`` POSTs within ``seconds``; latencies and acknowledged nonces."""
    lock = threading.Lock()
    latencies: list[float] = []
    acked: list[str] = []
    failures: dict[str, int] = {}
    counter = iter(range(requests))
    deadline = time.monotonic() + seconds

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            with lock:
                if next(counter, None) is None:
                    return
            data = _form(token, rng) if token else {"x": "1"}
            body = urllib.parse.urlencode(data)
            start = time.perf_counter()
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=10)
                conn.request(
                    "POST",
                    path,
                    body=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                response = conn.getresponse()
                response.read()
                status = response.status
                conn.close()
            except (OSError, http.client.HTTPException) as exc:  # e.g. the worker was killed
                with lock:
                    failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                continue
            elapsed = time.perf_counter() - start
            with lock:
                if status in (200, 303):
                    latencies.append(elapsed)
                    if token:
                        acked.append(data["nonce"])
                else:
                    failures[str(status)] = failures.get(str(status), 0) + 1

    started = time.perf_counter()
    cpu = time.process_time()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {
        "latencies": latencies,
        "acked": acked,
        "failures": failures,
        "wall": wall,
        "client_cpu": time.process_time() - cpu,
    }


def _child_main(argv: list[str]) -> None:
    """``submit.py --child PORT PATH TOKEN N C SECONDS``: run one load, print JSON."""
    port, path, token, n, c, seconds = argv
    result = load(int(port), path, token if token != "-" else None, int(n), int(c), float(seconds))
    json.dump(result, sys.stdout)


def run_load(
    port: int, path: str, token: str | None, n: int, c: int, seconds: float
) -> subprocess.Popen[str]:
    env = {**os.environ, "BENCH_SECRET": SECRET}
    return subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--child",
            str(port),
            path,
            token or "-",
            str(n),
            str(c),
            str(seconds),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


# ----------------------------------------------------------------------------- servers


TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` so far (processes that are gone count 0).

    On a shared machine wall-clock rates move with the neighbours' load; CPU per response
    does much less, so the bench prints both.
    """
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def gunicorn_settings() -> str:
    """The settings gunicorn.conf.py makes, as printed in the report (plus GUNICORN_CMD_ARGS)."""
    values: dict[str, Any] = {}
    exec(CONFIG.read_text(), values)
    text = f"threads {values.get('threads', 1)}"
    extra = os.environ.get("GUNICORN_CMD_ARGS")
    return f"{text}, GUNICORN_CMD_ARGS={extra!r}" if extra else text


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {HOST}:{port}")


class Gunicorn:
    def __init__(self, app: str, env: dict[str, str], chdir: Path) -> None:
        self.port = free_port()
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.proc = subprocess.Popen(
            [
                gunicorn,
                "-c",
                str(CONFIG),
                "-w",
                "2",
                "-b",
                f"{HOST}:{self.port}",
                "--chdir",
                str(chdir),
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
                app,
            ],
            env=env,
        )
        wait_for(self.port)
        time.sleep(0.5)  # let both workers boot

    def workers(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True, check=False
        )
        return [int(p) for p in out.stdout.split()]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ----------------------------------------------------------------------------- databases


def app_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYAPP_")}
    env.pop("DATABASE_URL", None)
    env.update(
        SURVEYAPP_DATABASE_URL=url,
        SURVEYAPP_SECRET_KEY=SECRET,
        SURVEYAPP_RATELIMIT_ENABLED="false",
        SURVEYAPP_BASE_URL="http://127.0.0.1",
    )
    return env


def prepare(url: str) -> str:
    """Migrate, add SIPAS + an open campaign + a desk; return the desk's token."""
    code = """
import json
from datetime import date, timedelta
from flask_migrate import upgrade
from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import (Campaign, CampaignChannel, CampaignStatus, Channel, ServicePoint,
                              Unit, UnitLevel)
from surveyapp.services import instruments
app = create_app()
with app.app_context():
    upgrade()
    qn = instruments.sipas()
    province = Unit(code="75", name="Tỉnh Đồng Nai", level=UnitLevel.PROVINCE)
    today = date.today()
    db.session.add(Campaign(name="bench", questionnaire=qn, status=CampaignStatus.OPEN,
        starts=today - timedelta(days=5), ends=today + timedelta(days=5), units=[province],
        channels=[CampaignChannel(channel=c) for c in Channel]))
    desk = ServicePoint(unit=province, name="Bàn đo tải")
    db.session.add(desk)
    db.session.commit()
    print(json.dumps(desk.token))
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=app_env(url),
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return str(json.loads(out.stdout.strip().splitlines()[-1]))


def stored_nonces(url: str, nonces: list[str]) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    found = 0
    with engine.connect() as conn:
        for i in range(0, len(nonces), 500):
            chunk = nonces[i : i + 500]
            params = {f"n{j}": n for j, n in enumerate(chunk)}
            names = ", ".join(f":n{j}" for j in range(len(chunk)))
            found += conn.execute(
                text(f"SELECT count(*) FROM responses WHERE nonce IN ({names})"), params
            ).scalar_one()
    engine.dispose()
    return found


def count_rows(url: str) -> tuple[int, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        responses = conn.execute(text("SELECT count(*) FROM responses")).scalar_one()
        answers = conn.execute(text("SELECT count(*) FROM answers")).scalar_one()
    engine.dispose()
    return int(responses), int(answers)


def pg_backends(url: str) -> list[int]:
    """Server processes connected to the bench database (their CPU is the database's share)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        pids = conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalars()
        out = [int(p) for p in pids]
    engine.dispose()
    return out


class PgDatabase:
    def __init__(self) -> None:
        import psycopg

        self.admin = PG_URL.replace("postgresql+psycopg://", "postgresql://")
        self.name = f"bench_submit_{os.getpid()}"
        with psycopg.connect(self.admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
            conn.execute(f'CREATE DATABASE "{self.name}"')
        base = PG_URL.rsplit("/", 1)[0]
        self.url = f"{base}/{self.name}"

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# ----------------------------------------------------------------------------- reporting


def summary(result: dict[str, Any]) -> str:
    lat = sorted(result["latencies"])
    if not lat:
        return f"no successful request; failures {result['failures']}"
    n = len(lat)
    p50 = statistics.median(lat) * 1000
    p99 = lat[min(n - 1, int(0.99 * n))] * 1000
    rate = n / result["wall"]
    extra = f", failures {result['failures']}" if result["failures"] else ""
    return (
        f"{n:6d} ok in {result['wall']:5.2f} s = {rate:7.1f} /s, "
        f"p50 {p50:6.1f} ms, p99 {p99:6.1f} ms{extra}"
    )


def measure(
    server: Gunicorn,
    path: str,
    token: str | None,
    args: argparse.Namespace,
    db_url: str | None = None,
) -> dict[str, Any]:
    pids = server.workers()
    backends = pg_backends(db_url) if db_url and db_url.startswith("postgresql") else []
    before = cpu_seconds(pids), cpu_seconds(backends)
    proc = run_load(server.port, path, token, args.requests, args.concurrency, args.seconds)
    out, _ = proc.communicate(timeout=args.seconds + 60)
    result = dict(json.loads(out))
    result["server_cpu"] = cpu_seconds(pids) - before[0]
    result["db_cpu"] = cpu_seconds(backends) - before[1]
    return result


def cpu_summary(result: dict[str, Any]) -> str:
    n = max(1, len(result["latencies"]))
    text = (
        f"CPU ms per response: workers {result['server_cpu'] / n * 1000:.2f}, "
        f"load generator {result['client_cpu'] / n * 1000:.2f}"
    )
    if result.get("db_cpu"):
        text += f", PostgreSQL backends {result['db_cpu'] / n * 1000:.2f}"
    return text


def bench_backend(name: str, url: str, args: argparse.Namespace) -> None:
    print(
        f"\n== {name}: gunicorn -w 2 ({CONFIG.name}: {gunicorn_settings()}), "
        f"{args.requests} requests at most, "
        f"concurrency {args.concurrency}, {args.seconds:.0f} s at most"
    )
    load1, load5, _ = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load1:.2f} (1 min) {load5:.2f} (5 min)")
    token = prepare(url)
    env = app_env(url)
    minimal = Gunicorn("submit:minimal_app()", env, ROOT / "bench")
    server = Gunicorn("surveyapp:create_app()", env, ROOT)
    try:
        # Warm up both (imports, the questionnaire cache in each worker).
        measure(minimal, "/ok", None, argparse.Namespace(**{**vars(args), "requests": 50}))
        warm = measure(
            server,
            f"/s/{token}/send",
            token,
            argparse.Namespace(**{**vars(args), "requests": 100}),
        )
        base = measure(minimal, "/ok", None, args)
        result = measure(server, f"/s/{token}/send", token, args, db_url=url)
        print(f"minimal Flask endpoint : {summary(base)}")
        print(f"                         {cpu_summary(base)}")
        print(f"QR submit (full SIPAS) : {summary(result)}")
        print(f"                         {cpu_summary(result)}")
        if base["latencies"] and result["latencies"]:
            ratio = (len(result["latencies"]) / result["wall"]) / (
                len(base["latencies"]) / base["wall"]
            )
            print(f"submit / minimal rate  : {ratio:.2f}")
        acked = warm["acked"] + result["acked"]
        found = stored_nonces(url, acked)
        rows, answers = count_rows(url)
        print(
            f"rows check             : {len(acked)} acknowledged, {found} found, "
            f"{rows} responses, {answers} answers"
        )

        # The crash check: kill -9 one worker in the middle of a load.
        before = count_rows(url)[0]
        proc = run_load(
            server.port, f"/s/{token}/send", token, args.requests, args.concurrency, args.seconds
        )
        time.sleep(args.kill_after)
        victims = server.workers()
        if victims:
            os.kill(victims[0], signal.SIGKILL)
        out, _ = proc.communicate(timeout=args.seconds + 60)
        crash = json.loads(out)
        found = stored_nonces(url, crash["acked"])
        after = count_rows(url)[0]
        lost = len(crash["acked"]) - found
        print(f"kill -9 worker {victims[:1]} after {args.kill_after:.1f} s: {summary(crash)}")
        print(
            f"crash count check      : {len(crash['acked'])} acknowledged (303), {found} in the "
            f"database, {lost} missing; {after - before} new rows "
            f"-> {'OK' if lost == 0 else 'LOST RESPONSES'}"
        )
    finally:
        server.stop()
        minimal.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="per measured load (bound)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0, help="time bound per load")
    parser.add_argument("--kill-after", type=float, default=2.0)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    args.requests = min(args.requests, 20_000)
    args.seconds = min(args.seconds, 120.0)
    backends = args.backends.split(",")
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory(prefix="bench-submit-") as tmp:
            bench_backend("SQLite (WAL)", f"sqlite:///{tmp}/bench.sqlite", args)
    if "postgresql" in backends:
        try:
            pg = PgDatabase()
        except Exception as exc:  # no server: say so and carry on
            print(f"\n== PostgreSQL: skipped ({type(exc).__name__}: {exc})")
            return
        try:
            bench_backend("PostgreSQL", pg.url, args)
        finally:
            pg.drop()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        SECRET = os.environ["BENCH_SECRET"]
        _child_main(sys.argv[2:])
    else:
        main()
