"""Expected failures, each carrying the GraphQL ``extensions.code`` the contract names.

Services raise these; the GraphQL layer turns them into errors with ``extensions.code`` (and
``extensions.fields`` for validation), the MCP bridge into tool errors. Anything else that
escapes is unexpected and gets masked as ``INTERNAL``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class PommelError(Exception):
    """Base class of every failure a client is expected to see and act on."""

    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, *, extensions: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = dict(extensions or {})

    def to_extensions(self) -> dict[str, Any]:
        """The ``extensions`` object of the GraphQL error."""
        return {"code": self.code, **self.extensions}


class NotFound(PommelError):
    code = "NOT_FOUND"


class ValidationFailed(PommelError):
    """Bad input. ``fields`` maps each bad field (camelCase, as the client sent it) to why."""

    code = "VALIDATION_FAILED"

    def __init__(self, fields: Mapping[str, str], message: str | None = None) -> None:
        self.fields = dict(fields)
        text = message or "; ".join(f"{name}: {why}" for name, why in self.fields.items())
        super().__init__(text, extensions={"fields": self.fields})


class Conflict(PommelError):
    code = "CONFLICT"


class DependencyCycle(PommelError):
    code = "DEPENDENCY_CYCLE"

    def __init__(self, message: str, *, cycle: list[str]) -> None:
        super().__init__(message, extensions={"cycle": cycle})
        self.cycle = cycle


class InvalidTransition(PommelError):
    code = "INVALID_TRANSITION"


class Unauthenticated(PommelError):
    code = "UNAUTHENTICATED"


class Forbidden(PommelError):
    code = "FORBIDDEN"


class RateLimited(PommelError):
    code = "RATE_LIMITED"


class TemplateInvalid(PommelError):
    """A template source that does not load; ``problems`` lists every one found."""

    code = "TEMPLATE_INVALID"

    def __init__(self, message: str, *, problems: list[dict[str, Any]]) -> None:
        super().__init__(message, extensions={"problems": problems})
        self.problems = problems
