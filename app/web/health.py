"""Health checks for a load balancer or process supervisor: no login (they carry no data)."""
from __future__ import annotations

from flask import Blueprint, jsonify

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
