"""Piccolo tables: the whole persistent state of Pommel.

Public ids (``task-12``) are formed from these integer primary keys by ``pommel.ids``.
JSON columns hold objects the API exposes as JSON scalars; they are read with
``.output(load_json=True)``. Timestamps are UTC. Composite unique indexes are created by raw
SQL in the migrations, because Piccolo's ``Unique`` constraint is added with
``ALTER TABLE … ADD CONSTRAINT``, which SQLite does not support.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Project(Table, tablename="project"):
    id = Serial(primary_key=True)
    name = Varchar(length=200, index=True)
    description = Text(default="")
    metadata = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Phase(Table, tablename="phase"):
    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.cascade, null=False, index=True)
    name = Varchar(length=200)
    description = Text(default="")
    position = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Task(Table, tablename="task"):
    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.cascade, null=False, index=True)
    phase = ForeignKey(references=Phase, on_delete=OnDelete.set_null, null=True, index=True)
    name = Varchar(length=200)
    description = Text(default="")
    status = Varchar(length=20, default="planned", index=True)
    priority = Varchar(length=20, default="medium")
    priority_rank = Integer(default=1)
    assignee = Varchar(length=200, null=True, default=None, index=True)
    metadata = JSON(default="{}")
    status_reason = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class TaskDependency(Table, tablename="task_dependency"):
    id = Serial(primary_key=True)
    task = ForeignKey(references=Task, on_delete=OnDelete.cascade, null=False, index=True)
    depends_on = ForeignKey(references=Task, on_delete=OnDelete.cascade, null=False, index=True)


class CustomTemplate(Table, tablename="custom_template"):
    id = Serial(primary_key=True)
    name = Varchar(length=100, unique=True)
    source = Text()
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Workflow(Table, tablename="workflow"):
    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.cascade, null=False, index=True)
    task = ForeignKey(references=Task, on_delete=OnDelete.cascade, null=False, index=True)
    name = Varchar(length=200)
    type = Varchar(length=40, index=True)
    template_id = Varchar(length=100, null=True, default=None, index=True)
    parameters = JSON(default="{}")
    definition = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ProjectRun(Table, tablename="project_run"):
    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.cascade, null=False, index=True)
    status = Varchar(length=20, default="queued", index=True)
    max_parallel = Integer(default=4)
    skip_cache = Boolean(default=False)
    error = Text(null=True, default=None)
    # {"skipped"|"blocked"|"failed": {task pk: reason}}: outcomes that have no run of their own.
    summary = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)


class WorkflowRun(Table, tablename="workflow_run"):
    id = Serial(primary_key=True)
    workflow = ForeignKey(references=Workflow, on_delete=OnDelete.cascade, null=False, index=True)
    task = ForeignKey(references=Task, on_delete=OnDelete.cascade, null=False, index=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.cascade, null=False, index=True)
    project_run = ForeignKey(
        references=ProjectRun, on_delete=OnDelete.set_null, null=True, index=True
    )
    parent_run: ForeignKey[WorkflowRun] = ForeignKey(
        references="WorkflowRun", on_delete=OnDelete.cascade, null=True
    )
    retry_of: ForeignKey[WorkflowRun] = ForeignKey(
        references="WorkflowRun", on_delete=OnDelete.set_null, null=True
    )
    status = Varchar(length=20, default="queued", index=True)
    trigger = Varchar(length=40, default="manual")
    template_id = Varchar(length=100, null=True, default=None, index=True)
    skip_cache = Boolean(default=False)
    parameters = JSON(default="{}")
    definition = JSON(default="{}")
    outputs = JSON(default="{}")
    error = Text(null=True, default=None)
    executor = Varchar(length=20, null=True, default=None)
    executor_note = Text(null=True, default=None)
    resumed = Integer(default=0)
    cancel_requested = Boolean(default=False)
    # The worker executing the run and when it last renewed that claim (its lease).
    claimed_by = Varchar(length=100, null=True, default=None, index=True)
    heartbeat_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    duration_ms = BigInt(null=True, default=None)


class StepRun(Table, tablename="step_run"):
    id = Serial(primary_key=True)
    run = ForeignKey(references=WorkflowRun, on_delete=OnDelete.cascade, null=False, index=True)
    name = Varchar(length=200)
    position = Integer(default=0)
    kind = Varchar(length=20, default="container")
    status = Varchar(length=20, default="pending")
    exit_code = Integer(null=True, default=None)
    stdout = Text(default="")
    stderr = Text(default="")
    outputs = JSON(default="{}")
    attempts = Integer(default=0)
    cached = Boolean(default=False)
    cache_key = Varchar(length=64, null=True, default=None, index=True)
    error = Text(null=True, default=None)
    child_run = ForeignKey(references=WorkflowRun, on_delete=OnDelete.set_null, null=True)
    # A retry's step that reused the outcome of this run's step instead of running (a run pk).
    reused_from = Integer(null=True, default=None)
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)


class LogLine(Table, tablename="log_line"):
    """One line a step printed, in order; the full log (step records keep a bounded tail)."""

    id = Serial(primary_key=True)
    run = ForeignKey(references=WorkflowRun, on_delete=OnDelete.cascade, null=False, index=True)
    step = Varchar(length=200)
    stream = Varchar(length=10, default="stdout")
    text = Text()
    at = Timestamptz(default=TimestamptzNow())


class Event(Table, tablename="event"):
    """The append-only event log. ``sequence`` is global and strictly increasing.

    Ids are plain integers, not foreign keys: events outlive what they describe.
    """

    sequence = Serial(primary_key=True)
    type = Varchar(length=40, index=True)
    at = Timestamptz(default=TimestamptzNow())
    project_id = Integer(null=True, default=None, index=True)
    task_id = Integer(null=True, default=None)
    workflow_id = Integer(null=True, default=None)
    run_id = Integer(null=True, default=None, index=True)
    step = Varchar(length=200, null=True, default=None)
    status = Varchar(length=20, null=True, default=None)
    message = Text(default="")
    data = JSON(default="{}")


class Webhook(Table, tablename="webhook"):
    id = Serial(primary_key=True)
    url = Text()
    description = Text(default="")
    secret = Varchar(length=128)
    event_types = JSON(default="[]")
    project_id = Integer(null=True, default=None)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    # The delivery worker's durable cursor: events up to this sequence have been turned into
    # deliveries for this webhook (set to the log's head on creation and on reactivation).
    last_sequence = BigInt(default=0)


class WebhookDelivery(Table, tablename="webhook_delivery"):
    id = Serial(primary_key=True)
    webhook = ForeignKey(references=Webhook, on_delete=OnDelete.cascade, null=False, index=True)
    event_sequence = BigInt()
    event_type = Varchar(length=40)
    status = Varchar(length=20, default="pending", index=True)
    attempts = Integer(default=0)
    response_status = Integer(null=True, default=None)
    last_error = Text(null=True, default=None)
    next_attempt_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    delivered_at = Timestamptz(null=True, default=None)
    # The exact JSON body sent on every attempt (it outlives event retention).
    payload = Text(default="")
    redelivery_of = Integer(null=True, default=None)


class WebhookAttempt(Table, tablename="webhook_attempt"):
    """One HTTP attempt of a delivery: what the receiver answered, or why it failed."""

    id = Serial(primary_key=True)
    delivery = ForeignKey(
        references=WebhookDelivery, on_delete=OnDelete.cascade, null=False, index=True
    )
    number = Integer(default=1)
    at = Timestamptz(default=TimestamptzNow())
    duration_ms = Integer(null=True, default=None)
    response_status = Integer(null=True, default=None)
    error = Text(null=True, default=None)
    response_body = Text(default="")


class ApiKey(Table, tablename="api_key"):
    id = Serial(primary_key=True)
    name = Varchar(length=200)
    prefix = Varchar(length=16, index=True)
    secret_hash = Varchar(length=128)
    scopes = JSON(default="[]")
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


ALL_TABLES: tuple[type[Table], ...] = (
    Project,
    Phase,
    Task,
    TaskDependency,
    CustomTemplate,
    Workflow,
    ProjectRun,
    WorkflowRun,
    StepRun,
    LogLine,
    Event,
    Webhook,
    WebhookDelivery,
    WebhookAttempt,
    ApiKey,
)
