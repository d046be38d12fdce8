"""Random messy campaigns for the generative test (issue 12, "Proof").

``campaigns()`` is a Hypothesis strategy of :class:`Plan`; :func:`build` turns a plan into a
campaign in a fresh database through the product's own paths, as its users would:

* an administrator (logged in over HTTP) creates desks, records their transaction volumes
  and creates user accounts at ``/admin/...``;
* units, the campaign and its targets are made the way ``surveyapp demo`` makes them (the
  product has no page for them), the household frame is imported with ``frame import`` and
  the sample drawn with ``sample draw``;
* paper forms are keyed twice through the entry service, imported with
  ``import-responses`` or answered online at ``/i/<code>`` with the code printed on them;
* citizens rate desks at ``/s/<token>`` (QR) and ``/k/<token>`` (kiosk) and answer
  standalone codes made by ``surveyapp invitations create`` at ``/i/<code>``.

Every text a user can type is drawn from :data:`MESSY_TEXT`: NUL and other control
characters, emoji, right-to-left scripts, 10,000-character strings and formula-like values
(``=``, ``+``, ``-``, ``@``). Where a form rightly refuses such a text, the builder falls back to
a plain one so the campaign still has desks and users; the refusal itself must not be a 5xx.

Profiles: ``SURVEYAPP_HYPOTHESIS_PROFILE=long`` runs many examples and shrinks a failure to
a minimal plan; the default (``ci``) runs a few derandomised examples without shrinking.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from flask import Flask, g, got_request_exception, request_started
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from paper_support import plan_toml
from sqlalchemy import select
from support import PG_URL, USING_POSTGRES, login, make_config, make_user, open_campaign

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import Base

# ---------------------------------------------------------------------------------------------
# Hypothesis profiles (explicit settings objects, so the other Hypothesis tests keep theirs).

PROFILE = os.environ.get("SURVEYAPP_HYPOTHESIS_PROFILE", "ci")
_PROFILES = {
    # A few fixed examples: the same campaigns on every run, no shrinking (a failure is
    # reported with the plan that failed; run the long profile to shrink it).
    "ci": {"max_examples": 2, "derandomize": True, "phases": (Phase.explicit, Phase.generate)},
    "long": {
        "max_examples": int(os.environ.get("SURVEYAPP_HYPOTHESIS_EXAMPLES", "200")),
        "derandomize": False,
        "phases": tuple(Phase),
    },
}


def messy_settings(**overrides: Any) -> settings:
    chosen = dict(_PROFILES.get(PROFILE, _PROFILES["ci"]))
    chosen.update(overrides)
    return settings(
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
        **chosen,
    )


# ---------------------------------------------------------------------------------------------
# Texts

NASTY = [
    "\x00",
    "Quầy\x00một cửa",
    "\x01\x07\x1b[31m\x7f",
    "line\r\nbreak\ttab",
    "😀🇻🇳👨‍👩‍👧",
    "مرحبا بالعالم",
    "שלום עולם",
    "\u202eRTL override\u202c",
    "=1+1",
    '=HYPERLINK("https://evil.example","x")',
    "+84 912 345 678",
    "-2+3",
    "@SUM(A1:A9)",
    "=cmd|' /C calc'!A0",
    "\ufeffBOM",
    "Ấp " * 3334,  # 10,002 characters
    "😀" * 10_000,
    "x" * 10_000,
    " ",
    "'",
    '"; DROP TABLE units; --',
    "<script>alert(1)</script>",
    "%s %(name)s {0}",
]

FORMULA = st.builds(lambda head, rest: head + rest, st.sampled_from("=+-@"), st.text(max_size=12))
# Plain texts come first: the simplest example (and the first one a derandomised run tries) is
# a tidy campaign, so a failure there is about the paths, not the texts.
PLAIN = ["Xã Tân Phú", "Bộ phận Một cửa", "Nguyễn Văn An"]
MESSY_TEXT = st.one_of(
    st.sampled_from(PLAIN),
    st.sampled_from(NASTY),
    FORMULA,
    st.text(min_size=1, max_size=24),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=8),
)


def fit(value: str, limit: int, fallback: str) -> str:
    """A text for a path that writes straight to a column (the demo's way of making units and
    campaigns; the product has no page or import for them): cut to the column's length, never
    empty, and without NUL, which PostgreSQL cannot store at all, so no input layer can pass it
    on. Every other control character stays: the database keeps it and every writer must cope."""
    return value.replace("\x00", "")[:limit] or fallback


# ---------------------------------------------------------------------------------------------
# Plans

FATES = ("key", "import", "online", "none")


@dataclass
class DeskPlan:
    name: str
    district: int
    volume: int | None  # None: no volume recorded; 0: a zero volume
    qr: int
    kiosk: int
    comment: str | None


@dataclass
class Plan:
    province: str
    districts: list[str]
    communes: list[str]
    villages: list[str]
    campaign: str
    head_names: list[str]
    fates: list[str]
    empty_district: int | None
    blank_items: list[tuple[int, str]]
    desks: list[DeskPlan]
    standalone: int
    standalone_answered: int
    users: list[tuple[str, str]]
    comments: list[str]
    seed: int
    households: int = 3
    notes: list[str] = field(default_factory=list, repr=False, compare=False)


ITEMS = [f"q{i}" for i in range(1, 34)]


@st.composite
def campaigns(draw: Any) -> Plan:
    n_districts = draw(st.integers(1, 3))
    desks = draw(
        st.lists(
            st.builds(
                DeskPlan,
                name=MESSY_TEXT,
                district=st.integers(0, n_districts - 1),
                volume=st.one_of(st.none(), st.just(0), st.integers(1, 5000)),
                qr=st.integers(0, 3),
                kiosk=st.integers(0, 2),
                comment=st.one_of(st.none(), MESSY_TEXT),
            ),
            max_size=3,
        )
    )
    standalone = draw(st.integers(0, 2))
    return Plan(
        province=draw(MESSY_TEXT),
        districts=draw(st.lists(MESSY_TEXT, min_size=n_districts, max_size=n_districts)),
        communes=draw(st.lists(MESSY_TEXT, min_size=1, max_size=4)),
        villages=draw(st.lists(MESSY_TEXT, min_size=1, max_size=4)),
        campaign=draw(MESSY_TEXT),
        head_names=draw(st.lists(MESSY_TEXT, min_size=1, max_size=4)),
        fates=draw(st.lists(st.sampled_from(FATES), min_size=1, max_size=6)),
        empty_district=draw(st.one_of(st.none(), st.integers(0, n_districts - 1))),
        blank_items=draw(
            st.lists(st.tuples(st.integers(0, n_districts - 1), st.sampled_from(ITEMS)), max_size=3)
        ),
        desks=desks,
        standalone=standalone,
        standalone_answered=draw(st.integers(0, standalone)),
        users=draw(st.lists(st.tuples(MESSY_TEXT, MESSY_TEXT), max_size=2)),
        comments=draw(st.lists(MESSY_TEXT, min_size=1, max_size=3)),
        seed=draw(st.integers(0, 2**16)),
    )


# ---------------------------------------------------------------------------------------------
# Databases: the configured one (SQLite by default) and the other kind, for backup/restore.


def _forget_request_caches(sender: Flask, **_: Any) -> None:
    for name in list(vars(g)):
        delattr(g, name)


class Databases:
    """Fresh databases for each example: SQLite files in a temporary folder, PostgreSQL
    schemas of this run's own (dropped at the end), emptied before each use."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="messy-"))
        self.schemas: list[str] = []
        self._conn: Any = None

    def _pg(self) -> Any:
        if self._conn is None:
            import psycopg

            from surveyapp.config import normalise_database_url

            url = PG_URL if USING_POSTGRES else "postgresql+psycopg://postgres@127.0.0.1:5432/test"
            self.pg_url = url
            plain = normalise_database_url(url).replace("postgresql+psycopg://", "postgresql://")
            self._conn = psycopg.connect(plain, autocommit=True, connect_timeout=5)
        return self._conn

    def pg_available(self) -> str | None:
        try:
            self._pg()
        except Exception as exc:  # any reason PostgreSQL cannot be reached
            return str(exc)
        return None

    @contextmanager
    def app(self, kind: str) -> Iterator[Flask]:
        """An app on a new empty database of ``kind`` ("sqlite" or "postgresql")."""
        folder = self.root / uuid.uuid4().hex[:10]
        folder.mkdir()
        schema = None
        if kind == "postgresql":
            schema = f"messy_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            self._pg().execute(f'CREATE SCHEMA "{schema}"')
            self.schemas.append(schema)
        # Errors answer 500 as in production (not raised into the test), and are kept.
        config = make_config(folder, schema, PROPAGATE_EXCEPTIONS=False)
        if schema is not None:
            from support import pg_url_with_schema

            config["SQLALCHEMY_DATABASE_URI"] = pg_url_with_schema(self.pg_url, schema)
        application = create_app(config)
        application.instance_path = str(folder / "instance")
        # The traceback is kept with the failure; Flask's own log of it is noise here.
        application.logger.disabled = True
        request_started.connect(_forget_request_caches, application)
        application.extensions["messy_errors"] = errors = []

        def keep(sender: Flask, exception: BaseException, **_: Any) -> None:
            import traceback

            errors.append("".join(traceback.format_exception(exception)))

        got_request_exception.connect(keep, application, weak=False)
        with application.app_context():
            Base.metadata.create_all(db.engine)
            try:
                yield application
            finally:
                db.session.remove()
                db.engine.dispose()
        if schema is not None:
            self._pg().execute(f'DROP SCHEMA "{schema}" CASCADE')
            self.schemas.remove(schema)

    def close(self) -> None:
        if self._conn is not None:
            for schema in self.schemas:
                self._conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            self._conn.close()


