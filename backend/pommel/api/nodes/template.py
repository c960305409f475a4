"""``Template``, its parameters and steps, and template validation results."""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.scalars import JSON

from pommel.domain.status import WorkflowType
from pommel.domain.template import Problem
from pommel.services.templates import TemplateEntry


@strawberry.type(description="A parameter a template declares.")
class TemplateParameter:
    name: str
    type: str = strawberry.field(description="string, integer, number, boolean, array or object")
    description: str
    required: bool
    default: JSON | None
    enum: list[JSON] | None


@strawberry.type(description="A step of a template, as declared.")
class TemplateStep:
    name: str
    description: str
    kind: str = strawberry.field(description="container, script, http or workflow")
    needs: list[str] = strawberry.field(description="Steps it waits for (declared or referenced).")


@strawberry.type(name="Template", description="A reusable, parameterised workflow definition.")
class TemplateType:
    id: strawberry.ID = strawberry.field(description="The template's name, e.g. `basic_task`.")
    name: str
    description: str
    version: str
    category: str
    tags: list[str]
    workflow_type: WorkflowType
    builtin: bool = strawberry.field(description="Shipped with Pommel; read-only.")
    source: str = strawberry.field(description="The YAML text.")
    parameters: list[TemplateParameter]
    steps: list[TemplateStep]

    @classmethod
    def from_entry(cls, entry: TemplateEntry) -> TemplateType:
        template = entry.template
        return cls(
            id=strawberry.ID(template.name),
            name=template.name,
            description=template.description,
            version=template.version,
            category=template.category,
            tags=list(template.tags),
            workflow_type=WorkflowType(template.workflow_type),
            builtin=entry.builtin,
            source=template.source,
            parameters=[
                TemplateParameter(
                    name=p.name,
                    type=p.type,
                    description=p.description,
                    required=p.required,
                    default=cast(JSON, p.default),
                    enum=[cast(JSON, value) for value in p.enum] if p.enum is not None else None,
                )
                for p in template.parameters
            ],
            steps=[
                TemplateStep(
                    name=step.name,
                    description=step.description,
                    kind=step.kind,
                    needs=list(step.needs),
                )
                for step in template.steps
            ],
        )


@strawberry.type(description="One problem in a template source.")
class TemplateProblem:
    path: str = strawberry.field(description="Where, e.g. `steps[1].container.command`.")
    line: int | None = strawberry.field(description="1-based line in the source.")
    message: str


@strawberry.type
class TemplateValidation:
    valid: bool
    problems: list[TemplateProblem]

    @classmethod
    def from_problems(cls, problems: list[Problem]) -> TemplateValidation:
        return cls(
            valid=not problems,
            problems=[
                TemplateProblem(path=p.path, line=p.line, message=p.message) for p in problems
            ],
        )
