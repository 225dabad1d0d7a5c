"""The one application error: raised by services, rendered by the API and admin."""

from __future__ import annotations


class ApplicationError(Exception):
    """A refusal a user can act on. ``field`` names the input at fault, if one is."""

    http_status = 400

    def __init__(self, message: str, *, field: str | None = None, extra: dict | None = None, http_status: int | None = None):
        super().__init__(message)
        self.message = str(message)
        self.field = field
        self.extra = extra or {}
        if http_status is not None:
            self.http_status = http_status

    def as_dict(self) -> dict:
        data: dict = {"detail": self.message}
        if self.field:
            data[self.field] = [self.message]
        data.update(self.extra)
        return data


class PermissionDenied(ApplicationError):
    http_status = 403


class Conflict(ApplicationError):
    http_status = 409
