"""The data a template is made of, and the errors that report what is wrong with one.

Everything here is frozen plain data, so a parsed ``Template`` can be cached and shared freely.
Field values that may hold ``${...}`` expressions keep the text exactly as written; rendering
(``definition.py``) substitutes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

ParameterType: TypeAlias = Literal["string", "integer", "number", "boolean", "array", "object"]
StepKind: TypeAlias = Literal["container", "script", "http", "workflow"]

PARAMETER_TYPES: tuple[ParameterType, ...] = (
    "string",
    "integer",
    "number",
    "boolean",
    "array",
    "object",
)
WORKFLOW_TYPES = ("containerized_workflow", "script_workflow", "api_workflow", "composite_workflow")
DEFAULT_WORKFLOW_TYPE = "containerized_workflow"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a template: where (``steps[0].container.command``, 1-based line)."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"


class TemplateError(Exception):
    """A template (or a rendering of it) is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        heading = "template is invalid" if count == 1 else f"template is invalid ({count} problems)"
        super().__init__(heading + ":\n" + "\n".join(f"  {p}" for p in self.problems))


@dataclass(frozen=True)
class ParameterProblem:
    """One bad, missing or unknown parameter value."""

    name: str
    message: str

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"


class ParameterError(Exception):
    """Parameter values don't fit the template; ``problems`` names every bad parameter."""

    def __init__(self, problems: list[ParameterProblem]) -> None:
        self.problems = list(problems)
        super().__init__("invalid parameters: " + "; ".join(str(p) for p in self.problems))

    @property
    def fields(self) -> dict[str, str]:
        """``{parameter: why}``, the shape of ``extensions.fields`` in the GraphQL error."""
        return {p.name: p.message for p in self.problems}


@dataclass(frozen=True)
class ParameterSpec:
    """A declared parameter. ``default`` is ``None`` when there is none."""

    name: str
    type: ParameterType
    description: str = ""
    required: bool = False
    default: object = None
    enum: tuple[object, ...] | None = None


@dataclass(frozen=True)
class ContainerSpec:
    """Run ``command`` in ``image``: a string runs under ``sh -c``, a list is the argv."""

    image: str
    command: str | tuple[str, ...] | None
    workdir: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ScriptSpec:
    """Run ``source`` with ``interpreter`` (``image`` defaults from the interpreter)."""

    interpreter: str
    source: str
    image: str


@dataclass(frozen=True)
class HttpSpec:
    """One HTTP request; the step fails unless the status is in ``expect_status``."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: object = None  # a string, or a mapping/list sent as JSON
    expect_status: tuple[int, ...] = tuple(range(200, 300))


@dataclass(frozen=True)
class WorkflowCall:
    """A composite step: run template ``template`` with ``parameters``."""

    template: str
    parameters: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RetryPolicy:
    """Retry a failed step ``count`` more times, waiting ``backoff`` seconds, then doubling."""

    count: int = 0
    backoff: float = 0.0


@dataclass(frozen=True)
class StepSpec:
    """One step. Exactly one of ``container``/``script``/``http``/``workflow`` is set.

    ``needs`` is the effective dependency list: the declared ``needs`` plus every step this
    one references through ``${steps.NAME...}``, in template order.
    """

    name: str
    kind: StepKind
    description: str = ""
    container: ContainerSpec | None = None
    script: ScriptSpec | None = None
    http: HttpSpec | None = None
    workflow: WorkflowCall | None = None
    needs: tuple[str, ...] = ()
    condition: str | None = None
    timeout: float | None = None
    retries: RetryPolicy = RetryPolicy()
    env: Mapping[str, str] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutputSpec:
    """A template output: ``value`` is an expression, usually over ``${steps...}``."""

    name: str
    value: str
    description: str = ""


@dataclass(frozen=True)
class Template:
    """A parsed, validated template. ``name`` is its id."""

    name: str
    description: str
    version: str
    category: str
    tags: tuple[str, ...]
    workflow_type: str
    parameters: tuple[ParameterSpec, ...]
    steps: tuple[StepSpec, ...]
    outputs: tuple[OutputSpec, ...]
    timeout: float | None
    source: str
    # Line numbers by field path, so problems found when rendering can point into the source.
    locations: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    def parameter(self, name: str) -> ParameterSpec | None:
        """The declared parameter called ``name``, if any."""
        return next((p for p in self.parameters if p.name == name), None)

    def step(self, name: str) -> StepSpec | None:
        """The step called ``name``, if any."""
        return next((s for s in self.steps if s.name == name), None)


@dataclass(frozen=True)
class TaskContext:
    """The task a workflow is rendered for: what ``${task.*}`` resolves against."""

    id: str
    name: str
    description: str
    status: str
    priority: str
    assignee: str | None
    metadata: Mapping[str, object]
    project_id: str


@dataclass(frozen=True)
class StepOutcome:
    """What a finished (or skipped) step produced, for ``${steps.NAME.*}`` and conditions.

    ``status`` is ``succeeded``, ``failed``, ``skipped`` or ``cancelled``; ``output`` is the
    step's stdout (trimmed when referenced).
    """

    status: str
    exit_code: int | None = None
    output: str = ""
    outputs: Mapping[str, str] = field(default_factory=dict)
