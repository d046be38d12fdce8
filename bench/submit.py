"""Throughput of the citizen submit path behind gunicorn, and no acknowledged loss on kill -9.

Not a test (pytest never collects it). Run from the repository root:

    .venv/bin/python bench/submit.py                 # SQLite (WAL), and PostgreSQL if reachable
    .venv/bin/python bench/submit.py --requests 3000 --concurrency 8 --backends sqlite

What it does, for each backend:
1. makes a fresh database (a SQLite file in WAL mode; a scratch PostgreSQL database that it
   drops afterwards), migrates it and adds two open campaigns with a desk each: one whose QR
   channel asks the desk questionnaire (desk-2026: 6 ratings, as the demo's 2026 campaign
   does, SIPAS being offered after it) and one that asks the full SIPAS form on QR;
2. starts ``gunicorn -c gunicorn.conf.py -w 2 "surveyapp:create_app()"`` (the repository's
   settings: 4 threads per worker) on 127.0.0.1 with rate limits off
   (``SURVEYAPP_RATELIMIT_ENABLED=false``) and, beside it, the same gunicorn settings serving a
   minimal Flask endpoint, both measured in the same run by the same load generator;
3. the load generator is a second process on 127.0.0.1 (threads, one connection per request,
   bounded by a request count and a time limit). Two submit loads, each POSTed to
   ``/s/<token>/send`` as a browser sends the form (the empty honeypot field included):
   *desk*, what a citizen posts on the demo's QR form — the 6 ratings, ``step=2`` (the
   page's script showed the "why?" questions in place), an empty "why?" text, and for a
   rating of 3 or lower (about one visitor in five) a reason and a comment; the reply is the
   303 that offers the full survey; *SIPAS*, the full form (33 items, 6 demographics, a
   comment). Nonces are minted with the shared secret exactly as the form page would issue
   them, and every request body is built before the clock starts, so only the server's side
   is timed (as for the minimal endpoint, whose body is ``x=1``);
4. prints responses/s, p50 and p99 for each, the CPU time per response of the gunicorn
   workers, the load generator and (PostgreSQL) the database backends — steadier than rates
   on a shared machine — and checks the rows: one per acknowledged POST;
   The minimal endpoint is measured before and after the submit loads; the ratio uses the
   mean of its two rates;
5. the crash check: the desk load again, and ``kill -9`` of one gunicorn worker in the middle;
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


DESK_RATINGS = ("d_access", "d_procedures", "d_staff", "d_results", "d_complaints", "d_overall")


def _desk_form(token: str, rng: random.Random) -> dict[str, str]:
    """What the demo's QR page posts: 6 ratings; "why?" answered when one is 3 or lower."""
    low = rng.random() < 0.2
    data = {code: str(rng.choice([4, 4, 5, 5, 5])) for code in DESK_RATINGS}
    data["nonce"] = _nonce(f"qr:{token}")
    data["step"] = "2"
    data["website"] = ""
    data["d_why"] = ""
    if low:
        data[rng.choice(DESK_RATINGS)] = str(rng.choice([1, 2, 3]))
        data["d_reasons"] = str(rng.choice([1, 3, 6, 7]))
        if rng.random() < 0.5:
            data["d_why"] = "Chờ lâu, hướng dẫn chưa rõ."
    return data


def _sipas_form(token: str, rng: random.Random) -> dict[str, str]:
    data = {f"q{i}": str(rng.choice([3, 4, 4, 5, 5])) for i in range(1, 34)}
    data.update(sex="1", age_group="2", ethnicity="1", education="3", occupation="2", area="1")
    data["comment"] = "Cán bộ hướng dẫn tận tình."
    data["nonce"] = _nonce(f"qr:{token}")
    data["website"] = ""
    return data


FORMS = {"desk": _desk_form, "sipas": _sipas_form}


def load(
    port: int,
    path: str,
    token: str | None,
    requests: int,
    concurrency: int,
    seconds: float,
    kind: str = "desk",
) -> dict[str, Any]:
    """Send at most ``requests`` POSTs within ``seconds``; latencies and acknowledged nonces."""
    # Every body is ready before the clock starts: the server's side is what is timed.
    rng = random.Random(requests)
    bodies: list[tuple[str, str | None]] = []
    for _ in range(requests):
        data = FORMS[kind](token, rng) if token else {"x": "1"}
        bodies.append((urllib.parse.urlencode(data), data.get("nonce")))
    lock = threading.Lock()
    latencies: list[float] = []
    acked: list[str] = []
    failures: dict[str, int] = {}
    counter = iter(range(requests))

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            body, nonce = bodies[index]
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
                    if nonce:
                        acked.append(nonce)
                else:
                    failures[str(status)] = failures.get(str(status), 0) + 1

    deadline = time.monotonic() + seconds
    started = time.perf_counter()
    cpu = time.process_time()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
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
    """``submit.py --child PORT PATH TOKEN N C SECONDS KIND``: run one load, print JSON."""
    port, path, token, n, c, seconds, kind = argv
    result = load(
        int(port), path, token if token != "-" else None, int(n), int(c), float(seconds), kind
    )
    json.dump(result, sys.stdout)


