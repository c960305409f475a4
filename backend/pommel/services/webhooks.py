"""Webhooks: subscriptions of an HTTP endpoint to events, and the record of their deliveries.

The rules live here: which events a webhook wants (types, ``group.*`` patterns, a project), what
a delivery's body looks like, how secrets and URLs are checked. Sending is the delivery
worker's job (``pommel.events.webhook_delivery``); it reads the same tables.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pommel.errors import Conflict, NotFound, ValidationFailed
from pommel.events.log import latest_sequence
from pommel.events.model import EventType, StoredEvent
from pommel.ids import Kind, format_id
from pommel.services.projects import get_project
from pommel.services.records import load_json_list
from pommel.services.validation import FieldErrors
from pommel.storage.database import Database
from pommel.storage.tables import Webhook, WebhookAttempt, WebhookDelivery

ALL_EVENTS = "*"
MAX_URL = 2000
SECRET_MIN = 16
SECRET_MAX = 128
DEFAULT_DELIVERIES = 20
MAX_DELIVERIES = 100
KNOWN_TYPES = frozenset(event_type.value for event_type in EventType)
KNOWN_GROUPS = frozenset(value.split(".", 1)[0] for value in KNOWN_TYPES)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt (or being sent)
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # every attempt failed; ``redeliverWebhook`` tries again


def matches_event_type(patterns: Sequence[str], event_type: str) -> bool:
    """Whether ``event_type`` is one of ``patterns`` (empty: all; ``run.*``: a group)."""
    if not patterns:
        return True
    group = event_type.split(".", 1)[0]
    return any(pattern in (event_type, f"{group}.*") for pattern in patterns)


@dataclass(frozen=True)
class WebhookRecord:
    pk: int
    url: str
    description: str
    event_types: tuple[str, ...]  # empty: every event
    project_pk: int | None
    active: bool
    created_at: datetime
    updated_at: datetime
    last_sequence: int

    @property
    def public_id(self) -> str:
        return format_id(Kind.WEBHOOK, self.pk)

    def wants(self, event: StoredEvent) -> bool:
        """Whether ``event`` is to be delivered to this webhook."""
        return (self.project_pk is None or event.project_id == self.project_pk) and (
            matches_event_type(self.event_types, event.type)
        )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> WebhookRecord:
        return cls(
            pk=row["id"],
            url=row["url"],
            description=row["description"],
            event_types=tuple(str(item) for item in load_json_list(row["event_types"])),
            project_pk=row["project_id"],
            active=bool(row["active"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            last_sequence=int(row["last_sequence"]),
        )


@dataclass(frozen=True)
class AttemptRecord:
    number: int
    at: datetime
    duration_ms: int | None
    response_status: int | None
    error: str | None
    response_body: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AttemptRecord:
        return cls(
            number=row["number"],
            at=row["at"],
            duration_ms=row["duration_ms"],
            response_status=row["response_status"],
            error=row["error"],
            response_body=row["response_body"],
        )


@dataclass(frozen=True)
class DeliveryRecord:
    pk: int
    webhook_pk: int
    event_sequence: int
    event_type: str
    status: DeliveryStatus
    attempts: int
    response_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    payload: str
    redelivery_of: int | None
    history: tuple[AttemptRecord, ...] = ()

    @property
    def public_id(self) -> str:
        return format_id(Kind.DELIVERY, self.pk)

    @classmethod
    def from_row(cls, row: dict[str, Any], history: Iterable[AttemptRecord] = ()) -> DeliveryRecord:
        return cls(
            pk=row["id"],
            webhook_pk=row["webhook"],
            event_sequence=int(row["event_sequence"]),
            event_type=row["event_type"],
            status=DeliveryStatus(row["status"]),
            attempts=row["attempts"],
            response_status=row["response_status"],
            last_error=row["last_error"],
            next_attempt_at=row["next_attempt_at"],
            created_at=row["created_at"],
            delivered_at=row["delivered_at"],
            payload=row["payload"],
            redelivery_of=row["redelivery_of"],
            history=tuple(history),
        )


# -- the body of a delivery -----------------------------------------------------------------


def _ref(kind: Kind, pk: int | None) -> str | None:
    return None if pk is None else format_id(kind, pk)


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_payload(event: StoredEvent) -> str:
    """The JSON body delivered for ``event`` (ids prefixed as the API shows them)."""
    body = {
        "sequence": event.sequence,
        "type": event.type,
        "at": _timestamp(event.at),
        "projectId": _ref(Kind.PROJECT, event.project_id),
        "taskId": _ref(Kind.TASK, event.task_id),
        "workflowId": _ref(Kind.WORKFLOW, event.workflow_id),
        "runId": _ref(Kind.RUN, event.run_id),
        "step": event.step,
        "status": event.status,
        "message": event.message,
        "data": event.data,
    }
    return json.dumps(body, separators=(",", ":"), default=str)


# -- input checks ---------------------------------------------------------------------------


def generate_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def check_url(errors: FieldErrors, url: str | None) -> str | None:
    if url is None:
        errors.add("url", "is required")
        return None
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"}:
        errors.add("url", f"must be an http:// or https:// URL (got '{text[:100]}')")
    elif not parts.hostname:
        errors.add("url", "must name a host")
    elif len(text) > MAX_URL:
        errors.add("url", f"must be at most {MAX_URL} characters (got {len(text)})")
    return text


def check_event_types(errors: FieldErrors, values: Iterable[str] | None) -> list[str]:
    """Event types to store: ``[]`` for all (nothing, or ``*``), else the sorted patterns."""
    given = sorted({value.strip() for value in values or ()})
    if not given or ALL_EVENTS in given:
        return []
    unknown = [
        value
        for value in given
        if value not in KNOWN_TYPES and not (value.endswith(".*") and value[:-2] in KNOWN_GROUPS)
    ]
    if unknown:
        errors.add(
            "eventTypes",
            f"unknown event type(s) {', '.join(unknown)}; use '*', a group such as 'run.*', "
            f"or one of {', '.join(sorted(KNOWN_TYPES))}",
        )
    return given


def check_secret(errors: FieldErrors, secret: str | None) -> str | None:
    if secret is not None and not SECRET_MIN <= len(secret) <= SECRET_MAX:
        errors.add(
            "secret",
            f"must be {SECRET_MIN} to {SECRET_MAX} characters (got {len(secret)}); "
            "leave it out to have one generated",
        )
    return secret


def check_first(first: int | None) -> int:
    if first is None:
        return DEFAULT_DELIVERIES
    if not 0 <= first <= MAX_DELIVERIES:
        raise ValidationFailed({"first": f"must be between 0 and {MAX_DELIVERIES} (got {first})"})
    return first


# -- webhooks -------------------------------------------------------------------------------


async def get_webhook(pk: int) -> WebhookRecord:
    row = await Webhook.select().where(Webhook.id == pk).first().output(load_json=True)
    if row is None:
        raise NotFound(f"no webhook '{format_id(Kind.WEBHOOK, pk)}'")
    return WebhookRecord.from_row(row)


async def list_webhooks(*, active_only: bool = False) -> list[WebhookRecord]:
    query = Webhook.select().order_by(Webhook.id)
    if active_only:
        query = query.where(Webhook.active == True)  # noqa: E712 (a SQL expression)
    rows = await query.output(load_json=True)
    return [WebhookRecord.from_row(row) for row in rows]


async def webhook_secret(pk: int) -> str:
    """The signing secret (only the delivery worker and its tests need it)."""
    row = await Webhook.select(Webhook.secret).where(Webhook.id == pk).first()
    if row is None:
        raise NotFound(f"no webhook '{format_id(Kind.WEBHOOK, pk)}'")
    return str(row["secret"])


async def create_webhook(
    db: Database,
    *,
    url: str,
    event_types: Iterable[str] | None = None,
    project_pk: int | None = None,
    description: str | None = None,
    secret: str | None = None,
) -> tuple[WebhookRecord, str | None]:
    """A new active webhook, and its signing secret if one was generated (shown only now).

    It receives the events committed after it was created.
    """
    errors = FieldErrors()
    clean_url = check_url(errors, url)
    types = check_event_types(errors, event_types)
    errors.text("description", description)
    check_secret(errors, secret)
    errors.raise_if_any()
    generated = None if secret is not None else generate_secret()
    async with db.write():
        if project_pk is not None:
            await get_project(project_pk)
        rows = await Webhook.insert(
            Webhook(
                url=clean_url,
                description=description or "",
                secret=secret if secret is not None else generated,
                event_types=json.dumps(types),
                project_id=project_pk,
                active=True,
                last_sequence=await latest_sequence(),
            )
        ).returning(Webhook.id)
    return await get_webhook(rows[0]["id"]), generated


async def update_webhook(
    db: Database,
    *,
    pk: int,
    url: str | None = None,
    event_types: Iterable[str] | None = None,
    project_pk: int | None = None,
    clear_project: bool = False,
    description: str | None = None,
    active: bool | None = None,
    secret: str | None = None,
) -> WebhookRecord:
    """Change a webhook; changes apply to events committed from now on.

    A webhook made active again starts from the current end of the log: events committed
    while it was inactive are not delivered.
    """
    errors = FieldErrors()
    changes: dict[Any, Any] = {}
    if url is not None:
        changes[Webhook.url] = check_url(errors, url)
    if event_types is not None:
        changes[Webhook.event_types] = json.dumps(check_event_types(errors, event_types))
    if description is not None:
        changes[Webhook.description] = errors.text("description", description)
    if secret is not None:
        changes[Webhook.secret] = check_secret(errors, secret)
    errors.raise_if_any()
    async with db.write():
        current = await get_webhook(pk)
        if clear_project:
            changes[Webhook.project_id] = None
        elif project_pk is not None:
            await get_project(project_pk)
            changes[Webhook.project_id] = project_pk
        if active is not None and active != current.active:
            changes[Webhook.active] = active
            if active:
                changes[Webhook.last_sequence] = await latest_sequence()
        if changes:
            changes[Webhook.updated_at] = datetime.now(UTC)
            await Webhook.update(changes).where(Webhook.id == pk)
    return await get_webhook(pk)


async def delete_webhook(db: Database, *, pk: int) -> WebhookRecord:
    """Delete a webhook with its deliveries (pending ones are not sent)."""
    async with db.write():
        record = await get_webhook(pk)
        await Webhook.delete().where(Webhook.id == pk)
    return record


# -- deliveries -----------------------------------------------------------------------------


async def _with_history(rows: list[dict[str, Any]]) -> list[DeliveryRecord]:
    """Delivery records with their attempts, read in one query for all of them."""
    if not rows:
        return []
    attempts = (
        await WebhookAttempt.select()
        .where(WebhookAttempt.delivery.is_in([row["id"] for row in rows]))
        .order_by(WebhookAttempt.number)
    )
    history: dict[int, list[AttemptRecord]] = {}
    for attempt in attempts:
        history.setdefault(attempt["delivery"], []).append(AttemptRecord.from_row(attempt))
    return [DeliveryRecord.from_row(row, history.get(row["id"], ())) for row in rows]


async def get_delivery(pk: int) -> DeliveryRecord:
    row = await WebhookDelivery.select().where(WebhookDelivery.id == pk).first()
    if row is None:
        raise NotFound(f"no webhook delivery '{format_id(Kind.DELIVERY, pk)}'")
    return (await _with_history([row]))[0]


async def list_deliveries(
    webhook_pk: int, *, first: int | None = None, status: DeliveryStatus | None = None
) -> list[DeliveryRecord]:
    """A webhook's most recent deliveries, newest first."""
    limit = check_first(first)
    query = WebhookDelivery.select().where(WebhookDelivery.webhook == webhook_pk)
    if status is not None:
        query = query.where(WebhookDelivery.status == status.value)
    rows = await query.order_by(WebhookDelivery.id, ascending=False).limit(limit)
    return await _with_history(rows)


async def redeliver(db: Database, *, delivery_pk: int) -> DeliveryRecord:
    """A new delivery of the same event, with the same body, to the same webhook, due now."""
    async with db.write():
        original = await get_delivery(delivery_pk)
        hook = await get_webhook(original.webhook_pk)
        if not hook.active:
            raise Conflict(
                f"webhook '{hook.public_id}' is inactive; activate it "
                "(updateWebhook with active: true) before redelivering"
            )
        rows = await WebhookDelivery.insert(
            WebhookDelivery(
                webhook=original.webhook_pk,
                event_sequence=original.event_sequence,
                event_type=original.event_type,
                status=DeliveryStatus.PENDING.value,
                payload=original.payload,
                redelivery_of=original.pk,
                next_attempt_at=datetime.now(UTC),
            )
        ).returning(WebhookDelivery.id)
    return await get_delivery(rows[0]["id"])
