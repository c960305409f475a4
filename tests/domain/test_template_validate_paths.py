"""``validate_paths``: what `pommel templates validate PATH…` prints and returns."""

from __future__ import annotations

import io
from pathlib import Path

from pommel.domain.template import parse_template, validate_paths

GOOD = "metadata: {name: good}\nsteps:\n  - {name: a, container: {image: x}}\n"
CALLER = "metadata: {name: caller}\nsteps:\n  - {name: c, workflow: {template: good}}\n"
BAD = "metadata: {name: bad}\nsteps:\n  - name: a\n    container: {image: x, command: '${nope}'}\n"


def run(*paths: Path | str, **kwargs: object) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = validate_paths([str(p) for p in paths], out=out, **kwargs)  # type: ignore[arg-type]
    return code, out.getvalue().splitlines()


def test_valid_files_return_zero(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "caller.yml").write_text(CALLER)  # calls a template among the files checked
    (tmp_path / "notes.txt").write_text("not a template")
    assert run(tmp_path) == (0, ["2 templates valid"])


def test_problems_are_printed_with_file_line_and_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    broken = tmp_path / "broken.yaml"
    broken.write_text("metadata: {name: [\n")
    code, lines = run(bad, broken)
    assert code == 1
    assert lines[0] == (
        f"{bad}:4: steps[0].container.command: ${{nope}}: unknown parameter 'nope' "
        "(this template declares no parameters)"
    )
    assert lines[1].startswith(f"{broken}:2: invalid YAML:")
    assert len(lines) == 2


def test_unknown_called_template_and_lookup(tmp_path: Path) -> None:
    caller = tmp_path / "caller.yaml"
    caller.write_text(CALLER)
    code, lines = run(caller)
    assert code == 1
    assert lines == [f"{caller}:3: steps[0].workflow.template: no template named 'good'"]
    known = parse_template(GOOD)
    assert run(caller, lookup={"good": known}.get) == (0, ["1 template valid"])


def test_missing_paths_and_empty_directories(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, lines = run(tmp_path / "nope.yaml", empty)
    assert code == 1
    assert lines == [
        f"{tmp_path / 'nope.yaml'}: no such file or directory",
        f"{empty}: no *.yaml or *.yml files in this directory",
    ]


def test_duplicate_template_names_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text("# copy\n" + GOOD)
    code, lines = run(tmp_path)
    assert code == 1
    assert lines == [
        f"{tmp_path / 'b.yaml'}:2: metadata.name: template 'good' is also defined in "
        f"{tmp_path / 'a.yaml'}"
    ]


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"metadata: {name: caf\xe9}\n")
    code, lines = run(path)
    assert code == 1
    assert lines[0].startswith(f"{path}: can't read the file:")
