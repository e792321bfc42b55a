"""Expected failures, each with a stable code; the HTTP faces map codes to statuses."""


class DealgraphError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadInput(DealgraphError):
    """The request names something malformed: a bad id, cursor, page size or value."""

    code = "BAD_USER_INPUT"


class NotFound(DealgraphError):
    """The request names something well-formed that does not exist."""

    code = "NOT_FOUND"
