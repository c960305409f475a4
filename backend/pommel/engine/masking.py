"""Masking secret values as ``***`` in everything a run writes (logs, records, events)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pommel.domain.template import mask_secrets

#: Lines of a multi-line secret shorter than this are not masked on their own (too common).
_MIN_LINE = 4


class Masker:
    """Replaces the values of a run's secrets; also each line of a multi-line secret, since
    output reaches the log one line at a time."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        values: set[str] = set()
        for value in secrets.values():
            if not value:
                continue
            values.add(value)
            values.update(
                line.strip() for line in value.splitlines() if len(line.strip()) >= _MIN_LINE
            )
        self.values = sorted(values, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        if not self.values or not text:
            return text
        return mask_secrets(text, self.values)

    def deep(self, value: Any) -> Any:
        """``value`` with every string inside it masked."""
        if not self.values:
            return value
        if isinstance(value, str):
            return self(value)
        if isinstance(value, Mapping):
            return {k: self.deep(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.deep(v) for v in value]
        return value
