"""Workflows: a template (or a definition derived from a task) bound to one task, rendered and
validated when created."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pommel.domain.status import WorkflowType
from pommel.domain.template import (
    ParameterError,
    TaskContext,
    Template,
    TemplateError,
    bind_parameters,
    render_definition,
)
from pommel.errors import NotFound, PommelError, TemplateInvalid, ValidationFailed
from pommel.events import log as event_log
from pommel.events.model import EventType, NewEvent
from pommel.ids import Kind, format_id
from pommel.services.pagination import Page, fetch_page
from pommel.services.records import TaskRecord, WorkflowRecord
from pommel.services.tasks import get_task
from pommel.services.templates import TemplateRegistry, problems_as_data
from pommel.services.validation import FieldErrors
from pommel.storage.database import Database
from pommel.storage.tables import Task, Workflow

DEFAULT_TEMPLATE = "basic_task"


@dataclass(frozen=True)
class WorkflowFilter:
    project_pk: int | None = None
    task_pk: int | None = None
    type: WorkflowType | None = None
    template_id: str | None = None


@dataclass(frozen=True)
class SkippedTask:
    """A task ``createWorkflowsForProject`` did not create a workflow for, and why."""

    task: TaskRecord
    reason: str


def task_context(task: TaskRecord) -> TaskContext:
    return TaskContext(
        id=format_id(Kind.TASK, task.pk),
        name=task.name,
        description=task.description,
        status=task.status.value,
        priority=task.priority.value,
        assignee=task.assignee,
        metadata=task.metadata,
        project_id=format_id(Kind.PROJECT, task.project_pk),
    )


async def get_workflow(pk: int) -> WorkflowRecord:
    row = await Workflow.select().where(Workflow.id == pk).first().output(load_json=True)
    if row is None:
        raise NotFound(f"no workflow '{format_id(Kind.WORKFLOW, pk)}'")
    return WorkflowRecord.from_row(row)


async def get_workflows(pks: Sequence[int]) -> dict[int, WorkflowRecord]:
    if not pks:
        return {}
    rows = await Workflow.select().where(Workflow.id.is_in(list(pks))).output(load_json=True)
    return {row["id"]: WorkflowRecord.from_row(row) for row in rows}


async def latest_workflows_of_tasks(task_pks: Sequence[int]) -> dict[int, WorkflowRecord]:
    """Each task's most recently created workflow, in one query."""
    if not task_pks:
        return {}
    rows = (
        await Workflow.select()
        .where(Workflow.task.is_in(list(task_pks)))
        .order_by(Workflow.id)
        .output(load_json=True)
    )
    return {row["task"]: WorkflowRecord.from_row(row) for row in rows}  # later ids win


async def workflows_of_tasks(task_pks: Sequence[int]) -> dict[int, list[WorkflowRecord]]:
    found: dict[int, list[WorkflowRecord]] = {pk: [] for pk in task_pks}
    if not task_pks:
        return found
    rows = (
        await Workflow.select()
        .where(Workflow.task.is_in(list(task_pks)))
        .order_by(Workflow.id)
        .output(load_json=True)
    )
    for row in rows:
        found[row["task"]].append(WorkflowRecord.from_row(row))
    return found


async def workflow_for_task(task_pk: int) -> WorkflowRecord | None:
    """The task's latest workflow, or None when it has none."""
    await get_task(task_pk)
    return (await latest_workflows_of_tasks([task_pk])).get(task_pk)


async def list_workflows(
    *, filter: WorkflowFilter, first: int | None, after: str | None
) -> Page[WorkflowRecord]:
    conditions: list[Any] = []
    if filter.project_pk is not None:
        conditions.append(Workflow.project == filter.project_pk)
    if filter.task_pk is not None:
        conditions.append(Workflow.task == filter.task_pk)
    if filter.type is not None:
        conditions.append(Workflow.type == filter.type.value)
    if filter.template_id is not None:
        conditions.append(Workflow.template_id == filter.template_id)
    query = Workflow.select()
    count_query = Workflow.count()
    for condition in conditions:
        query = query.where(condition)
        count_query = count_query.where(condition)
    return await fetch_page(
        query,
        order=[(Workflow.id, "id")],
        first=first,
        after=after,
        descending=False,
        convert=WorkflowRecord.from_row,
        count=count_query.run,
    )


