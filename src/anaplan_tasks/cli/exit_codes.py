"""The command line's exit codes, one per error class.

| code | meaning                                   | raised as                                  |
|------|-------------------------------------------|--------------------------------------------|
| 0    | success                                   |                                            |
| 1    | the task failed or was cancelled          | TaskFailedError, TaskCancelledError        |
| 2    | usage or configuration error              | ConfigurationError, bad arguments, 4xx     |
| 3    | the deadline passed                       | TaskTimeoutError                           |
| 4    | authentication failed                     | AuthenticationError                        |
| 5    | Anaplan or the network is unavailable     | TransportError, ServerError, RateLimitError|
| 6    | a start's outcome is unknown: check the   | AmbiguousStartError                        |
|      | action's task list before running again   |                                            |
| 130  | interrupted (Ctrl-C)                      | KeyboardInterrupt                          |
"""

from __future__ import annotations

from enum import IntEnum

from ..errors import (
    AmbiguousStartError,
    AnaplanError,
    ApiError,
    AuthenticationError,
    ChunkUploadError,
    ConfigurationError,
    RateLimitError,
    ServerError,
    TaskCancelledError,
    TaskError,
    TaskTimeoutError,
    TransportError,
)


class ExitCode(IntEnum):
    """Documented exit codes of `anaplan-tasks`."""

    OK = 0
    TASK_FAILED = 1
    USAGE = 2
    DEADLINE = 3
    AUTHENTICATION = 4
    UNAVAILABLE = 5
    START_UNKNOWN = 6
    INTERRUPTED = 130


def exit_code_for(error: BaseException) -> ExitCode:
    """The exit code for an error that ended a command."""
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(error, TaskCancelledError) and error.cancelled_by_us:
        return ExitCode.INTERRUPTED
    if isinstance(error, TaskTimeoutError):
        return ExitCode.DEADLINE
    if isinstance(error, TaskError):
        return ExitCode.TASK_FAILED
    if isinstance(error, AmbiguousStartError):
        return ExitCode.START_UNKNOWN
    if isinstance(error, AuthenticationError):
        return ExitCode.AUTHENTICATION
    if isinstance(error, TransportError | ServerError | RateLimitError | ChunkUploadError):
        return ExitCode.UNAVAILABLE
    if isinstance(error, ConfigurationError | ApiError | AnaplanError):
        return ExitCode.USAGE
    return ExitCode.USAGE
