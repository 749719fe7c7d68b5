"""The applicant's status lookup: query codes, one-time SMS codes, what the status page shows,
and answers to a correction notice sent online."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from ..models import Case

# No 0/O, 1/I/L: read out over the phone and typed on a phone without mistakes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
_ITERATIONS = 50_000  # a slow hash: a stolen table does not give the codes back quickly


def _hash(case_id: int, code: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", code.encode(), f"ogidesk-query:{case_id}".encode(), _ITERATIONS).hex()


def normalise_code(code: str) -> str:
    """What the applicant typed, as issued: upper case, no spaces or dashes."""
    return "".join(c for c in (code or "").upper() if c.isalnum())[:32]


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def set_query_code(case: Case) -> str:
    """A fresh query code for the case: its hash is stored on the case (the caller commits), the
    code itself is returned once, to be told to the applicant, and never kept."""
    code = new_code()
    case.query_code_hash = _hash(case.id, code)
    return code


def code_matches(case: Case, code: str) -> bool:
    if not case.query_code_hash:
        return False
    return hmac.compare_digest(case.query_code_hash, _hash(case.id, normalise_code(code)))


def format_code(code: str) -> str:
    """Shown as two groups of four (K7MX-3QPA): easier to read out."""
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code
