class ServiceError(Exception):
    """A refused request, with the Chinese message and the input field at fault."""

    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409

    def __init__(self, message: str = "该案件已被他人修改，请刷新页面后重试；您的输入未被保存到案件中。",
                 field: str | None = "version") -> None:
        super().__init__(message, field)


# ---------------------------------------------------------------- database conflicts

# PostgreSQL: serialization failure, deadlock, lock not available.
_CONFLICT_SQLSTATES = {"40001", "40P01", "55P03"}


def is_conflict(e: BaseException) -> bool:
    """A database error caused by a concurrent request (not by a bug or an outage)."""
    from sqlalchemy.exc import DBAPIError, IntegrityError
    from sqlalchemy.orm.exc import StaleDataError

    if isinstance(e, (IntegrityError, StaleDataError)):
        return True
    if isinstance(e, DBAPIError):
        orig = e.orig
        if (getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)) in _CONFLICT_SQLSTATES:
            return True
        return type(orig).__module__.startswith("sqlite3") and "locked" in str(orig)
    return False


def conflict_is_409(message: str | None = None):
    """Decorate a service step: a conflicting concurrent write, wherever the database raises it
    (a flush inside the step or the commit), rolls the whole step back and becomes a Conflict (409)."""
    import functools

    from sqlalchemy.exc import SQLAlchemyError

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except SQLAlchemyError as e:
                from ..extensions import db
                db.session.rollback()
                if is_conflict(e):
                    raise (Conflict(message, None) if message else Conflict()) from None
                raise
        return wrapper
    return deco
