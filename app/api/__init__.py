"""JSON API under /api/v1, on the same services as the UI."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import core, views  # noqa: E402,F401  (register error handlers and routes on bp)
