"""Errors that services raise and the API turns into a 4xx with a Chinese message."""


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class InvalidInput(ApiError):
    status = 422
    code = "invalid_input"


class InvalidState(ApiError):
    """The request is well-formed but the application is not in a state that allows it."""

    status = 409
    code = "invalid_state"
