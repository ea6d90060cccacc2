"""Domain errors of the emulator. The engine raises them; the HTTP layer maps each to Anaplan's
error envelope (`{"status": {"code", "message"}, "path", "timestamp"}`) in one handler."""

from __future__ import annotations


class EmulatorError(Exception):
    """An error with the HTTP status and message Anaplan would answer."""

    status_code = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadRequest(EmulatorError):
    """400: the request is malformed or breaks a rule (missing localeName, bad chunk, …)."""

    status_code = 400


class Unauthorized(EmulatorError):
    """401: no valid token."""

    status_code = 401


class Forbidden(EmulatorError):
    """403: authenticated but not permitted."""

    status_code = 403


class NotFound(EmulatorError):
    """404: unknown id, or an object the user may not see."""

    status_code = 404


class NotAcceptable(EmulatorError):
    """406: the `Accept` header does not allow what this endpoint serves."""

    status_code = 406


class Conflict(EmulatorError):
    """409: the object is busy or its state forbids the change."""

    status_code = 409


class PayloadTooLarge(EmulatorError):
    """413: a body or a decompressed chunk over the limit."""

    status_code = 413


class UnsupportedMediaType(EmulatorError):
    """415: wrong `Content-Type`."""

    status_code = 415


class ModelArchived(EmulatorError):
    """422: the model is archived."""

    status_code = 422


class ModelLocked(EmulatorError):
    """423: the model is locked."""

    status_code = 423


class ModelOffline(EmulatorError):
    """424: the model is offline (ALM: also a non-admin asking for reports)."""

    status_code = 424


class ServiceUnavailable(EmulatorError):
    """The emulator is shutting down (503)."""

    status_code = 503