def _bind(template: Template, parameters: Mapping[str, Any] | None) -> dict[str, object]:
    try:
        return bind_parameters(template, parameters)
    except ParameterError as error:
        raise ValidationFailed(
            {f"parameters.{name}": why for name, why in error.fields.items()},
            message=f"invalid parameters for template '{template.name}': "
            + "; ".join(f"{name}: {why}" for name, why in error.fields.items()),
        ) from None


async def _render(
    registry: TemplateRegistry,
    template: Template,
    parameters: dict[str, object],
    task: TaskRecord,
) -> dict[str, Any]:
    resolver = await registry.resolver()
    try:
        return render_definition(
            template, parameters=parameters, task=task_context(task), lookup=resolver.get
        )
    except TemplateError as error:
        raise TemplateInvalid(
            f"template '{template.name}' cannot be rendered for "
            f"{format_id(Kind.TASK, task.pk)}: {error.problems[0]}",
            problems=problems_as_data(error.problems),
        ) from None


async def _insert(
    db: Database,
    *,
    task: TaskRecord,
    name: str,
    workflow_type: str,
    template_id: str | None,
    parameters: Mapping[str, object],
    definition: Mapping[str, Any],
) -> WorkflowRecord:
    async with db.write():
        # The task may have been deleted since it was read.
        await get_task(task.pk)
        rows = await Workflow.insert(
            Workflow(
                project=task.project_pk,
                task=task.pk,
                name=name,
                type=workflow_type,
                template_id=template_id,
                parameters=json.dumps(parameters, default=str),
                definition=json.dumps(definition, default=str),
            )
        ).returning(Workflow.id)
        pk = rows[0]["id"]
        await event_log.append(
            db,
            [
                NewEvent(
                    EventType.WORKFLOW_CREATED,
                    project_id=task.project_pk,
                    task_id=task.pk,
                    workflow_id=pk,
                    message=f"workflow '{name}' created for task '{task.name}'",
                    data={
                        "workflow": format_id(Kind.WORKFLOW, pk),
                        "template": template_id,
                        "type": workflow_type,
                    },
                )
            ],
        )
    return await get_workflow(pk)


def _workflow_name(errors: FieldErrors, given: str | None, default: str) -> str:
    name = errors.name("workflowName", given, required=False) if given is not None else None
    return name or default


async def create_workflow_from_template(
    db: Database,
    registry: TemplateRegistry,
    *,
    task_pk: int,
    template_id: str,
    parameters: Any = None,
    workflow_name: str | None = None,
) -> WorkflowRecord:
    """Bind ``parameters`` to the template, render it for the task, and store the result."""
    errors = FieldErrors()
    if parameters is not None and not isinstance(parameters, dict):
        errors.add("parameters", "must be a JSON object of parameter values")
    task = await get_task(task_pk)
    name = _workflow_name(errors, workflow_name, f"{template_id}: {task.name}")
    errors.raise_if_any()
    template = (await registry.get(template_id)).template
    bound = _bind(template, parameters)
    definition = await _render(registry, template, bound, task)
    return await _insert(
        db,
        task=task,
        name=name,
        workflow_type=template.workflow_type,
        template_id=template.name,
        parameters=bound,
        definition=definition,
    )


_PROCESS_TYPES = {WorkflowType.CONTAINERIZED_WORKFLOW, WorkflowType.SCRIPT_WORKFLOW}


@dataclass(frozen=True)
class DerivedWorkflow:
    """A workflow worked out from a task, not stored yet."""

    workflow_type: str
    template_id: str
    parameters: dict[str, object]
    definition: dict[str, Any]


