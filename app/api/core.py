"""Plumbing of the JSON API: responses, errors, bearer-token authentication, roles, and the
route table the OpenAPI document is generated from."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import wraps
from typing import Any, Callable

from flask import Response, current_app, g, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from ..domain.workflow import AGENCY_ROLES, ROLES
from ..extensions import db
from ..models import User
from ..services.errors import Forbidden, ServiceError
from ..web.errors import DATABASE_ERRORS, database_unavailable
from . import bp

MAX_BODY_BYTES = 1024 * 1024  # the longest draft (7 fields × 10 000 characters) fits easily
REALM = 'Bearer realm="ogidesk"'


class Unauthorized(ServiceError):
    status = 401

    def __init__(self, message: str, invalid: bool = False) -> None:
        super().__init__(message, None)
        self.invalid = invalid


class MethodNotAllowed(ServiceError):
    status = 405

    def __init__(self, allowed: list[str]) -> None:
        super().__init__("该地址不支持此请求方法", None)
        self.allowed = allowed


class TooLarge(ServiceError):
    status = 413


# ---------------------------------------------------------------- responses

def _default(o: Any) -> Any:
    if isinstance(o, datetime):
        return o.isoformat(timespec="seconds")
    if isinstance(o, date):
        return o.isoformat()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def json_response(obj: Any, status: int = 200, headers: dict | None = None) -> Response:
    # Chinese as UTF-8, not \u escapes: the walkthrough prints responses to a terminal.
    body = json.dumps(obj, ensure_ascii=False, indent=2, default=_default) + "\n"
    return Response(body, status=status, headers=headers or {}, mimetype="application/json")


def error_response(status: int, message: str, field: str | None = None, headers: dict | None = None) -> Response:
    return json_response({"error": {"message": message, "field": field}}, status, headers)


@bp.errorhandler(ServiceError)
def _service_error(e: ServiceError):
    db.session.rollback()
    headers = {}
    if isinstance(e, Unauthorized):
        headers["WWW-Authenticate"] = REALM + (', error="invalid_token"' if e.invalid else "")
    if isinstance(e, MethodNotAllowed):
        headers["Allow"] = ", ".join(e.allowed)
    return error_response(getattr(e, "status", 400), e.message, e.field, headers)


HTTP_MESSAGES = {
    400: "请求无效",
    401: "需要身份认证",
    403: "无权执行此操作",
    404: "请求的资源不存在",
    405: "该地址不支持此请求方法",
    413: "请求体过大",
    415: "不支持的请求体格式",
}


@bp.errorhandler(HTTPException)
def _http_error(e: HTTPException):
    code = e.code or 500
    if code >= 500:
        return _unexpected(e)
    headers = {k: v for k, v in e.get_headers() if k in ("Allow", "WWW-Authenticate")}
    return error_response(code, HTTP_MESSAGES.get(code, "请求无效"), None, headers)


@bp.errorhandler(DataError)
def _data_error(e: DataError):
    # The database refused a value (too long, out of range) that got past validation: the input is at
    # fault, but the gap in validation is a bug, so it is logged like a 500.
    current_app.logger.exception("API input refused by the database on %s %s", request.method, request.path)
    db.session.rollback()
    return error_response(400, "输入的数据超出系统允许的范围，请检查日期和文字长度", None)


for _db_error in DATABASE_ERRORS:
    bp.register_error_handler(_db_error, database_unavailable)


@bp.errorhandler(Exception)
def _unexpected(e: Exception):
    current_app.logger.exception("API error on %s %s", request.method, request.path)
    db.session.rollback()
    return error_response(500, "服务器内部错误，请稍后重试；如持续出现请联系管理员", None)


@bp.after_request
def _no_store(resp: Response) -> Response:
    # Case data and tokens must not sit in shared caches.
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp


# ---------------------------------------------------------------- request bodies

def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def json_body(required: bool = True) -> dict:
    """The request body as a JSON object; an empty body is {} unless one is required."""
    if request.content_length and request.content_length > MAX_BODY_BYTES:
        raise TooLarge("请求体过大（上限1MB）")
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY_BYTES:
        raise TooLarge("请求体过大（上限1MB）")
    if not raw.strip():
        if required:
            raise ServiceError("请求体应为 JSON 对象", None)
        return {}
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ServiceError("请求体不是有效的 JSON（须为 UTF-8 编码）", None) from None
    if not isinstance(data, dict):
        raise ServiceError("请求体应为 JSON 对象", None)
    return data


# ---------------------------------------------------------------- authentication and roles

def current_user() -> User:
    return g.api_user


def authenticate() -> User:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized("缺少访问令牌：请在 Authorization 头中提供 Bearer 令牌")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Authorization 头格式应为：Bearer <令牌>", invalid=True)
    user = db.session.scalar(db.select(User).where(User.token_hash == User.hash_token(token)))
    if user is None:
        raise Unauthorized("访问令牌无效或已被替换", invalid=True)
    if not user.active:
        raise Unauthorized("该账号已停用", invalid=True)
    from ..services.accounts import REASON_TEXT, password_change_reason
    reason = password_change_reason(user)
    if reason:  # an expired password closes the API as it closes the pages
        raise Forbidden(REASON_TEXT[reason] + "：请用 POST /api/v1/password 修改")
    g.api_user = user
    return user


def require_roles(user: User, roles: frozenset[str], what: str) -> None:
    if not user.has_role(*roles):
        need = "、".join(ROLES[r] for r in sorted(roles))
        raise Forbidden(f"只有{need}可以{what}")


# ---------------------------------------------------------------- route table

PUBLIC = None  # no token needed
ANY_ROLE = AGENCY_ROLES  # any token holder with a role in an agency (not the platform's 系统管理员)
EVERY_ROLE = frozenset(ROLES)  # also the system administrator
AUTHENTICATED = frozenset()  # any valid token, whatever the roles


@dataclass
class Endpoint:
    rule: str  # Flask rule, relative to /api/v1
    method: str
    endpoint: str
    roles: frozenset[str] | None
    summary: str
    what: str  # for the 403 message: 只有…可以{what}
    description: str = ""
    request_schema: str | None = None
    query: tuple = ()
    responses: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    per_action: bool = False  # documented once per workflow action


ENDPOINTS: list[Endpoint] = []


def route(rule: str, method: str, *, roles: frozenset[str] | None, summary: str, what: str = "",
          description: str = "", request_schema: str | None = None, query: tuple = (),
          responses: dict[int, tuple[str, str | None]] | None = None, per_action: bool = False):
    """Register a view on the blueprint and in the table the OpenAPI document is built from."""

    def deco(fn: Callable) -> Callable:
        @wraps(fn)
        def view(**kwargs):
            if roles is not PUBLIC:
                user = authenticate()
                if roles:
                    require_roles(user, roles, what or summary)
            return fn(**kwargs)

        bp.add_url_rule(rule, endpoint=fn.__name__, view_func=view, methods=[method])
        ENDPOINTS.append(Endpoint(rule, method, "api." + fn.__name__, roles, summary, what or summary,
                                  description, request_schema, query, dict(responses or {}), per_action))
        return view

    return deco
