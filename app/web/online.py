"""Staff pages of the applicant's side: 网上申请待确认 (confirm or reject an online request) and
the correction answers sent online, recorded as received without retyping."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("online", __name__)
