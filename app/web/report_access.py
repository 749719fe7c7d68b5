"""Login and role checks for the reporting pages, and their error pages."""
from __future__ import annotations

from functools import wraps

from flask import render_template
from flask_login import current_user, login_required

from ..domain.workflow import AGENCY_ROLES, ROLES
from ..services.errors import Forbidden, ServiceError

# Every agency role may read the ledger, dashboard and reports (legal: read-only by nature of these
# pages); the platform's system administrator sees no agency's cases.
READ_ROLES = tuple(r for r in ROLES if r in AGENCY_ROLES)
IMPORT_ROLES = ("admin",)
REMEDY_WRITE_ROLES = ("handler", "head", "admin")


def roles_required(*roles: str):
    """login_required plus a role check that answers 403 with a Chinese message."""
    def deco(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                need = "、".join(ROLES[r] for r in roles)
                raise Forbidden(f"您没有访问此页面的权限（需要以下角色之一：{need}）")
            return view(*args, **kwargs)
        return wrapped
    return deco


def require_role(*roles: str) -> None:
    """For views that allow reading to more roles than writing."""
    if not current_user.has_role(*roles):
        need = "、".join(ROLES[r] for r in roles)
        raise Forbidden(f"此操作需要以下角色之一：{need}")


def register_error_handlers(bp) -> None:
    @bp.errorhandler(ServiceError)
    def _service_error(e: ServiceError):
        return render_template("reports/error.html", message=e.message, status=e.status), e.status
