"""Every error anaplan-tasks raises, in one hierarchy.

```
AnaplanError
├── ConfigurationError            missing or contradictory settings (CLI exit 2)
├── TaskPayloadError (ValueError) a task payload that does not fit the models
│   └── UnknownTaskStateError     a taskState nobody knows yet
├── TransportError                the request did not complete (connect, timeout, reset)
├── ApiError                      Anaplan answered with an error status
│   ├── BadRequestError           400, 405, 406, 415 and other 4xx without a family below
│   ├── AuthenticationError       401, and every failure of the auth service (CLI exit 4)
│   │   └── OAuthError            the OAuth server refused a sign-in or a refresh (its `error`)
│   ├── PermissionDeniedError     403 (and CloudWorks' 452 "Tenant not entitled")
│   ├── NotFoundError             404 (unknown id, or no access: Anaplan masks both as 404)
│   │   └── ActionNotFoundError   an action name or id that the model does not have
│   ├── ConflictError             409 (model or object busy; CloudWorks: already running, in use)
│   ├── ModelUnavailableError     422 archived, 423 locked, 424 offline, 425 deployed
│   ├── RateLimitError            429 (carries the server's Retry-After)
│   └── ServerError               5xx
├── TaskError                     a task ended, but not well (carries the last status seen)
│   ├── TaskFailedError           COMPLETE with successful false (CLI exit 1)
│   │   ├── AlmTaskFailedError    an ALM sync or report task failed (carries title/message)
│   │   └── IntegrationRunFailedError a CloudWorks run failed (carries its errors and dumps)
│   ├── TaskCancelledError        CANCELLED (CLI exit 1, or 130 when we cancelled on Ctrl-C)
│   └── TaskTimeoutError          the caller's deadline passed first (CLI exit 3)
├── AmbiguousStartError           a task start may have run, and which task is ours is unknown
└── ChunkUploadError              a file chunk could not be uploaded (carries its index)
```
"""

from __future__ import annotations

from typing import Any


class AnaplanError(Exception):
    """Root of every error raised by anaplan-tasks."""


class ConfigurationError(AnaplanError):
    """Settings are missing or contradict each other (for example no credentials)."""


class TaskPayloadError(AnaplanError, ValueError):
    """A task payload does not fit the task models.

    Attributes:
        task_id: The task's id when the payload carried one.
        field: The dotted path of the offending field, when one field is to blame.
    """

    def __init__(self, message: str, *, task_id: str | None = None, field: str | None = None):
        super().__init__(message)
        self.task_id = task_id
        self.field = field


class UnknownTaskStateError(TaskPayloadError):
    """A task reported a `taskState` that this version does not know."""

    def __init__(self, state: object, *, task_id: str | None = None):
        super().__init__(
            f"task {task_id or '<no id>'} reports unknown taskState {state!r}; expected one of "
            "NOT_STARTED, IN_PROGRESS, COMPLETE, CANCELLING, CANCELLED",
            task_id=task_id,
            field="taskState",
        )
        self.state = state


class TransportError(AnaplanError):
    """The HTTP request did not complete: connection refused, timeout or reset.

    Attributes:
        request_sent: False when the request provably never reached the server (connect
            error), so even a task start may be repeated safely.
    """

    def __init__(self, message: str, *, request_sent: bool, method: str = "", url: str = ""):
        super().__init__(message)
        self.request_sent = request_sent
        self.method = method
        self.url = url


