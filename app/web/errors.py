"""Error pages in Chinese for the web; JSON (never HTML) for everything under /api/.

The pages render without the database (templates/errors/error.html touches no user or model), so
a database that is down or hanging still gets a Chinese page: 503 for a connection failure or a
timeout, 500 for anything else."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from ..services.errors import ServiceError

TITLES = {
    400: "请求无效",
    401: "请先登录",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持的请求方式",
    409: "操作冲突",
    413: "提交的内容过大",
    429: "操作过于频繁",
    500: "系统内部错误",
    503: "系统暂时无法访问",
}
MESSAGES = {
    400: "提交的内容无法处理，请返回后重试。",
    401: "请先登录。",
    403: "您的账号没有办理此项工作的权限。如需开通，请联系系统管理员。",
    404: "您要找的页面或案件不存在，或不属于本机关。",
    405: "不支持以这种方式访问该页面。",
    409: "该记录已被他人修改，请刷新页面后重试。",
    413: "提交的内容过大。",
    429: "您的操作过于频繁，请稍后再试。为防止滥用，同一网络地址（或同一手机号码）在一段时间内可提交的次数有限；"
         "已填写的内容未被保存。",
    500: "系统出现内部错误，已记录。请稍后重试；如问题持续，请联系系统管理员。",
    503: "数据库暂时无法连接或响应超时，您的操作未完成。请稍后重试；如问题持续，请联系系统管理员。",
}


def is_api() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str | None = None, field: str | None = None):
    message = message or MESSAGES.get(status, TITLES.get(status, "出错了"))
    if is_api():
        return jsonify({"error": {"message": message, "field": field}}), status
    # Not render_template: its context processors load the user (Flask-Login's current_user), so
    # a page for a database that is down would need the database. The template needs none of them.
    page = current_app.jinja_env.get_template("errors/error.html").render(
        status=status, title=TITLES.get(status, "出错了"), message=message)
    return page, status


def _discard_session() -> None:
    # The connection may be dead or its transaction aborted: reset the session, and serve the page
    # whatever that says.
    from ..extensions import db
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the page must still be served
        pass


# A failure of the database itself (unreachable, connection lost, statement or lock timeout, SQLite
# locked or unopenable, no free pooled connection): the page or the API's JSON, 503. The API
# blueprint registers it too (its catch-all handler would otherwise answer 500).
DATABASE_ERRORS = (OperationalError, PoolTimeout)


def database_unavailable(e: Exception):
    current_app.logger.warning("database unavailable on %s %s: %s", request.method, request.path, e)
    _discard_session()
    return error_response(503)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(e: CSRFError):
        return error_response(400, "页面已过期或缺少安全校验信息（CSRF），请返回、刷新页面后重新提交。")

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        status = e.code or 500
        # Our own abort(…, description=…) messages are Chinese; Werkzeug's defaults are not.
        custom = e.description if e.description and e.description != type(e).description else None
        if status == 429:
            custom = None  # Flask-Limiter's description names the limit in English
        return error_response(status, custom)

    @app.errorhandler(ServiceError)
    def _service(e: ServiceError):
        return error_response(e.status, e.message, e.field)

    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(PoolTimeout, database_unavailable)
