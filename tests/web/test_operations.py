"""Every named operation in ``schema/operations/`` (the dashboard's and the MCP bridge's) is valid
against the schema the server exports, so a schema change that breaks a client fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, parse, validate

from pommel.api.schema import schema

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "schema" / "operations"
DASHBOARD_IMPORTS = ROOT / "frontend" / "src" / "api" / "operations.ts"


def _documents() -> list[Path]:
    return sorted(OPERATIONS.rglob("*.graphql"))


def _name(path: Path) -> str:
    return path.relative_to(OPERATIONS).as_posix()


def test_there_are_operations() -> None:
    assert any(OPERATIONS.glob("dashboard/*.graphql"))


@pytest.mark.parametrize("path", [pytest.param(p, id=_name(p)) for p in _documents()])
def test_operation_is_valid_against_the_schema(path: Path) -> None:
    document = parse(path.read_text(encoding="utf-8"))
    errors = validate(schema._schema, document)
    assert not errors, "\n".join(f"{path.name}: {e.message}" for e in errors)


@pytest.mark.parametrize("path", [pytest.param(p, id=_name(p)) for p in _documents()])
def test_every_operation_is_named(path: Path) -> None:
    document = parse(path.read_text(encoding="utf-8"))
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert operations, f"{path.name} holds no operation"
    assert all(op.name for op in operations), f"{path.name} has an anonymous operation"


@pytest.mark.parametrize("folder", sorted(p.name for p in OPERATIONS.iterdir() if p.is_dir()))
def test_operation_names_are_unique_per_client(folder: str) -> None:
    seen: dict[str, str] = {}
    for path in sorted((OPERATIONS / folder).rglob("*.graphql")):
        for definition in parse(path.read_text(encoding="utf-8")).definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name:
                name = definition.name.value
                assert name not in seen, f"{name} is in both {seen[name]} and {path.name}"
                seen[name] = path.name


def test_dashboard_sends_exactly_the_dashboard_operations() -> None:
    """The SPA imports each dashboard file once (as text); none is left unused or missing."""
    if not DASHBOARD_IMPORTS.is_file():
        pytest.skip("frontend sources are not present")
    imported = re.findall(r"@operations/([\w-]+\.graphql)\?raw", DASHBOARD_IMPORTS.read_text())
    files = sorted(p.name for p in (OPERATIONS / "dashboard").glob("*.graphql"))
    assert sorted(imported) == files