class ApiError(AnaplanError):
    """Anaplan answered with an error status.

    Attributes:
        status_code: The HTTP status code.
        message: Anaplan's own message (from the error body) or the reason phrase.
        body: The decoded JSON error body, or the raw text when it was not JSON.
        method: The request's method.
        url: The request's URL (never carries credentials).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Any = None,
        method: str = "",
        url: str = "",
    ):
        super().__init__(f"{status_code} {message}" + (f" ({method} {url})" if method else ""))
        self.status_code = status_code
        self.message = message
        self.body = body
        self.method = method
        self.url = url


class BadRequestError(ApiError):
    """400 and the other 4xx statuses that have no family of their own."""


class AuthenticationError(ApiError):
    """401, or a failure of the authentication service (bad credentials, bad header)."""


class OAuthError(AuthenticationError):
    """The OAuth 2.0 server refused a sign-in or a refresh, or a saved sign-in is unusable.

    Attributes:
        error: The OAuth `error` code (`invalid_grant`, `access_denied`, `expired_token`, …),
            or `login_required` when there is no saved sign-in to use.
    """

    def __init__(
        self,
        message: str,
        *,
        error: str,
        status_code: int = 400,
        body: Any = None,
        method: str = "",
        url: str = "",
    ):
        super().__init__(message, status_code=status_code, body=body, method=method, url=url)
        self.error = error


class PermissionDeniedError(ApiError):
    """403 (or CloudWorks' 452 "Tenant not entitled"): authenticated, but not allowed."""


class NotFoundError(ApiError):
    """404: the object does not exist, or the caller may not see it."""


class ActionNotFoundError(NotFoundError):
    """An action looked up by name or id is not in the model.

    Attributes:
        wanted: The name or id asked for.
        closest: The closest names the model does have, best first.
    """

    def __init__(self, wanted: str, kind: str, closest: list[str]):
        hint = f"; did you mean {', '.join(repr(name) for name in closest)}?" if closest else ""
        super().__init__(f"no {kind} named or numbered {wanted!r}{hint}", status_code=404)
        self.wanted = wanted
        self.kind = kind
        self.closest = closest


class ConflictError(ApiError):
    """409: the model or object is busy, or the change conflicts with its state."""


class ModelUnavailableError(ApiError):
    """422 archived, 423 locked, 424 offline (or ALM without admin rights), 425 deployed."""


class RateLimitError(ApiError):
    """429: too many requests.

    Attributes:
        retry_after: Seconds the server asked us to wait, when it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx: a server or gateway error."""


class TaskError(AnaplanError):
    """A task ended without success. `task` is the last status seen.

    Attributes:
        task: The last task status seen (a task model).
    """

    def __init__(self, message: str, *, task: Any):
        super().__init__(message)
        self.task = task


class TaskFailedError(TaskError):
    """The task is COMPLETE but its result says `successful: false`.

    The message names the failing details and counts. `task.result` is the whole typed result.

    Attributes:
        ref: Which task (kind, action id, task id), when known.
        dumps: The task's failure dumps, bound to the client that waited: `dumps.rows()` reads
            the rejected rows (awaitable on an `AsyncClient`). None when not bound.
    """

    def __init__(self, message: str, *, task: Any, ref: Any = None, dumps: Any = None):
        super().__init__(message, task=task)
        self.ref = ref
        self.dumps = dumps

    @property
    def result(self) -> Any:
        """The task's typed result (`TaskResult`), with nested results and details."""
        return getattr(self.task, "result", None)

    @property
    def failure_details(self) -> list[Any]:
        """Every failing detail of the result and its nested results."""
        result = self.result
        return list(result.failure_details()) if result is not None else []


class AlmTaskFailedError(TaskFailedError):
    """An ALM sync, comparison or summary task ended COMPLETE with `successful: false`.

    Attributes:
        title: Anaplan's `result.error.title`, e.g. "The target and source revisions are
            incompatible".
        message_text: Anaplan's `result.error.messageText`.
        subtitle: Anaplan's `result.error.subtitle`, when given (size-limit failures).
    """

    def __init__(
        self,
        message: str,
        *,
        task: Any,
        ref: Any = None,
        title: str,
        message_text: str,
        subtitle: str | None = None,
    ):
        super().__init__(message, task=task, ref=ref)
        self.title = title
        self.message_text = message_text
        self.subtitle = subtitle


class IntegrationRunFailedError(TaskFailedError):
    """A CloudWorks integration or flow run ended without success (`success: false`).

    The message names the run, CloudWorks' outcome message and the actions' error texts.

    Attributes:
        run: The run's last status (`RunStatus`), also `task`.
        errors: The run's errors per action (`RunErrors`), None when CloudWorks lists none.
        dumps: The run's failure dumps, bound to the client that waited: `dumps.rows()` reads
            the rejected rows (awaitable on an `AsyncClient`). None when not bound.
    """

    def __init__(
        self, message: str, *, run: Any, ref: Any = None, errors: Any = None, dumps: Any = None
    ):
        super().__init__(message, task=run, ref=ref, dumps=dumps)
        self.errors = errors

    @property
    def run(self) -> Any:
        """The run's last status."""
        return self.task


class TaskCancelledError(TaskError):
    """The task was CANCELLED (by us on Ctrl-C, or by someone else).

    Attributes:
        cancelled_by_us: True when this client sent the cancel (Ctrl-C or deadline).
    """

    def __init__(self, message: str, *, task: Any, cancelled_by_us: bool = False):
        super().__init__(message, task=task)
        self.cancelled_by_us = cancelled_by_us


class TaskTimeoutError(TaskError):
    """The caller's deadline passed before the task ended.

    Attributes:
        cancelled: True when the task was cancelled on the server because of the deadline.
    """

    def __init__(self, message: str, *, task: Any, cancelled: bool = False):
        super().__init__(message, task=task)
        self.cancelled = cancelled


class AmbiguousStartError(AnaplanError):
    """A task start may have run on the server, and no task can be proven to be its own.

    Raised instead of guessing: after a start whose answer was lost (reset, timeout, 5xx from a
    gateway), when the server does not honour `Idempotency-Key` and its task list shows more
    than one task that could be this start's, or one while another caller of the same client
    was starting the same action (or `RetryPolicy.shared_actions` says others may), or when
    the retries with the key ran out. Nothing was adopted and nothing is started again.

    Attributes:
        action: The action started, as the message names it (e.g. `imports 112000000001`).
        candidates: The tasks (`TaskListItem`) created while the start was unresolved; one of
            them may be this start's (empty when none was listed).
        idempotency_key: The key the start was sent with: a server that honours keys returns
            the same task for a start sent again with it.
        cause: The failure that left the start's fate unknown.
    """

    def __init__(
        self,
        message: str,
        *,
        action: str,
        candidates: list[Any],
        idempotency_key: str | None,
        cause: BaseException,
    ):
        super().__init__(message)
        self.action = action
        self.candidates = candidates
        self.idempotency_key = idempotency_key
        self.cause = cause


class ChunkUploadError(AnaplanError):
    """A chunk of a file could not be uploaded; the upload was not declared complete.

    Attributes:
        index: The chunk's index (0-based).
        file_id: The file being uploaded.
    """

    def __init__(self, index: int, file_id: str, cause: BaseException):
        super().__init__(f"chunk {index} of file {file_id} could not be uploaded: {cause}")
        self.index = index
        self.file_id = file_id


class NoSyncableRevisionError(AnaplanError):
    """The source model has no revision that can be synced into the target: nothing to sync.

    Usually the source's changes are not tagged yet: create a revision on it first.

    Attributes:
        source_model_id: The model whose revision was to move (usually development).
        target_model_id: The model it was to move into.
    """

    def __init__(self, source_model_id: str, target_model_id: str):
        super().__init__(
            f"model {source_model_id} has no revision that can be synced into "
            f"{target_model_id}: create a revision on it first"
        )
        self.source_model_id = source_model_id
        self.target_model_id = target_model_id
