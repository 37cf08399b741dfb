"""The outcome of one delivery attempt, as the delivery log records it."""

from __future__ import annotations

from dataclasses import dataclass

# The delivery log keeps a short reason, never a receiver's body.
MAX_ERROR_LENGTH = 300


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """`status_code`: the receiver's HTTP status, or the SMTP reply code; None when no answer
    came. `permanent`: retrying cannot help (the target is refused or email is not set up)."""

    delivered: bool
    status_code: int | None = None
    error: str | None = None
    permanent: bool = False

    @classmethod
    def success(cls, status_code: int) -> AttemptOutcome:
        return cls(True, status_code)

    @classmethod
    def failure(
        cls, error: str, status_code: int | None = None, *, permanent: bool = False
    ) -> AttemptOutcome:
        return cls(False, status_code, short_error(error), permanent)


def short_error(text: str) -> str:
    """One line, at most MAX_ERROR_LENGTH characters."""
    line = " ".join(text.split())
    return line if len(line) <= MAX_ERROR_LENGTH else line[: MAX_ERROR_LENGTH - 1] + "…"


def describe_exception(exc: BaseException) -> str:
    """ "ConnectError: [Errno 111] Connection refused"; the type alone when there is no text."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
