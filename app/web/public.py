"""Public pages of each agency, no login (issue 13): the 政府信息公开指南 and the online application
form. Mobile-first (templates/public/), offline assets, rate-limited (app.extensions.limiter)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/gk")