def primary_kind() -> str:
    return "postgresql" if USING_POSTGRES else "sqlite"


def other_kind() -> str:
    return "sqlite" if USING_POSTGRES else "postgresql"


# ---------------------------------------------------------------------------------------------
# Building a plan


@dataclass
class Built:
    campaign_id: int
    client: FlaskClient
    district_names: list[str]
    desk_ids: list[int] = field(default_factory=list)
    batch_ids: list[int] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)
    paper: int = 0
    convenience: int = 0
    invited: int = 0
    problems: list[str] = field(default_factory=list)


NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def server_error(response: Any, what: str) -> str | None:
    if response.status_code >= 500:
        from flask import current_app

        errors = current_app.extensions.get("messy_errors") or []
        cause = brief(errors.pop()) if errors else response.get_data(as_text=True)[:300]
        errors.clear()
        return f"{what} answered {response.status_code}:\n{cause}"
    return None


def cli(app: Flask, args: list[str], input: str | None = None) -> Any:
    """Run a ``surveyapp`` command as a user would (no request context). ``analyze`` sits on
    the ``surveyapp`` group itself (it needs no app), so it is run as that command."""
    if args and args[0] == "analyze":
        from click.testing import CliRunner

        from surveyapp.analysis.cli import analyze

        return CliRunner().invoke(analyze, args[1:], input=input)
    result = app.test_cli_runner().invoke(args=args, input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # A crashed command's process would end with it; here the session lives on.
        db.session.rollback()
    return result


def brief(traceback_text: str) -> str:
    """The product's innermost frame and the error of a traceback."""
    lines = traceback_text.rstrip().splitlines()
    frames = [i for i, line in enumerate(lines) if "/surveyapp/" in line and "File " in line]
    where = lines[frames[-1]].strip() if frames else ""
    # The error's own line (SQLAlchemy adds a "Background on this error" line after it).
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception)\b", line)]
    error = errors[-1] if errors else (lines[-1] if lines else "")
    return f"{where} -> {error[:300]}"


