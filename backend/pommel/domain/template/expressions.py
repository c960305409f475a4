"""``${...}`` references inside strings: scanning, classifying and substituting.

A reference is a dotted path of names (``${steps.train.outputs.loss}``); there is nothing to
evaluate, so there is no ``eval`` and no Python AST. ``$${`` is a literal ``${``.

Rendering happens in two stages. ``render_definition`` substitutes parameters and task fields
and leaves ``${steps...}``/``${secrets...}`` (and ``$${`` escapes) in place; substituted values
are escaped so that data can never turn into a reference (a task description containing
``${secrets.TOKEN}`` stays text). ``render_runtime`` then resolves the rest and unescapes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

_NAME = r"[A-Za-z0-9_][A-Za-z0-9_-]*"
_BODY = re.compile(rf"\s*({_NAME}(?:\s*\.\s*{_NAME})*)\s*")
ESCAPE = "$${"

TASK_FIELDS = ("id", "name", "description", "status", "priority", "assignee", "project_id")
STEP_FIELDS = ("output", "exit_code", "status")
RESULT_FIELDS = ("output", "exit_code", "status")


@dataclass(frozen=True)
class Reference:
    """``${a.b.c}`` as ``segments=("a", "b", "c")``; ``text`` is what was written."""

    segments: tuple[str, ...]
    text: str

    @property
    def dotted(self) -> str:
        return ".".join(self.segments)


class ExpressionSyntaxError(ValueError):
    """A malformed ``${...}``; the message says what to write instead."""


Piece = str | Reference  # literal text (already unescaped) or a reference


def scan(text: str) -> list[Piece]:
    """Split ``text`` into literal text and references; raises ``ExpressionSyntaxError``."""
    pieces: list[Piece] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith(ESCAPE, i):
            literal.append("${")
            i += 3
        elif text.startswith("${", i):
            end = text.find("}", i + 2)
            if end < 0:
                raise ExpressionSyntaxError(
                    f"unterminated '{_clip(text[i:])}': close it with '}}', "
                    "or write '$${' for a literal '${'"
                )
            written = text[i : end + 1]
            match = _BODY.fullmatch(text, i + 2, end)
            if match is None:
                raise ExpressionSyntaxError(
                    f"invalid reference '{_clip(written)}': expected names joined by dots, "
                    "like ${epochs} or ${steps.build.output}; write '$${' for a literal '${' "
                    "(for example a shell variable)"
                )
            if literal:
                pieces.append("".join(literal))
                literal = []
            segments = tuple(part.strip() for part in match.group(1).split("."))
            pieces.append(Reference(segments, written))
            i = end + 1
        else:
            literal.append(text[i])
            i += 1
    if literal:
        pieces.append("".join(literal))
    return pieces


def references(text: str) -> list[Reference]:
    """Every reference in ``text``; raises ``ExpressionSyntaxError``."""
    return [piece for piece in scan(text) if isinstance(piece, Reference)]


def sole_reference(text: str) -> Reference | None:
    """The reference when ``text`` is exactly one ``${...}`` and nothing else."""
    try:
        pieces = scan(text.strip())
    except ExpressionSyntaxError:
        return None
    if len(pieces) == 1 and isinstance(pieces[0], Reference):
        return pieces[0]
    return None


def escape(text: str) -> str:
    """Text as a literal inside a template string: ``${`` becomes ``$${``."""
    return text.replace("${", ESCAPE)


# A resolver returns the value of a reference, or ``KEEP`` to leave it for a later stage.
KEEP = object()
Resolver = Callable[[Reference], object]


def substitute(text: str, resolve: Resolver, *, final: bool) -> str:
    """Replace references in ``text`` with ``resolve(ref)`` rendered as text.

    With ``final=False`` the result is still template text (escapes and kept references stay,
    substituted values are escaped); with ``final=True`` it is plain text and nothing may be
    kept. Raises ``ExpressionSyntaxError`` for malformed text and whatever ``resolve`` raises.
    """
    out: list[str] = []
    plain: list[str] = []  # literal text since the last kept reference, not yet escaped
    for piece in scan(text):
        if isinstance(piece, str):
            plain.append(piece)
            continue
        value = resolve(piece)
        if value is not KEEP:
            plain.append(to_text(value))
            continue
        if final:
            raise ExpressionSyntaxError(f"'{piece.text}' can't be resolved here")
        chunk = "".join(plain)
        if chunk.endswith("$"):
            # "$" + "${x}" would read back as the escape "$${": there is no way to write it.
            raise ExpressionSyntaxError(
                f"a value ending in '$' is placed right before '{piece.text}'; "
                "separate them (for example with a space)"
            )
        out.extend((escape(chunk), piece.text))
        plain = []
    chunk = "".join(plain)
    out.append(chunk if final else escape(chunk))
    return "".join(out)


def to_text(value: object) -> str:
    """How a value reads inside a string: JSON for numbers, booleans, arrays and objects."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):  # circular structures, non-string keys
        return str(value)


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
