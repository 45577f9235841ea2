"""Error types. Each carries one line a human can act on."""

from __future__ import annotations

from dataclasses import dataclass


class DeskbridgeError(Exception):
    """Base class: the message is one readable line, shown to the user without a traceback."""


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class ConfigError(DeskbridgeError):
    """Configuration or mapping problems, each naming file, line and field."""

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem("<config>", 0, "-", problems)]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class RetryableError(DeskbridgeError):
    """A transient failure (429, 5xx, timeout, reset). Retry no sooner than ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class PermanentError(DeskbridgeError):
    """Will never succeed as sent (400, 404 on update, 422): dead-lettered with this reason."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class AuthError(PermanentError):
    """Credentials were rejected by the remote system."""