async def derive_workflow(
    registry: TemplateRegistry, *, task: TaskRecord, workflow_type: WorkflowType | None = None
) -> DerivedWorkflow:
    """Work out the workflow a task's metadata describes; raises naming what is missing.

    ``metadata.template`` (+ ``metadata.parameters``) names a template; otherwise
    ``metadata.command`` (+ optional ``metadata.image``) runs through ``basic_task``.
    """
    meta = task.metadata
    task_id = format_id(Kind.TASK, task.pk)
    template_id = meta.get("template")
    if template_id is not None:
        if not isinstance(template_id, str):
            raise ValidationFailed({"metadata.template": "must be a template id (a string)"})
        template = (await registry.get(template_id)).template
        if workflow_type is not None and workflow_type.value != template.workflow_type:
            raise ValidationFailed(
                {
                    "workflowType": f"template '{template_id}' (named by {task_id}'s metadata) "
                    f"makes a {template.workflow_type}, not a {workflow_type.value}"
                }
            )
        params = meta.get("parameters", {})
        if not isinstance(params, dict):
            raise ValidationFailed({"metadata.parameters": "must be a JSON object"})
        bound = _bind(template, params)
        definition = await _render(registry, template, bound, task)
        return DerivedWorkflow(template.workflow_type, template.name, bound, definition)
    command = meta.get("command")
    if not isinstance(command, str) or not command.strip():
        raise ValidationFailed(
            {"metadata.command": "is missing"},
            message=(
                f"{task_id} cannot be turned into a workflow: its metadata names neither a "
                '`template` nor a `command`. Set metadata.command (e.g. {"command": "make test"}'
                ', optionally with "image"), metadata.template with metadata.parameters, or use '
                "createWorkflowFromTemplate."
            ),
        )
    if workflow_type is not None and workflow_type not in _PROCESS_TYPES:
        raise ValidationFailed(
            {
                "workflowType": f"a workflow derived from a command is a containerized_workflow or "
                f"script_workflow; a {workflow_type.value} needs metadata.template"
            }
        )
    template = (await registry.get(DEFAULT_TEMPLATE)).template
    bound = _bind(template, {"task_name": task.name, "task_command": command})
    definition = await _render(registry, template, bound, task)
    image = meta.get("image")
    if image is not None:
        if not isinstance(image, str) or not image.strip():
            raise ValidationFailed({"metadata.image": "must be a container image reference"})
        for step in definition["steps"]:
            if step.get("image") is not None:
                step["image"] = image
    chosen_type = (workflow_type or WorkflowType.CONTAINERIZED_WORKFLOW).value
    definition["type"] = chosen_type
    return DerivedWorkflow(chosen_type, template.name, bound, definition)


async def create_workflow_from_task(
    db: Database,
    registry: TemplateRegistry,
    *,
    task_pk: int,
    workflow_name: str | None = None,
    workflow_type: WorkflowType | None = None,
) -> WorkflowRecord:
    """Derive a workflow from the task's metadata (see ``derive_workflow``) and store it."""
    task = await get_task(task_pk)
    errors = FieldErrors()
    name = _workflow_name(errors, workflow_name, task.name)
    errors.raise_if_any()
    derived = await derive_workflow(registry, task=task, workflow_type=workflow_type)
    return await _insert(
        db,
        task=task,
        name=name,
        workflow_type=derived.workflow_type,
        template_id=derived.template_id,
        parameters=derived.parameters,
        definition=derived.definition,
    )


async def create_workflows_for_project(
    db: Database,
    registry: TemplateRegistry,
    *,
    project_pk: int,
    template_id: str | None,
    parameters: Any = None,
) -> tuple[list[WorkflowRecord], list[SkippedTask]]:
    """A workflow for every task of the project that has none; tasks that cannot get one are
    returned with the reason, so one bad task does not stop the rest."""
    from pommel.services.projects import get_project

    await get_project(project_pk)
    rows = (
        await Task.select()
        .where(Task.project == project_pk)
        .order_by(Task.id)
        .output(load_json=True)
    )
    tasks = [TaskRecord.from_row(row) for row in rows]
    existing = await latest_workflows_of_tasks([t.pk for t in tasks])
    if template_id is not None:
        await registry.get(template_id)  # an unknown template is one error, not one per task
    created: list[WorkflowRecord] = []
    skipped: list[SkippedTask] = []
    for task in tasks:
        if task.pk in existing:
            skipped.append(SkippedTask(task, "already has a workflow"))
            continue
        try:
            if template_id is not None:
                workflow = await create_workflow_from_template(
                    db, registry, task_pk=task.pk, template_id=template_id, parameters=parameters
                )
            else:
                workflow = await create_workflow_from_task(db, registry, task_pk=task.pk)
        except PommelError as error:
            skipped.append(SkippedTask(task, f"{error.code}: {error.message}"))
            continue
        created.append(workflow)
    return created, skipped