def run_load(
    port: int, path: str, token: str | None, n: int, c: int, seconds: float, kind: str = "desk"
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
            kind,
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
        self.settle()

    def settle(self, timeout: float = 180) -> None:
        """Wait until the workers are idle: booted, not still importing the application.

        A worker that is still importing (seconds when Python may not cache bytecode, as
        with PYTHONDONTWRITEBYTECODE, on a busy machine) takes no connection, and its import
        CPU would be counted as the load's.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.workers()
            before = cpu_seconds(pids)
            time.sleep(0.5)
            if len(pids) >= 2 and cpu_seconds(pids) - before < 0.03:
                return
        print(f"warning: the workers of port {self.port} did not settle in {timeout:.0f} s")

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


def prepare(url: str) -> dict[str, str]:
    """Migrate; add two open campaigns with a desk each; return the desks' tokens by form.

    ``desk``: the QR channel asks the desk questionnaire, SIPAS being the campaign's own (as
    in the demo's 2026 campaign); ``sipas``: the QR channel asks the full SIPAS form.
    """
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
    short = instruments.desk()
    today = date.today()
    tokens = {}
    for form, code, name in (("desk", "75", "Tỉnh Đồng Nai"), ("sipas", "74", "Tỉnh Bình Dương")):
        province = Unit(code=code, name=name, level=UnitLevel.PROVINCE)
        channels = [CampaignChannel(channel=c) for c in Channel]
        if form == "desk":
            for item in channels:
                if item.channel in (Channel.QR, Channel.KIOSK):
                    item.questionnaire = short
        db.session.add(Campaign(name=f"bench {form}", questionnaire=qn,
            status=CampaignStatus.OPEN, starts=today - timedelta(days=5),
            ends=today + timedelta(days=5), units=[province], channels=channels))
        desk = ServicePoint(unit=province, name="Bàn đo tải")
        db.session.add(desk)
        db.session.flush()
        tokens[form] = desk.token
    db.session.commit()
    print(json.dumps(tokens))
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
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


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
    kind: str = "desk",
) -> dict[str, Any]:
    pids = server.workers()
    backends = pg_backends(db_url) if db_url and db_url.startswith("postgresql") else []
    before = cpu_seconds(pids), cpu_seconds(backends)
    proc = run_load(server.port, path, token, args.requests, args.concurrency, args.seconds, kind)
    out, _ = proc.communicate(timeout=args.seconds + 60)
    result = dict(json.loads(out))
    result["server_cpu"] = cpu_seconds(pids) - before[0]
    result["db_cpu"] = cpu_seconds(backends) - before[1]
    return result


def rate(result: dict[str, Any]) -> float:
    return len(result["latencies"]) / result["wall"] if result["latencies"] else 0.0


def cpu_summary(result: dict[str, Any]) -> str:
    n = max(1, len(result["latencies"]))
    text = (
        f"CPU ms per response: workers {result['server_cpu'] / n * 1000:.2f}, "
        f"load generator {result['client_cpu'] / n * 1000:.2f}"
    )
    if result.get("db_cpu"):
        text += f", PostgreSQL backends {result['db_cpu'] / n * 1000:.2f}"
    return text


LABELS = {"desk": "QR submit, desk form", "sipas": "QR submit, full SIPAS"}


def bench_backend(name: str, url: str, args: argparse.Namespace) -> None:
    print(
        f"\n== {name}: gunicorn -w 2 ({CONFIG.name}: {gunicorn_settings()}), "
        f"{args.requests} requests at most, "
        f"concurrency {args.concurrency}, {args.seconds:.0f} s at most"
    )
    load1, load5, _ = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load1:.2f} (1 min) {load5:.2f} (5 min)")
    tokens = prepare(url)
    forms = [f for f in args.forms.split(",") if f]
    env = app_env(url)
    minimal = Gunicorn("submit:minimal_app()", env, ROOT / "bench")
    server = Gunicorn("surveyapp:create_app()", env, ROOT)
    acked: list[str] = []
    try:
        # Warm up both (imports, the questionnaire caches in each worker).
        measure(minimal, "/ok", None, argparse.Namespace(**{**vars(args), "requests": 50}))
        for form in forms:
            warm = measure(
                server,
                f"/s/{tokens[form]}/send",
                tokens[form],
                argparse.Namespace(**{**vars(args), "requests": 100}),
                kind=form,
            )
            acked += warm["acked"]
        minimal.settle()
        server.settle()
        base = measure(minimal, "/ok", None, args)
        results = {}
        for form in forms:
            token = tokens[form]
            results[form] = measure(server, f"/s/{token}/send", token, args, url, form)
            acked += results[form]["acked"]
        base2 = measure(minimal, "/ok", None, args)
        print(f"minimal Flask endpoint : {summary(base)}")
        print(f"                         {cpu_summary(base)}")
        print(f"  measured again after : {summary(base2)}")
        print(f"                         {cpu_summary(base2)}")
        reference = (rate(base) + rate(base2)) / 2
        for form, result in results.items():
            print(f"{LABELS[form]:23s}: {summary(result)}")
            print(f"                         {cpu_summary(result)}")
            if reference and result["latencies"]:
                print(f"  / minimal (mean) rate: {rate(result) / reference:.2f}")
        found = stored_nonces(url, acked)
        rows, answers = count_rows(url)
        print(
            f"rows check             : {len(acked)} acknowledged, {found} found, "
            f"{rows} responses, {answers} answers"
        )

        # The crash check: kill -9 one worker in the middle of a load.
        form = forms[0]
        token = tokens[form]
        before = count_rows(url)[0]
        proc = run_load(
            server.port,
            f"/s/{token}/send",
            token,
            args.requests,
            args.concurrency,
            args.seconds,
            form,
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
        print(
            f"kill -9 worker {victims[:1]} after {args.kill_after:.1f} s ({form} form): "
            f"{summary(crash)}"
        )
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
    parser.add_argument(
        "--forms",
        default="desk,sipas",
        help="submit loads: desk (the demo's QR form, also the crash check's), sipas",
    )
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