def traceback_of(result: Any) -> str | None:
    """The uncaught exception of a command run, if any (a clean ``fail()`` is SystemExit)."""
    exc = result.exception
    if exc is None or isinstance(exc, SystemExit):
        return None
    import traceback

    return brief("".join(traceback.format_exception(exc)))


def _answers(
    rng: np.random.Generator, questions: list[Any], blank: set[str], keyed: bool
) -> dict[str, int | None]:
    """Random answers to the keyed questions; items in ``blank`` and ~10 % of the rest empty."""
    out: dict[str, int | None] = {}
    for q in questions:
        values = [int(v) for v in q.values if int(v) > 0]
        if q.code in blank or rng.random() < 0.1:
            out[q.code] = None
        else:
            out[q.code] = int(rng.choice(values))
    return out


def _post_form(client: FlaskClient, page: str, values: dict[str, Any], problems: list[str]) -> int:
    """Open a citizen form, send it; the status of the send (0 when the page had no form)."""
    opened = client.get(page)
    if (bad := server_error(opened, f"GET {page}")) is not None:
        problems.append(bad)
        return 0
    match = NONCE.search(opened.get_data(as_text=True))
    if match is None:
        return 0
    action = re.search(r'<form[^>]*action="([^"]+)"', opened.get_data(as_text=True))
    target = action.group(1) if action else page
    data = {k: str(v) for k, v in values.items() if v is not None}
    data["nonce"] = match.group(1)
    sent = client.post(target.replace("&amp;", "&"), data=data)
    if (bad := server_error(sent, f"POST {target}")) is not None:
        problems.append(bad)
    return sent.status_code


