"""YAML text to plain data, remembering the line of every field.

PyYAML composes the text into nodes that carry marks; we build the data from those nodes
ourselves so each value's path (``steps[0].container.command``) maps to its 1-based line.
Deliberate differences from plain ``yaml.safe_load``, all to make templates predictable:

- mapping keys are always strings (``on:`` stays ``"on"``, ``200:`` is ``"200"``);
- dates stay strings (``version: 2024-01-01``);
- duplicate keys, recursive aliases, alias bombs and tags such as ``!!binary`` are problems
  instead of being silently accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from .model import Problem

_MAX_NODES = 50_000  # generous for any real template; stops "billion laughs" alias bombs
_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


@dataclass
class Loaded:
    """The data of a YAML document plus ``lines`` (path -> 1-based line)."""

    data: Any
    lines: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def join(path: str, key: str | int) -> str:
    """The path of ``key`` inside ``path``: ``steps`` + 0 is ``steps[0]``, then ``.name``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def line_of(lines: Mapping[str, int], path: str) -> int | None:
    """The line of ``path``, or of its nearest enclosing field that has one."""
    while True:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            return lines.get("")
        path = path[:cut]


def load_yaml(source: str) -> Loaded:
    """Parse ``source``; syntax errors come back as problems, never as exceptions."""
    try:
        loader = yaml.SafeLoader(source)
    except yaml.reader.ReaderError as exc:  # control characters are rejected up front
        return Loaded(None, problems=[_unreadable(source, exc)])
    try:
        node = loader.get_single_node()
    except yaml.reader.ReaderError as exc:
        return Loaded(None, problems=[_unreadable(source, exc)])
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = exc.problem or exc.context or "invalid YAML"
        return Loaded(None, problems=[Problem("", line, f"invalid YAML: {reason}")])
    except yaml.YAMLError as exc:
        return Loaded(None, problems=[Problem("", None, f"invalid YAML: {exc}")])
    except RecursionError:
        return Loaded(None, problems=[Problem("", None, "invalid YAML: nested too deeply")])
    finally:
        loader.dispose()
    if node is None:
        return Loaded(None, problems=[Problem("", 1, "the template is empty")])
    builder = _Builder(loader)
    try:
        data = builder.build(node, "")
    except RecursionError:
        return Loaded(None, problems=[Problem("", 1, "the template is nested too deeply")])
    return Loaded(data, builder.lines, builder.problems)


def _unreadable(source: str, exc: yaml.reader.ReaderError) -> Problem:
    line = source.count("\n", 0, exc.position) + 1
    code = exc.character if isinstance(exc.character, int) else None
    what = f"character U+{code:04X}" if code is not None else "a character"
    return Problem("", line, f"invalid YAML: {what} is not allowed (control characters)")


class _Builder:
    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.lines: dict[str, int] = {}
        self.problems: list[Problem] = []
        self.count = 0
        self.active: set[int] = set()  # nodes being built: meeting one again is a recursive alias

    def problem(self, node: yaml.Node, path: str, message: str) -> None:
        self.problems.append(Problem(path, node.start_mark.line + 1, message))

    def build(self, node: yaml.Node, path: str) -> Any:
        self.count += 1
        if self.count > _MAX_NODES:
            if self.count == _MAX_NODES + 1:
                self.problem(node, path, "the document is too large (aliases expand too much)")
            return None
        self.lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in self.active:
            self.problem(node, path, "a YAML alias refers to itself")
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                if node.tag != _SEQ:
                    self.problem(node, path, f"YAML tag {node.tag} is not supported")
                return [self.build(item, join(path, i)) for i, item in enumerate(node.value)]
            return self.scalar(node, path)
        finally:
            self.active.discard(id(node))

    def scalar(self, node: yaml.Node, path: str) -> Any:
        if node.tag == _TIMESTAMP:
            return node.value  # dates and times stay text
        if node.tag not in _SCALAR_TAGS:
            self.problem(node, path, f"YAML tag {node.tag} is not supported")
            return None
        try:
            return self.loader.construct_object(node)
        except (yaml.YAMLError, ValueError) as exc:  # e.g. an integer with too many digits
            self.problem(node, path, f"invalid value: {exc}")
            return None

    def mapping(self, node: yaml.MappingNode, path: str) -> dict[str, Any]:
        if node.tag != _MAP:
            self.problem(node, path, f"YAML tag {node.tag} is not supported")
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.update(self.merge(value_node, path))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, path, "mapping keys must be plain text")
                continue
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                self.problem(
                    key_node, join(path, key), f"duplicate key (first on line {seen[key]})"
                )
                continue
            seen[key] = line
            self.lines[join(path, key)] = line
            result[key] = self.build(value_node, join(path, key))
        # Keys written in the mapping itself win over merged ones (YAML merge-key semantics).
        return {**merged, **result}

    def merge(self, node: yaml.Node, path: str) -> dict[str, Any]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in reversed(sources):  # earlier mappings in a merge list win
            value = self.build(source, path)
            if isinstance(value, dict):
                merged.update(value)
            else:
                self.problem(source, path, "a merge key (<<) needs a mapping or a list of them")
        return merged
