"""Flask extensions, created unbound here and bound in :func:`surveyapp.create_app`."""

from __future__ import annotations

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from surveyapp.models.base import Base

# Models subclass our own typed Base; Flask-SQLAlchemy only manages engines and sessions.
db = SQLAlchemy(metadata=Base.metadata)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def client_address() -> str:
    """The address rate limits are keyed on (never stored with a response)."""
    return request.remote_addr or "unknown"
