from __future__ import annotations

import pytest

from pommel.errors import NotFound
from pommel.ids import Kind, format_id, parse_any, parse_id


def test_round_trip() -> None:
    for kind in Kind:
        assert parse_any(format_id(kind, 42)) == (kind, 42)
    assert format_id(Kind.PROJECT, 3) == "proj-3"
    assert format_id(Kind.WORKFLOW, 9) == "wf-9"


@pytest.mark.parametrize(
    "bad", ["", "task", "task-", "task-x", "wat-1", "-1", "task--1", "task-1" + "0" * 20]
)
def test_malformed_ids_are_not_found(bad: str) -> None:
    with pytest.raises(NotFound):
        parse_any(bad)


def test_wrong_kind_is_not_found() -> None:
    with pytest.raises(NotFound, match="no task 'proj-1'"):
        parse_id("proj-1", Kind.TASK)
