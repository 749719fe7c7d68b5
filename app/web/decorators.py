"""Access checks for the web views."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from ..extensions import login_manager


def me():
    """The logged-in user as the model object (services get a User, not Flask-Login's proxy)."""
    return current_user._get_current_object()


def roles_required(*roles: str):
    """Login required; a logged-in user without any of ``roles`` gets the 403 page.

    With no roles given, any logged-in user may pass.
    """
    def deco(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return deco
