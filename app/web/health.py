"""Health checks for a load balancer or process supervisor: no login (they carry no data)."""
from __future__ import annotations

from flask import Blueprint, jsonify, redirect, url_for

from ..services.health import readiness

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    checks = readiness()
    ready = not any(checks.values())
    body = {"status": "ok" if ready else "unavailable",
            "checks": {name: problem or "ok" for name, problem in checks.items()}}
    return jsonify(body), 200 if ready else 503


@bp.get("/favicon.ico")
def favicon():
    """What a browser asks for by itself (PDF views, old bookmarks): the icon the pages link to."""
    return redirect(url_for("static", filename="favicon.svg"), 301)
