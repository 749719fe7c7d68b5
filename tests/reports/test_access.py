"""Every reporting route needs a login and a role."""
from __future__ import annotations

import pytest

from app.cli import DEMO_PASSWORD
from app.extensions import db
from app.models import User
from tests.conftest import user

from .support import make_case

READ_ROUTES = ["/ledger", "/ledger/export.xlsx", "/dashboard", "/annual-report?year=2026",
               "/annual-report/export.xlsx?year=2026", "/annual-report/export.pdf?year=2026",
               "/annual-report/export.docx?year=2026", "/high-frequency", "/cases/{id}/remedies"]
ADMIN_ROUTES = ["/import", "/import/template.xlsx"]
POST_ROUTES = ["/import", "/import/confirm", "/cases/{id}/remedies", "/cases/{id}/remedies/1", "/cases/{id}/triage",
               "/annual-report/entry", "/annual-report/import", "/annual-report/copy-in-force",
               "/annual-report/submit", "/annual-report/reopen"]
# The annual report's entry and submission: the head and the administrator; withdrawing a
# submission: the head only (app/reports/annual_entry.py).
ANNUAL_WRITES = {"/annual-report/entry": {"head", "admin"}, "/annual-report/import": {"head", "admin"},
                 "/annual-report/copy-in-force": {"head", "admin"}, "/annual-report/submit": {"head", "admin"},
                 "/annual-report/reopen": {"head"}}
TRIAGE_ROUTE = "/import/triage"  # clerk, head and admin
ALL_ROLES = ["clerk", "handler", "legal", "head", "archivist", "admin", "sysadmin"]


@pytest.fixture
def case_id(app):
    with app.app_context():
        return make_case(received="2026-03-02", closed="2026-03-20", outcome="disclose").id


def test_anonymous_is_sent_to_login(client, case_id):
    for url in READ_ROUTES + ADMIN_ROUTES + [TRIAGE_ROUTE]:
        resp = client.get(url.format(id=case_id))
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url
    for url in POST_ROUTES:
        resp = client.post(url.format(id=case_id), data={})
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url


def test_user_without_role_is_refused(app, client, auth, case_id):
    with app.app_context():
        # The user services refuse a user without roles; a row like this can still exist in the
        # database (e.g. data written by an older version), and it must not see anything.
        u = User(agency_id=user("admin").agency_id, username="norole", name="无角色", roles_csv="")
        u.set_password(DEMO_PASSWORD)
        db.session.add(u)
        db.session.commit()
    auth.login("norole")
    for url in READ_ROUTES + ADMIN_ROUTES + [TRIAGE_ROUTE]:
        resp = client.get(url.format(id=case_id))
        assert resp.status_code == 403, url
        assert "权限" in resp.get_data(as_text=True)
    for url in POST_ROUTES:
        assert client.post(url.format(id=case_id), data={}).status_code == 403, url


@pytest.mark.parametrize("role", ALL_ROLES)
def test_each_role(client, auth, case_id, role):
    auth.login(role)
    for url in READ_ROUTES:
        # The platform's system administrator sees no agency's cases.
        expected = 403 if role == "sysadmin" else 200
        assert client.get(url.format(id=case_id)).status_code == expected, (role, url)
    for url in ADMIN_ROUTES:
        assert client.get(url).status_code == (200 if role == "admin" else 403), (role, url)
    assert client.get(TRIAGE_ROUTE).status_code == (200 if role in ("clerk", "head", "admin") else 403), role
    # Writing remedy records: handler, head and admin only.
    resp = client.post(f"/cases/{case_id}/remedies", data={"kind": "direct_suit", "filed_on": "2026-05-06"})
    assert resp.status_code == (302 if role in ("handler", "head", "admin") else 403), role
    # An allowed role gets past the role check to the form's own answer (a stale version: 409; the
    # import without a file: 400).
    for url, roles in ANNUAL_WRITES.items():
        resp = client.post(url, data={"year": "2026", "version": "7", "reason": "核对"})
        assert resp.status_code in (({400} if url.endswith("import") else {409}) if role in roles else {403}), \
            (role, url, resp.status_code)
