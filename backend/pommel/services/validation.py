"""Input checks shared by services; each collects problems per field before raising once."""

from __future__ import annotations

import json
from typing import Any

from pommel.errors import ValidationFailed

MAX_NAME = 200
MAX_DESCRIPTION = 20_000
MAX_METADATA_BYTES = 64_000


class FieldErrors:
    """Collects ``field -> problem`` and raises one ``ValidationFailed`` naming them all."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def add(self, field: str, problem: str) -> None:
        self.fields.setdefault(field, problem)

    def raise_if_any(self) -> None:
        if self.fields:
            raise ValidationFailed(self.fields)

    def name(self, field: str, value: str | None, *, required: bool = True) -> str | None:
        """A trimmed name of 1..MAX_NAME characters."""
        if value is None:
            if required:
                self.add(field, "is required")
            return None
        text = value.strip()
        if not text:
            self.add(field, "must not be empty")
        elif len(text) > MAX_NAME:
            self.add(field, f"must be at most {MAX_NAME} characters (got {len(text)})")
        return text

    def text(self, field: str, value: str | None, *, limit: int = MAX_DESCRIPTION) -> str | None:
        if value is not None and len(value) > limit:
            self.add(field, f"must be at most {limit} characters (got {len(value)})")
        return value

    def json_object(self, field: str, value: Any) -> dict[str, Any] | None:
        """A JSON object (not a list, string or number) of bounded size."""
        if value is None:
            return None
        if not isinstance(value, dict):
            kind = "a list" if isinstance(value, list) else f"a {type(value).__name__}"
            self.add(field, f"must be a JSON object, not {kind}")
            return None
        size = len(json.dumps(value, default=str))
        if size > MAX_METADATA_BYTES:
            self.add(field, f"must be at most {MAX_METADATA_BYTES} bytes as JSON (got {size})")
        return value
