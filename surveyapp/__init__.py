"""surveyapp: SIPAS-style survey collection and satisfaction measurement.

The application factory follows Flask's tutorial: instance-relative configuration, extensions
bound in :func:`register_extensions`, one blueprint per audience.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from surveyapp import config as config_module

if TYPE_CHECKING:  # importing Flask here would make `surveyapp.analysis` impure
    from flask import Flask

__version__ = "0.1.0"

PACKAGE_DIR = Path(__file__).resolve().parent
# Alembic's scripts: the top-level migrations/ in a checkout, surveyapp/migrations in a wheel
# (pyproject.toml and setup.py map the one onto the other).
MIGRATIONS_DIR = next(
    (
        path
        for path in (PACKAGE_DIR.parent / "migrations", PACKAGE_DIR / "migrations")
        if (path / "env.py").is_file()
    ),
    PACKAGE_DIR / "migrations",
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the application.

    Parameters
    ----------
    test_config
        Settings applied last, over ``instance/config.py`` and the environment; tests use it.
    """
    from flask import Flask

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(config_module.DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_mapping(config_module.from_environment())
    if test_config is not None:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    _finish_config(app)
    _trust_proxies(app)

    register_routing(app)
    register_extensions(app)
    register_i18n(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security_headers(app)
    register_cli(app)
    return app


def _finish_config(app: Flask) -> None:
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = Path(app.instance_path) / "surveyapp.sqlite"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    url = config_module.normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        # SQLite takes no pool_pre_ping benefit; WAL and a busy timeout are set on connect.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    elif url.startswith("postgresql"):
        # While the server restarts or the network drops packets, a connect attempt must fail
        # in seconds (the visitor gets the 503 page) rather than outlive gunicorn's 30 s
        # worker timeout (the visitor would get no page at all). A copy: the defaults' dict
        # is shared by every app made in this process.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", int(app.config["DB_CONNECT_TIMEOUT"]))
        options["connect_args"] = connect_args
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    # Empty: links follow the served host and port (services.links).
    app.config["BASE_URL"] = str(app.config.get("BASE_URL") or "").rstrip("/")
    app.config["RATELIMIT_ENABLED"] = bool(app.config["RATELIMIT_ENABLED"])


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client's address, scheme and host
    from their X-Forwarded-* headers: rate limits then key on the citizen, not the proxy,
    ``request.is_secure`` sees HTTPS, and links carry the public host."""
    count = int(app.config.get("TRUSTED_PROXIES") or 0)
    if count > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count
        )


def _instance_secret(instance: Path) -> str:
    """A per-installation secret kept in the instance folder, so sessions survive restarts."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def register_routing(app: Flask) -> None:
    from surveyapp import routing

    routing.init_app(app)


def register_extensions(app: Flask) -> None:
    from sqlalchemy import event

    from surveyapp.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Several gunicorn workers write citizen responses: a larger WAL checkpoint interval
        # writes a hot index page back once per checkpoint instead of once per response, and
        # memory-mapped reads share the OS page cache between workers (0: SQLite's default).
        mmap_size = int(app.config.get("SQLITE_MMAP_SIZE") or 0)
        checkpoint = int(app.config.get("SQLITE_WAL_AUTOCHECKPOINT") or 0)
        with app.app_context():

            @event.listens_for(db.engine, "connect")
            def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                # WAL lets readers and one writer work at once; foreign keys are off by default.
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA foreign_keys=ON")
                # NORMAL in WAL mode: a commit is written to the WAL file before the request is
                # answered, so a killed worker (kill -9, OOM) loses no acknowledged response;
                # only the WAL's fsync waits for a checkpoint, so a power cut or kernel crash
                # may lose the last commits (never corrupt the file). FULL would fsync per
                # response, milliseconds on the citizen path.
                cursor.execute("PRAGMA synchronous=NORMAL")
                if mmap_size:
                    cursor.execute(f"PRAGMA mmap_size={mmap_size}")
                if checkpoint:
                    cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoint}")
                cursor.close()

    from surveyapp import auth

    auth.init_login(app)


def register_i18n(app: Flask) -> None:
    from surveyapp import i18n

    i18n.init_app(app)


def register_blueprints(app: Flask) -> None:
    from surveyapp import auth
    from surveyapp.admin import bp as admin_bp
    from surveyapp.api import bp as api_bp
    from surveyapp.dashboard import bp as dashboard_bp
    from surveyapp.entry import bp as entry_bp
    from surveyapp.public import bp as public_bp
    from surveyapp.services import links

    app.jinja_env.globals["desk_url"] = links.desk_url
    app.register_blueprint(public_bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(entry_bp, url_prefix="/entry")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(dashboard_bp, url_prefix="/dashboard")
    app.register_blueprint(api_bp, url_prefix="/api/v1")


def register_errorhandlers(app: Flask) -> None:
    from surveyapp import errors

    errors.init_app(app)


def register_security_headers(app: Flask) -> None:
    from surveyapp import security

    security.init_app(app)


def register_cli(app: Flask) -> None:
    from surveyapp import cli
    from surveyapp.admin import cli as admin_cli
    from surveyapp.dashboard import cli as dashboard_cli
    from surveyapp.entry import cli as entry_cli
    from surveyapp.public import cli as public_cli

    for module in (cli, admin_cli, dashboard_cli, entry_cli, public_cli):
        for command in module.COMMANDS:
            app.cli.add_command(command)