def build(app: Flask, plan: Plan) -> Built:
    from surveyapp.models import (
        Form,
        ServicePoint,
        Unit,
        UnitLevel,
        User,
    )
    from surveyapp.services import demo, entry, instruments, targets

    rng = np.random.default_rng(plan.seed)
    tmp = Path(tempfile.mkdtemp(prefix="messy-build-", dir=app.instance_path.rsplit("/", 1)[0]))

    # Units and the campaign, as `surveyapp demo` makes them.
    qn = instruments.sipas()
    province = Unit(code="75", name=fit(plan.province, 200, "Tỉnh"), level=UnitLevel.PROVINCE)
    villages: list[Unit] = []
    districts: list[Unit] = []
    for d, name in enumerate(plan.districts):
        district = Unit(code=f"75-{d}", name=fit(name, 200, f"Huyện {d}"), level=UnitLevel.DISTRICT)
        district.parent = province
        districts.append(district)
        for c in range(2):
            commune = Unit(
                code=f"75-{d}-{c}",
                name=fit(plan.communes[(d * 2 + c) % len(plan.communes)], 200, "Xã"),
                level=UnitLevel.COMMUNE,
                parent=district,
            )
            for v in range(2):
                villages.append(
                    Unit(
                        code=f"75-{d}-{c}-{v}",
                        name=fit(plan.villages[(d + c + v) % len(plan.villages)], 200, "Ấp"),
                        level=UnitLevel.VILLAGE,
                        parent=commune,
                    )
                )
    campaign = open_campaign(fit(plan.campaign, 200, "Đợt"), qn, province)
    db.session.add_all([province, campaign, *villages])
    db.session.flush()
    targets.import_targets_file(campaign, demo.TARGETS_FILE)
    db.session.commit()
    built = Built(campaign.id, app.test_client(), [u.name for u in districts])
    problems = built.problems

    # The household frame (head names and addresses are imported text) and the draw.
    def write_frame(names: list[str]) -> Path:
        frame = io.StringIO()
        writer = csv.writer(frame, lineterminator="\n")
        writer.writerow(["village", "household", "head_name", "address"])
        for i, village in enumerate(villages):
            for h in range(plan.households):
                name = names[(i + h) % len(names)]
                writer.writerow([village.code, f"H{h:03d}", name, name[::-1]])
        path = tmp / "frame.csv"
        path.write_text(frame.getvalue(), encoding="utf-8")
        return path

    result = cli(app, ["frame", "import", str(write_frame(plan.head_names))])
    if (tb := traceback_of(result)) is not None:
        problems.append(f"frame import: {tb}")
    if result.exit_code != 0:
        # The frame refused a messy name (rightly or not): import plain names instead.
        plan.notes.append(f"frame import refused: {result.output[-200:]}")
        result = cli(app, ["frame", "import", str(write_frame(["Chủ hộ"]))])
        assert result.exit_code == 0, result.output
    plan_path = tmp / "plan.toml"
    plan_path.write_text(plan_toml(seed=plan.seed, households=2), encoding="utf-8")
    result = cli(app, ["sample", "draw", "--campaign", str(campaign.id), "--plan", str(plan_path)])
    assert result.exit_code == 0, result.output

    # Users: an administrator for the pages, two enumerators for double entry, and accounts
    # with messy names made at /admin/users/new.
    make_user("admin-messy", "admin")
    keyers = [make_user("keyer-a", "enumerator"), make_user("keyer-b", "enumerator")]
    client = built.client
    assert login(client, "admin-messy").status_code == 302
    for username, full_name in plan.users:
        sent = client.post(
            "/admin/users/new",
            data={
                "username": username,
                "full_name": full_name,
                "role": "analyst",
                "password": "correct-horse-42",
            },
        )
        if (bad := server_error(sent, "POST /admin/users/new")) is not None:
            problems.append(bad)
        # Someone types the messy name at the login page too.
        other = app.test_client()
        tried = login(other, username)
        if (bad := server_error(tried, "POST /login")) is not None:
            problems.append(bad)
    built.user_ids = list(db.session.scalars(select(User.id)))

    # Desks at /admin/desks/new, with volumes at /admin/desks/<id>.
    for i, desk_plan in enumerate(plan.desks):
        unit = districts[desk_plan.district]
        before = set(db.session.scalars(select(ServicePoint.id)))
        sent = client.post(
            "/admin/desks/new", data={"name": desk_plan.name, "unit_id": str(unit.id)}
        )
        if (bad := server_error(sent, "POST /admin/desks/new")) is not None:
            problems.append(bad)
        db.session.expire_all()
        made = set(db.session.scalars(select(ServicePoint.id))) - before
        if not made:
            plan.notes.append(f"desk name refused: {desk_plan.name[:40]!r}")
            client.post("/admin/desks/new", data={"name": f"Quầy {i}", "unit_id": str(unit.id)})
            db.session.expire_all()
            made = set(db.session.scalars(select(ServicePoint.id))) - before
        assert made, "a plain desk name was refused"
        desk_id = made.pop()
        built.desk_ids.append(desk_id)
        if desk_plan.volume is not None:
            sent = client.post(
                f"/admin/desks/{desk_id}",
                data={
                    # the campaign's period
                    "period_start": campaign.starts.isoformat(),
                    "period_end": campaign.ends.isoformat(),
                    "transactions": str(desk_plan.volume),
                },
            )
            if (bad := server_error(sent, f"POST /admin/desks/{desk_id}")) is not None:
                problems.append(bad)
        desk = db.session.get(ServicePoint, desk_id)
        assert desk is not None
        questions = entry.keyed_questions(qn)
        for channel, count in (("s", desk_plan.qr), ("k", desk_plan.kiosk)):
            for _ in range(count):
                values: dict[str, Any] = _answers(rng, questions, set(), keyed=False)
                if desk_plan.comment is not None:
                    values["comment"] = desk_plan.comment
                # Each rater is a different phone: its own client, no shared cookies.
                status = _post_form(app.test_client(), f"/{channel}/{desk.token}", values, problems)
                if status != 303 and desk_plan.comment is not None:
                    values.pop("comment")
                    status = _post_form(
                        app.test_client(), f"/{channel}/{desk.token}", values, problems
                    )
                if status == 303:
                    built.convenience += 1

    # Paper forms: keyed twice, imported, answered online with their printed code, or not at all.
    questions = entry.keyed_questions(qn)
    forms = list(
        db.session.scalars(
            select(Form)
            .where(Form.campaign_id == campaign.id, Form.reserve.is_(False))
            .order_by(Form.id)
        )
    )
    district_of = {}
    for form in forms:
        unit = form.household.village
        while unit.level != UnitLevel.DISTRICT:
            unit = unit.parent
        district_of[form.id] = districts.index(unit)
    to_import: list[tuple[str, dict[str, int | None]]] = []
    online: list[tuple[str, dict[str, int | None]]] = []
    for n, form in enumerate(forms):
        d = district_of[form.id]
        fate = plan.fates[n % len(plan.fates)]
        if plan.empty_district == d:
            fate = "none"
        blank = {item for dd, item in plan.blank_items if dd == d}
        values = _answers(rng, questions, blank, keyed=True)
        if fate == "key":
            with app.test_request_context():
                entry.save_keying(form, keyers[0], values, keystrokes=40)
                entry.save_keying(form, keyers[1], values, keystrokes=40)
            db.session.commit()
            built.paper += 1
        elif fate == "import":
            to_import.append((form.serial, values))
        elif fate == "online" and form.invitation is not None:
            online.append((form.invitation.code, values))
    if to_import:
        path = tmp / "keyed.csv"
        from surveyapp.services import imports

        header = imports.columns(campaign)
        with path.open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(header)
            for serial, values in to_import:
                out.writerow(
                    [
                        serial if c == "serial" else ("" if values.get(c) is None else values[c])
                        for c in header
                    ]
                )
        result = cli(app, ["import-responses", str(path), "--campaign", str(campaign.id)])
        if (tb := traceback_of(result)) is not None:
            problems.append(f"import-responses: {tb}")
        assert result.exit_code == 0, result.output
        built.paper += len(to_import)
    for code, values in online:
        if _post_form(app.test_client(), f"/i/{code}", values, problems) == 303:
            built.paper += 1

    # Standalone invitations from `surveyapp invitations create`.
    if plan.standalone:
        out_path = tmp / "inv.csv"
        result = cli(
            app,
            [
                "invitations",
                "create",
                "--campaign",
                str(campaign.id),
                "--count",
                str(plan.standalone),
                "--out",
                str(out_path),
            ],
        )
        assert result.exit_code == 0, result.output
        with out_path.open(encoding="utf-8") as fh:
            codes = [row["code"] for row in csv.DictReader(fh)]
        for k, code in enumerate(codes[: plan.standalone_answered]):
            values = _answers(rng, questions, set(), keyed=False)
            values["comment"] = plan.comments[k % len(plan.comments)]
            status = _post_form(app.test_client(), f"/i/{code}", values, problems)
            if status != 303:
                values.pop("comment")
                status = _post_form(app.test_client(), f"/i/{code}", values, problems)
            if status == 303:
                built.invited += 1

    from surveyapp.models import Batch

    built.batch_ids = list(db.session.scalars(select(Batch.id).order_by(Batch.id)))
    db.session.expire_all()
    return built


