"""Notifications by e-mail and SMS (issue 13). Each message is a ``Message`` row written in the
transaction of what caused it; the worker sends it after the commit, with retries.

Interface (callers add the rows; they commit with their own work):
- ``to_applicant(case, event, **facts)``: confirmed (facts: query_code), correction, extended, replied;
- ``to_online_applicant(req, event, **facts)``: received, rejected (facts: reason) — before a case exists;
- ``to_staff_new_online(req)``: the agency's clerks are told of a new online request.
"""
from __future__ import annotations

from ..models import Case, Message, OnlineRequest


def to_applicant(case: Case, event: str, **facts) -> list[Message]:
    return []


def to_online_applicant(req: OnlineRequest, event: str, **facts) -> list[Message]:
    return []


def to_staff_new_online(req: OnlineRequest) -> list[Message]:
    return []
