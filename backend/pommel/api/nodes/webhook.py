"""``Webhook``, its ``WebhookDelivery`` records and their attempts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from pommel.ids import Kind, format_id
from pommel.services import webhooks
from pommel.services.webhooks import (
    AttemptRecord,
    DeliveryRecord,
    DeliveryStatus,
    WebhookRecord,
)

strawberry.enum(DeliveryStatus, name="WebhookDeliveryStatus")


@strawberry.type(name="WebhookDeliveryAttempt", description="One HTTP request of a delivery.")
class DeliveryAttemptType:
    number: int
    at: datetime
    duration_ms: int | None
    response_status: int | None = strawberry.field(description="Null when no answer came.")
    error: str | None = strawberry.field(description="Why it failed (timeout, HTTP 500, …).")
    response_body: str = strawberry.field(description="The first 2 KB of the answer.")

    @classmethod
    def from_record(cls, record: AttemptRecord) -> DeliveryAttemptType:
        return cls(
            number=record.number,
            at=record.at,
            duration_ms=record.duration_ms,
            response_status=record.response_status,
            error=record.error,
            response_body=record.response_body,
        )


@strawberry.type(
    name="WebhookDelivery",
    description=(
        "One event sent (or to be sent) to one webhook, with its `Pommel-Delivery` id. "
        "Retried with exponential backoff until delivered or out of attempts."
    ),
)
class DeliveryType:
    id: strawberry.ID
    webhook_id: strawberry.ID
    event_sequence: int
    event_type: str
    status: DeliveryStatus
    attempts: int
    response_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    redelivery_of: strawberry.ID | None = strawberry.field(
        description="The delivery this one repeats (`redeliverWebhook`)."
    )
    payload: JSON = strawberry.field(description="The JSON body, as sent.")
    history: list[DeliveryAttemptType] = strawberry.field(description="Every attempt, in order.")

    @classmethod
    def from_record(cls, record: DeliveryRecord) -> DeliveryType:
        return cls(
            id=strawberry.ID(record.public_id),
            webhook_id=strawberry.ID(format_id(Kind.WEBHOOK, record.webhook_pk)),
            event_sequence=record.event_sequence,
            event_type=record.event_type,
            status=record.status,
            attempts=record.attempts,
            response_status=record.response_status,
            last_error=record.last_error,
            next_attempt_at=record.next_attempt_at,
            created_at=record.created_at,
            delivered_at=record.delivered_at,
            redelivery_of=(
                strawberry.ID(format_id(Kind.DELIVERY, record.redelivery_of))
                if record.redelivery_of is not None
                else None
            ),
            payload=cast(JSON, json.loads(record.payload) if record.payload else None),
            history=[DeliveryAttemptType.from_record(item) for item in record.history],
        )


@strawberry.type(
    name="Webhook",
    description=(
        "An endpoint that receives a signed JSON POST for each matching event "
        '(`Pommel-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`).'
    ),
)
class WebhookType:
    id: strawberry.ID
    url: str
    description: str
    event_types: list[str] = strawberry.field(
        description="Event types (or groups such as `run.*`) delivered; empty means all."
    )
    project_id: strawberry.ID | None = strawberry.field(
        description="Only this project's events, when set."
    )
    active: bool
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[int]

    @classmethod
    def from_record(cls, record: WebhookRecord) -> WebhookType:
        return cls(
            id=strawberry.ID(record.public_id),
            url=record.url,
            description=record.description,
            event_types=list(record.event_types),
            project_id=(
                strawberry.ID(format_id(Kind.PROJECT, record.project_pk))
                if record.project_pk is not None
                else None
            ),
            active=record.active,
            created_at=record.created_at,
            updated_at=record.updated_at,
            pk=record.pk,
        )

    @strawberry.field(description="The most recent deliveries, newest first.")
    async def deliveries(
        self, first: int | None = 20, status: DeliveryStatus | None = None
    ) -> list[DeliveryType]:
        records = await webhooks.list_deliveries(self.pk, first=first, status=status)
        return [DeliveryType.from_record(record) for record in records]


@strawberry.type
class CreateWebhookPayload:
    webhook: WebhookType
    secret: str | None = strawberry.field(
        description=(
            "The generated signing secret, shown only now; null when you supplied `secret`."
        )
    )
