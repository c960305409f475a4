"""Reading loosely-typed YAML data into typed fields while collecting every problem.

The parser never stops at the first mistake: each helper records a ``Problem`` (with the
field's line) and returns ``None`` so the caller can carry on with the rest of the template.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

from .model import Problem
from .source import join, line_of


def kind(value: object) -> str:
    """A person's word for the type of ``value`` as YAML/JSON shows it."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def suggest(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` when ``word`` looks like a typo of one of ``choices``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


class Collector:
    """Accumulates problems, locating each by path in the source's line map."""

    def __init__(self, lines: dict[str, int]) -> None:
        self.lines = lines
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, line_of(self.lines, path), message))

    def mapping(
        self,
        value: object,
        path: str,
        *,
        allowed: Sequence[str] | None = None,
        required: Sequence[str] = (),
        what: str = "a mapping",
    ) -> dict[str, Any] | None:
        """``value`` if it is a mapping; unknown and missing keys are reported."""
        if not isinstance(value, dict):
            self.add(path, f"expected {what}, got {kind(value)}")
            return None
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    hint = suggest(key, allowed) or f" (expected one of: {', '.join(allowed)})"
                    self.add(join(path, key), f"unknown key '{key}'{hint}")
        for key in required:
            if key not in value:
                self.add(path, f"missing required key '{key}'")
        return value

    def text(self, value: object, path: str, *, scalars: bool = False) -> str | None:
        """``value`` as text; with ``scalars`` numbers and booleans are accepted and converted."""
        if isinstance(value, str):
            return value
        if scalars and isinstance(value, bool):
            return "true" if value else "false"
        if scalars and isinstance(value, int | float):
            return str(value)
        self.add(path, f"expected text, got {kind(value)}")
        return None

    def text_map(self, value: object, path: str) -> dict[str, str]:
        """A mapping of text to text (``env``, ``headers``); numbers and booleans are converted."""
        result: dict[str, str] = {}
        if value is None:
            return result
        mapping = self.mapping(value, path)
        for key, item in (mapping or {}).items():
            converted = self.text(item, join(path, key), scalars=True)
            if converted is not None:
                result[key] = converted
        return result

    def text_list(
        self, value: object, path: str, *, scalars: bool = True
    ) -> tuple[str, ...] | None:
        """A list of text; a single string is a list of one."""
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list):
            self.add(path, f"expected a list of text, got {kind(value)}")
            return None
        items = [self.text(item, join(path, i), scalars=scalars) for i, item in enumerate(value)]
        return tuple(item for item in items if item is not None)
