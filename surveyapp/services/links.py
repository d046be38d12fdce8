"""The absolute address printed in links, QR codes and invitation files.

``SURVEYAPP_BASE_URL`` wins when set (production: the public name behind the proxy). Without
it a web page follows the host and port its request came to (after ProxyFix, the proxy's
``X-Forwarded-Host``/``-Proto`` when the proxy is trusted), so ``make run PORT=18101`` shows
links on port 18101. A command has no request: it takes ``--base-url``, else Flask's
``SERVER_NAME``, else the address the last ``surveyapp run`` served on (recorded in the
instance folder), else :data:`DEFAULT`.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, has_request_context, request

DEFAULT = "http://127.0.0.1:5000"
SERVED_FILE = "served_url"


def base_url() -> str:
    configured = str(current_app.config.get("BASE_URL") or "").rstrip("/")
    if configured:
        return configured
    if has_request_context():
        return request.host_url.rstrip("/")
    server_name = current_app.config.get("SERVER_NAME")
    if server_name:
        return f"{current_app.config.get('PREFERRED_URL_SCHEME') or 'http'}://{server_name}"
    return served_url(Path(current_app.instance_path)) or DEFAULT


def served_url(instance: Path) -> str | None:
    try:
        text = (instance / SERVED_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text if text.startswith(("http://", "https://")) else None


def record_served_url(instance: Path, host: str, port: int, https: bool = False) -> str:
    """Remember where ``surveyapp run`` serves, for the commands run beside it."""
    # A server bound to every interface is reached on this machine at the loopback address.
    if host in {"0.0.0.0", "::", ""}:
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    url = f"{'https' if https else 'http'}://{host}:{port}"
    instance.mkdir(parents=True, exist_ok=True)
    (instance / SERVED_FILE).write_text(url + "\n", encoding="utf-8")
    return url


def desk_url(token: str) -> str:
    return f"{base_url()}/s/{token}"


def invitation_url(code: str) -> str:
    return f"{base_url()}/i/{code}"
