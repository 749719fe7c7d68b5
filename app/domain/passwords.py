"""Password rules (GB/T 22239-2019 8.1.4.1 身份鉴别: 口令具有复杂度要求并定期更换).

Pure functions: the services (app/services/accounts.py) apply them to every password a person sets
(creation, change) and to the ones the system makes (one-time passwords after a reset)."""
from __future__ import annotations

import secrets
import string
from datetime import datetime, timedelta

MIN_LENGTH = 10
MIN_CLASSES = 3
HISTORY = 5  # a new password may not be any of the last five (the current one included)
MAX_LENGTH = 200

CLASSES = (
    ("大写字母", lambda c: c.isascii() and c.isupper()),
    ("小写字母", lambda c: c.isascii() and c.islower()),
    ("数字", lambda c: c.isascii() and c.isdigit()),
    ("符号", lambda c: not (c.isascii() and c.isalnum())),  # punctuation, spaces, CJK all count here
)

RULE_TEXT = f"至少{MIN_LENGTH}位，包含大写字母、小写字母、数字、符号中的至少{MIN_CLASSES}类，不含用户名，不与最近{HISTORY}次使用的密码相同"


def character_classes(password: str) -> int:
    return sum(1 for _, test in CLASSES if any(test(c) for c in password))


def policy_problem(password: str, username: str, min_length: int = MIN_LENGTH) -> str | None:
    """The first rule the password breaks, as the message to show, or None. (The history rule needs
    the stored hashes and is checked by the service.)"""
    if len(password) < min_length:
        return f"密码至少{min_length}位"
    if len(password) > MAX_LENGTH:
        return f"密码不能超过{MAX_LENGTH}位"
    if character_classes(password) < MIN_CLASSES:
        return f"密码须包含大写字母、小写字母、数字、符号中的至少{MIN_CLASSES}类"
    name = username.strip().lower()
    # The user name forwards or backwards anywhere in the password is the first thing guessed.
    if name and (name in password.lower() or name[::-1] in password.lower()):
        return "密码不能包含用户名"
    return None


def is_expired(changed_at: datetime | None, now: datetime, max_age_days: int) -> bool:
    """Whether a password set at ``changed_at`` must be changed now (0 days: never expires)."""
    if max_age_days <= 0 or changed_at is None:
        return False
    return now - changed_at >= timedelta(days=max_age_days)


# No 0/O, 1/l/I: the administrator reads the one-time password out to the user.
_OTP_ALPHABETS = ("ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz", "23456789")


def one_time_password(length: int = 14) -> str:
    """A random password that meets the rules, from an alphabet easy to read out."""
    pool = "".join(_OTP_ALPHABETS)
    while True:
        pw = "".join(secrets.choice(pool) for _ in range(length))
        if all(any(c in alphabet for c in pw) for alphabet in _OTP_ALPHABETS):
            return pw
