"""One error tree for the provider: API errors by HTTP status, generation failures kept apart.

::

    SeedanceError
      SeedanceAPIError              status_code, code, message, request_id
        SeedanceAuthError           401 / 403: bad key, no access to the model
        SeedanceQuotaError          402: no credits left
        SeedanceBadRequestError     400 / 409 / 422: the API refused the request
        SeedanceNotFoundError       404: unknown generation id
        SeedanceRateLimitError      429: retry_after seconds, when the API said
        SeedanceServerError         5xx
      SeedanceUnsupportedError      the backend has no such endpoint (e.g. cancel on EvoLink)
      SeedanceConnectionError       transport failures and timeouts: nothing usable came back
      SeedanceSubmitUncertainError  a create may have reached an API without idempotency keys (final)
      SeedanceValidationError       refused before any network call; names field, value and limit
      SeedanceGenerationError       the remote generation failed / was cancelled / expired
        SeedanceGenerationTimeout   our own deadline passed first (final: no retry)
      SeedanceSaveError             the video could not be saved; carries generation id and URL

No message here ever contains the API key: errors are built from the API's own error body, which the hook
scrubs (``_vendor_text.scrub``: the key and bearer tokens removed, control characters escaped, bounded) before
anything reads it, and the hook never puts request headers into them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_seedance.contract._status import is_permanent_failure
from airflow_provider_seedance.contract._vendor_text import scrub, scrub_optional

if TYPE_CHECKING:
    from airflow_provider_seedance.models import Generation


class SeedanceError(Exception):
    """Base class of every error this provider raises."""

    #: Whether an Airflow retry of the same task can succeed. Operators fail without retries when False.
    retryable: bool = True


class SeedanceAPIError(SeedanceError):
    """The API answered with an HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        request_id: str | None = None,
        backend: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.request_id = request_id
        self.backend = backend
        super().__init__(self._text())

    def _text(self) -> str:
        parts = [f"HTTP {self.status_code}"]
        if self.code:
            parts.append(self.code)
        text = f"{' '.join(parts)}: {self.message}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return f"[{self.backend}] {text}" if self.backend else text

    def scrubbed(self, secrets: tuple[str, ...]) -> SeedanceAPIError:
        """This error with the vendor's words (message, code, request id) scrubbed: the key and bearer tokens
        removed, control characters escaped, each bounded (``_vendor_text.scrub``)."""
        self.message = scrub(self.message, secrets)
        self.code = scrub_optional(self.code, secrets, 100)
        self.request_id = scrub_optional(self.request_id, secrets, 100)
        self.args = (self._text(),)
        return self


class SeedanceAuthError(SeedanceAPIError):
    """401 or 403: the key is wrong, expired, or has no access to the model."""

    retryable = False


class SeedanceQuotaError(SeedanceAPIError):
    """402: the account has no credits left."""

    retryable = False


class SeedanceBadRequestError(SeedanceAPIError):
    """400, 409 or 422: the API refused the request as invalid."""

    retryable = False


class SeedanceNotFoundError(SeedanceAPIError):
    """404: the generation id is unknown to this backend and key."""

    retryable = False


