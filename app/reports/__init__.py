"""Ledger (台账), dashboard, annual report tables, exports and the ledger import."""
from flask import Blueprint

bp = Blueprint("reports", __name__)

from . import views  # noqa: E402,F401  (registers the routes)
from .access import register_error_handlers  # noqa: E402

register_error_handlers(bp)
