"""Helpers for the API tests: a token-holding client, database set-up outside request contexts,
and a small JSON-Schema checker for the OpenAPI response schemas (no extra dependency)."""
from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from app.cli import DEMO_PASSWORD, create_agency, create_user
from app.extensions import db
from app.models import User
from tests.conftest import INTAKE

CHINESE = re.compile(r"[\u4e00-\u9fff]")


class Api:
    """The Flask test client speaking JSON with bearer tokens, one token per username."""

    prefix = "/api/v1"

    def __init__(self, app, client) -> None:
        self.app, self.client = app, client
        self.tokens: dict[str, str] = {}

    def token(self, username: str, password: str = DEMO_PASSWORD) -> str:
        if username not in self.tokens:
            r = self.client.post(self.prefix + "/tokens", json={"username": username, "password": password})
            assert r.status_code == 201, r.get_data(as_text=True)
            self.tokens[username] = r.get_json()["token"]
        return self.tokens[username]

    def headers(self, as_: str | None) -> dict:
        return {"Authorization": "Bearer " + self.token(as_)} if as_ else {}

    def request(self, method: str, path: str, as_: str | None = None, body: Any = None, raw: bytes | None = None,
                query: dict | None = None, headers: dict | None = None):
        h = {**self.headers(as_), **(headers or {})}
        kw: dict[str, Any] = {"headers": h, "query_string": query}
        if raw is not None:
            kw["data"] = raw
            kw["content_type"] = h.pop("Content-Type", "application/json")
        elif body is not None:
            kw["json"] = body
        return self.client.open(self.prefix + path, method=method, **kw)

    def get(self, path: str, as_: str | None = None, **kw):
        return self.request("GET", path, as_, **kw)

    def post(self, path: str, body: Any = None, as_: str | None = None, **kw):
        return self.request("POST", path, as_, body, **kw)

    def put(self, path: str, body: Any = None, as_: str | None = None, **kw):
        return self.request("PUT", path, as_, body, **kw)

    def register(self, as_: str = "clerk", **over) -> dict:
        r = self.post("/cases", {**INTAKE, **over}, as_)
        assert r.status_code == 201, r.get_data(as_text=True)
        return r.get_json()

    def act(self, case_id: int, action: str, as_: str, expect: int = 200, **body) -> dict:
        r = self.post(f"/cases/{case_id}/actions/{action}", body, as_)
        assert r.status_code == expect, (action, r.status_code, r.get_data(as_text=True))
        return r.get_json()


def assert_error(r, status: int, field: str | None = "__any__") -> dict:
    """A JSON error of the documented shape, with a Chinese message."""
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True))
    assert r.mimetype == "application/json", r.get_data(as_text=True)
    body = r.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "field"}, body
    assert CHINESE.search(body["error"]["message"]), body
    if field != "__any__":
        assert body["error"]["field"] == field, body
    return body["error"]


def in_app(app, fn):
    """Run fn inside its own app context (never shared with a request), committing afterwards."""
    with app.app_context():
        out = fn()
        db.session.commit()
        return out


def second_agency(app, code: str = "OTHER") -> None:
    """Another agency with a clerk and a handler of its own (usernames other_clerk, other_handler)."""
    def make():
        a = create_agency(code, f"{code}测试局")
        create_user(a, f"{code.lower()}_clerk", "外机关登记员", DEMO_PASSWORD, ["clerk"])
        create_user(a, f"{code.lower()}_handler", "外机关承办人", DEMO_PASSWORD, ["handler"])
    in_app(app, make)


def user_without_roles(app, username: str = "noroles") -> None:
    """A user whose every role has been withdrawn (accounts are created with at least one)."""
    def make():
        demo = db.session.scalar(db.select(User).where(User.username == "clerk")).agency
        u = create_user(demo, username, "无角色用户", DEMO_PASSWORD, ["clerk"])
        u.roles = []
    in_app(app, make)


def user_id(app, username: str) -> int:
    return in_app(app, lambda: db.session.scalar(db.select(User.id).where(User.username == username)))


# ---------------------------------------------------------------- JSON-Schema subset

class SchemaError(AssertionError):
    pass


def validate(doc: dict, schema: dict, value: Any, path: str = "$") -> None:
    """Check value against an OpenAPI 3.1 schema: $ref, type (incl. lists), enum, properties,
    required, additionalProperties, items, anyOf/oneOf, format date, maxLength, minimum/maximum."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return validate(doc, doc["components"]["schemas"][name], value, path)
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema["oneOf"]
        ok = 0
        for opt in options:
            try:
                validate(doc, opt, value, path)
                ok += 1
            except SchemaError:
                pass
        if ok == 0 or ("oneOf" in schema and ok != 1):
            raise SchemaError(f"{path}: {value!r} matches {ok} of {len(options)} alternatives")
        return
    types = schema.get("type")
    if types is not None:
        types = types if isinstance(types, list) else [types]
        if not any(_is_type(value, t) for t in types):
            raise SchemaError(f"{path}: {value!r} is not {types}")
    if "enum" in schema and value not in schema["enum"]:
        raise SchemaError(f"{path}: {value!r} not in {schema['enum']}")
    if value is None:
        return
    if schema.get("format") == "date" and isinstance(value, str):
        try:
            date.fromisoformat(value)
        except ValueError:
            raise SchemaError(f"{path}: {value!r} is not a date") from None
    if "maxLength" in schema and isinstance(value, str) and len(value) > schema["maxLength"]:
        raise SchemaError(f"{path}: longer than {schema['maxLength']}")
    if isinstance(value, int) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise SchemaError(f"{path}: below minimum")
        if "maximum" in schema and value > schema["maximum"]:
            raise SchemaError(f"{path}: above maximum")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                raise SchemaError(f"{path}: missing {name}")
        extra = schema.get("additionalProperties", True)
        for k, v in value.items():
            if k in props:
                validate(doc, props[k], v, f"{path}.{k}")
            elif extra is False:
                raise SchemaError(f"{path}: unexpected property {k}")
            elif isinstance(extra, dict):
                validate(doc, extra, v, f"{path}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            validate(doc, schema["items"], v, f"{path}[{i}]")


def _is_type(value: Any, t: str) -> bool:
    return {
        "null": value is None,
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "string": isinstance(value, str),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
    }[t]


def response_schema(doc: dict, path: str, method: str, status: int) -> dict:
    return doc["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)
