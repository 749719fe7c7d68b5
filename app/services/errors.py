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