# Two districts with one name (many communes are called "Tân Phú"): the report once pooled
# them into one domain while the export kept them apart.
SAME_NAMES = Plan(
    province="Tỉnh Đồng Nai",
    districts=["Xã Tân Phú", "Xã Tân Phú"],
    communes=["Ấp 1"],
    villages=["Ấp 1"],
    campaign="=1+1",
    head_names=["Nguyễn Văn An"],
    fates=["key", "import"],
    empty_district=None,
    blank_items=[(1, "q31")],
    desks=[
        DeskPlan("Quầy", 0, 0, 2, 1, "@SUM(A1)"),
        DeskPlan("Quầy", 1, None, 1, 1, None),
    ],
    standalone=1,
    standalone_answered=0,
    users=[],
    comments=["x"],
    seed=7,
)


# Every kind of mess at once, fixed, so each run meets it: NUL and other control characters in
# the names an administrator, an import and a citizen type, an answered standalone invitation,
# an empty district, an item nobody answered in a district and a desk without volume.
EVERYTHING = Plan(
    province="Tỉnh\x00Đồng Nai",
    districts=["Huyện\x07A", "@Huyện B", "-Huyện C"],
    communes=["Xã\x1bTân Phú", "مرحبا"],
    villages=["Ấp 😀", "+Ấp 2"],
    campaign="Đợt\x00 2025",
    head_names=["Nguyễn\x00Văn An", "x" * 10_000],
    fates=["key", "online", "import"],
    empty_district=2,
    blank_items=[(0, "q31"), (1, "q1")],
    desks=[
        DeskPlan("Quầy\x00một cửa", 0, 10, 2, 1, "a\x00b"),
        DeskPlan("=Quầy", 1, None, 1, 1, None),
    ],
    standalone=2,
    standalone_answered=1,
    users=[("user\x00x", "Tên\x00"), ("=cmd", "\u202eRTL")],
    comments=["bình luận\x00", "😀" * 10_000],
    seed=3,
)


# One responding commune (PSU) in each district (stratum): the design has no degrees of freedom.
ZERO_DF = Plan(
    province="Tỉnh Đồng Nai",
    districts=["Huyện A", "Huyện B"],
    communes=["Xã"],
    villages=["Ấp"],
    campaign="Đợt 2025",
    head_names=["Nguyễn Văn An"],
    fates=["key", "key", "none", "none"],
    empty_district=None,
    blank_items=[],
    desks=[],
    standalone=0,
    standalone_answered=0,
    users=[],
    comments=["x"],
    seed=1,
)
