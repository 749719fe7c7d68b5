"""After login, ``next`` only ever leads to a page of this site (open redirect, header injection)."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from app.web.auth import _safe_next

LOGIN = {"username": "clerk", "password": "ogidesk-demo"}

# As typed in the address bar (percent-encoded in the query string).
OFF_SITE = [
    "/%09/evil.example",            # TAB dropped by browsers → //evil.example
    "/%0a/evil.example",            # LF
    "/%0d/evil.example",            # CR
    "%09//evil.example",
    "/%0d%0aSet-Cookie:%20x=1",     # header injection: used to give a 500
    "/cases%0d%0aLocation:%20http://evil.example",
    "//evil.example/x",
    "/%5Cevil.example",             # backslash → //evil.example
    "/%5C%5Cevil.example",
    "%5C%5Cevil.example",
    "https://evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "/%252F%252Fevil.example",      # //evil.example once decoded again
    "/%2509/evil.example",          # /\t/… once decoded again
    "/%E2%80%8B/evil.example",      # zero-width space (format character)
    "/%C2%A0/evil.example",         # no-break space
    "",
    "cases/new",
]


@pytest.mark.parametrize("raw", OFF_SITE)
def test_next_off_site_or_broken_ends_on_the_default_page(client, raw):
    r = client.post(f"/login?next={raw}", data=LOGIN)
    assert r.status_code == 302
    assert r.location == "/"


@pytest.mark.parametrize("raw", ["/%09/evil.example", "/%0d%0aSet-Cookie:%20x=1"])
def test_login_page_with_a_broken_next_is_shown(client, raw):
    assert client.get(f"/login?next={raw}").status_code == 200


@pytest.mark.parametrize("target", [
    "/cases/new", "/ledger?q=" + quote("张 三") + "&state=open", "/cases/12#letters", "/ledger?q=%2F%2Fx",
    "/reports/annual-report?year=2026",
])
def test_next_on_site_is_followed(client, target):
    r = client.post("/login?next=" + quote(target, safe=""), data=LOGIN)
    assert r.status_code == 302 and r.location == target


def test_safe_next_directly():
    assert _safe_next("/cases/1") == "/cases/1"
    for bad in (None, "", "/\t/evil.example", "/\r\n/x", "//evil", "/\\evil", "http://x/", "/\x00",
                "/%2F/evil.example", "/%5Cevil", "\u3000/x", "/x\u2028y"):
        assert _safe_next(bad) is None, repr(bad)