class SeedanceRateLimitError(SeedanceAPIError):
    """429: too many requests; ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class SeedanceServerError(SeedanceAPIError):
    """5xx: the API failed; usually transient."""


class SeedanceUnsupportedError(SeedanceError):
    """The backend has no endpoint for this operation (for example cancel on EvoLink or AIML API)."""

    retryable = False


class SeedanceConnectionError(SeedanceError):
    """The API could not be reached, the connection dropped, or the answer was not readable.

    ``may_have_created`` is True when a create request may have reached the API all the same.
    """

    def __init__(self, message: str, *, may_have_created: bool = False) -> None:
        super().__init__(message)
        self.may_have_created = may_have_created


class SeedanceSubmitUncertainError(SeedanceError):
    """A create request may have reached an API that has no idempotency key, but no usable answer came back.

    Final: submitting again could create, and bill, a second generation. Look for the task in the vendor's
    console; clear the Airflow task to submit again.
    """

    retryable = False


class SeedanceValidationError(SeedanceError, ValueError):
    """A request refused before any network call. Names the field, the value and the limit."""

    retryable = False

    def __init__(
        self,
        field: str,
        value: Any,
        limit: str,
        *,
        model: str | None = None,
        task_id: str | None = None,
        others: tuple[SeedanceValidationError, ...] = (),
    ) -> None:
        self.field = field
        self.value = value
        self.limit = limit
        self.model = model
        self.task_id = task_id
        #: The request's other invalid fields, reported in the same message.
        self.others = others
        where = f" for model {model!r}" if model else ""
        if task_id:
            where += f" in task {task_id!r}"
        text = f"Invalid {field}={_shown(value)}{where}: {limit}"
        for other in others:
            text += f"; and invalid {other.field}={_shown(other.value)}: {other.limit}"
        super().__init__(text)

    @classmethod
    def combined(cls, errors: list[SeedanceValidationError]) -> SeedanceValidationError:
        """One error naming every invalid field of a request (the first as its ``field``)."""
        first = errors[0]
        if len(errors) == 1:
            return first
        return cls(first.field, first.value, first.limit, model=first.model, others=tuple(errors[1:]))

    def in_task(self, task_id: str) -> SeedanceValidationError:
        """The same error naming the task it was raised for (DAG parsing names only the file)."""
        if self.task_id:
            return self
        return SeedanceValidationError(
            self.field, self.value, self.limit, model=self.model, task_id=task_id, others=self.others
        )


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown[:117] + "..." if len(shown) > 120 else shown


class SeedanceGenerationError(SeedanceError):
    """The remote generation ended without a video: failed, cancelled or expired (or could not be polled).

    Retryable unless the generation's error code is permanent; ``retryable`` overrides that when given.
    """

    def __init__(self, message: str, generation: Generation | None = None, *, retryable: bool | None = None) -> None:
        self.generation = generation
        self._retryable = retryable
        super().__init__(message)

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        if self._retryable is not None:
            return self._retryable
        if self.generation is None:
            return True
        return not is_permanent_failure(self.generation)


class SeedanceGenerationTimeout(SeedanceGenerationError):
    """Our own wall-clock deadline passed before the generation finished.

    Final, like a policy failure: a retry could only pay for the generation again (ModelArk, where the
    timed-out one was cancelled) or reattach to one whose deadline has already passed (EvoLink, AIML API).
    Raise the operator's ``timeout`` instead.
    """

    retryable = False


class SeedanceSaveError(SeedanceError):
    """The video was generated but could not be saved. Fetch it again from ``video_url`` within 24 h."""

    def __init__(self, message: str, *, generation_id: str, video_url: str | None, retryable: bool = True) -> None:
        self.generation_id = generation_id
        self.video_url = video_url
        self._retryable = retryable
        super().__init__(f"{message} (generation {generation_id}, video URL {video_url})")

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        """False when a retry meets the same refusal (a URL the guard refused, a video over the size limit)."""
        return self._retryable


_CODE_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _code_word(code: str | None) -> str:
    """A vendor's error code fit to count by: its code characters only, at most 60 (it is untrusted text)."""
    return "".join(ch for ch in (code or "") if ch in _CODE_CHARACTERS)[:60]


def failure_reason(exc: SeedanceError) -> str:
    """Why a render failed, in a few words with no secret and no vendor prose: what the Seedance tab counts
    failures by (``timeout``, ``failed: <code>``, ``HTTP 402 <code>``, ``invalid request``, ``not saved``...)."""
    if isinstance(exc, SeedanceGenerationTimeout):
        return "timeout"
    if isinstance(exc, SeedanceGenerationError):
        code = _code_word(exc.generation.error_code if exc.generation else None)
        return f"failed: {code}" if code else "failed"
    if isinstance(exc, SeedanceAPIError):
        code = _code_word(exc.code)
        return f"HTTP {exc.status_code} {code}".strip()
    if isinstance(exc, SeedanceValidationError):
        return "invalid request"
    if isinstance(exc, SeedanceSaveError):
        return "not saved"
    name = type(exc).__name__.removeprefix("Seedance").removesuffix("Error")
    return "".join(f" {ch.lower()}" if ch.isupper() else ch for ch in name).strip() or "error"
