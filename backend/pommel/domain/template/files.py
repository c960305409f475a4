"""``pommel templates validate PATH…``: check template files and print their problems.

The one module of the package that reads files, kept apart so the rest stays pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from .loader import parse_template, validate_source
from .model import Problem, Template, TemplateError

Lookup = Callable[[str], Template | None]


def template_files(path: Path) -> list[Path]:
    """``path`` itself, or the ``*.yaml``/``*.yml`` files of a directory, sorted."""
    if path.is_dir():
        return sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    return [path]


def validate_paths(paths: Sequence[str], *, out: TextIO, lookup: Lookup | None = None) -> int:
    """Validate template files; print ``file:line: path: message`` per problem; 1 if any.

    A directory means its ``*.yaml``/``*.yml`` files. ``workflow`` steps may call templates
    among the files being checked, or any that ``lookup`` knows (e.g. the built-ins).
    """
    failed = False
    sources: list[tuple[Path, str]] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            print(f"{given}: no such file or directory", file=out)
            failed = True
            continue
        found = template_files(path)
        if not found:
            print(f"{given}: no *.yaml or *.yml files in this directory", file=out)
            failed = True
        for file in found:
            try:
                sources.append((file, file.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError) as exc:
                print(f"{file}: can't read the file: {exc}", file=out)
                failed = True

    # Templates that parse on their own can be called by the others being checked.
    local: dict[str, tuple[Path, Template]] = {}
    for file, text in sources:
        try:
            template = parse_template(text)
        except (TemplateError, RecursionError):
            continue
        local.setdefault(template.name, (file, template))

    def combined(name: str) -> Template | None:
        if name in local:
            return local[name][1]
        return lookup(name) if lookup is not None else None

    for file, text in sources:
        problems = validate_source(text, lookup=combined)
        if not problems:
            template = parse_template(text, lookup=combined)
            first = local[template.name][0]
            if first != file:
                line = template.locations.get("metadata.name")
                message = f"template '{template.name}' is also defined in {first}"
                problems = [Problem("metadata.name", line, message)]
        for problem in problems:
            at = f"{problem.line}:" if problem.line is not None else ""
            where = f" {problem.path}:" if problem.path else ""
            print(f"{file}:{at}{where} {problem.message}", file=out)
            failed = True
    if not failed:
        print(f"{len(sources)} template{'s' if len(sources) != 1 else ''} valid", file=out)
    return 1 if failed else 0
