"""Opaque, prefixed identifiers (``proj-3``, ``task-123``) and their parsing.

The prefix makes an id readable in logs and lets ``node(id:)`` find the right table without a
lookup; the number is the row's primary key.
"""

from __future__ import annotations

from enum import Enum

from pommel.errors import NotFound


class Kind(Enum):
    """Each kind of object that has an id, with its prefix."""

    PROJECT = "proj"
    PHASE = "phase"
    TASK = "task"
    WORKFLOW = "wf"
    RUN = "run"
    PROJECT_RUN = "prun"
    WEBHOOK = "hook"
    DELIVERY = "dlv"
    API_KEY = "key"


_BY_PREFIX = {kind.value: kind for kind in Kind}


def format_id(kind: Kind, pk: int) -> str:
    """The public id of row ``pk`` of ``kind``."""
    return f"{kind.value}-{pk}"


def parse_any(public_id: str) -> tuple[Kind, int]:
    """Split a public id into its kind and primary key; ``NotFound`` when it is not one of ours."""
    prefix, sep, number = public_id.rpartition("-")
    kind = _BY_PREFIX.get(prefix)
    if not sep or kind is None or not number.isdigit() or len(number) > 18:
        raise NotFound(f"'{public_id}' is not a Pommel id (expected e.g. 'task-12')")
    return kind, int(number)


def parse_id(public_id: str, kind: Kind) -> int:
    """The primary key in ``public_id``, which must be of ``kind``.

    A well-formed id of another kind is reported as not found: no row of ``kind`` has it.
    """
    found, pk = parse_any(public_id)
    if found is not kind:
        raise NotFound(f"no {kind.name.lower().replace('_', ' ')} '{public_id}'")
    return pk
