"""Ledger (台账), dashboard, annual report tables, exports and the ledger import."""
from flask import Blueprint

bp = Blueprint("reports", __name__)
