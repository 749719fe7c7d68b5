"""Helpers for the web tests: log in, run service code in an app context, submit a form
the way a browser would (every field of the page's form, with the user's changes)."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import User
from tests.web.page import Page, textarea_value


class Web:
    def __init__(self, app, client) -> None:
        self.app, self.client = app, client

    def login(self, username: str) -> None:
        """Log in through the login form (password hashing makes this take a while)."""
        self.client.post("/logout")
        r = self.client.post("/login", data={"username": username, "password": "ogidesk-demo"})
        assert r.status_code == 302, r.get_data(as_text=True)[:500]

    def as_user(self, username: str) -> None:
        """Be logged in as this user, as the login form leaves it: a server-side session and its id
        in the cookie next to Flask-Login's user id (skips the password check; test_auth covers the
        login form itself)."""
        from app.services import sessions
        from app.web import SESSION_ID

        def start():
            u = db.session.scalar(db.select(User).where(User.username == username))
            assert u is not None, username
            return u.id, sessions.start(u)
        uid, sid = self.run(start)
        with self.client.session_transaction() as s:
            s.clear()
            s["_user_id"] = str(uid)
            s["_fresh"] = True
            s[SESSION_ID] = sid

    def run(self, fn, *args, **kw):
        """Service/factory code in its own app context (never shared with a request: g holds the login)."""
        with self.app.app_context():
            try:
                return fn(*args, **kw)
            finally:
                db.session.remove()

    def get(self, url: str, **kw) -> Page:
        return Page(self.client.get(url, **kw))

    def submit(self, url: str, changes: dict | None = None, uncheck: tuple = (), form_id: str | None = None,
               expect: int | None = None) -> tuple[Page, object]:
        """GET the form page, fill it like a browser (page values + changes), POST it."""
        page = self.get(url)
        assert page.status == 200, (url, page.status)
        data = form_data(page, form_id)
        for name in uncheck:
            data.pop(name, None)
        data.update(changes or {})
        r = self.client.post(url, data=data)
        if expect is not None:
            assert r.status_code == expect, (url, r.status_code, Page(r).form_error(), _errors(Page(r)))
        return Page(r), r


def _errors(page: Page) -> list[str]:
    return [n.text for n in page.all(cls="field-error")]


def form_data(page: Page, form_id: str | None = None) -> dict:
    scope = page.by_id(form_id) if form_id else next(
        n for n in page.all("form") if n.get("method") == "post" and "inline-form" not in n.classes)
    data: dict = {}
    for n in scope.iter():
        name = n.get("name")
        if not name or n.tag not in ("input", "select", "textarea") or "disabled" in n.attrs:
            continue
        if n.tag == "input" and n.get("type") in ("submit", "button"):
            continue
        if n.tag == "input" and n.get("type") == "checkbox":
            if "checked" in n.attrs:
                data.setdefault(name, []).append(n.get("value", "y"))
            continue
        if n.tag == "textarea":
            data[name] = textarea_value(n)
        elif n.tag == "select":
            opts = [o for o in n.iter() if o.tag == "option"]
            chosen = [o for o in opts if "selected" in o.attrs] or opts[:1]
            data[name] = chosen[0].get("value", "") if chosen else ""
        else:
            data[name] = n.get("value", "")
    return data


@pytest.fixture
def web(app, client):
    return Web(app, client)
