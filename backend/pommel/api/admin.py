"""Queries and mutations for webhooks and API keys (all need the ``admin`` scope, which the
``Authorization`` extension enforces; resolvers only translate)."""

from __future__ import annotations

import strawberry

from pommel.api.context import Info
from pommel.api.nodes.api_key import ApiKeyType, CreateApiKeyPayload
from pommel.api.nodes.webhook import CreateWebhookPayload, DeliveryType, WebhookType
from pommel.api.planning import Deleted
from pommel.ids import Kind, parse_id
from pommel.services import api_keys, webhooks


@strawberry.input
class CreateWebhookInput:
    url: str = strawberry.field(description="An http:// or https:// URL.")
    event_types: list[str] | None = strawberry.field(
        default=None,
        description="Event types such as `run.finished`, groups such as `task.*`, or `*` "
        "(the default): every event.",
    )
    project_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this project's events."
    )
    description: str | None = None
    secret: str | None = strawberry.field(
        default=None,
        description="The signing secret (16 to 128 characters); generated when left out.",
    )


@strawberry.input(description="Fields to change; an explicit null `projectId` clears it.")
class UpdateWebhookInput:
    url: str | None = None
    event_types: list[str] | None = None
    project_id: strawberry.ID | None = strawberry.UNSET
    description: str | None = None
    active: bool | None = strawberry.field(
        default=None,
        description="Pause (false) or resume (true); a resumed webhook gets events from now on.",
    )
    secret: str | None = strawberry.field(default=None, description="A new signing secret.")


@strawberry.type
class AdminQuery:
    @strawberry.field(description="Every webhook, oldest first. Needs the `admin` scope.")
    async def webhooks(self) -> list[WebhookType]:
        return [WebhookType.from_record(record) for record in await webhooks.list_webhooks()]

    @strawberry.field(description="Every API key (never their secrets), newest first. Admin.")
    async def api_keys(self) -> list[ApiKeyType]:
        return [ApiKeyType.from_record(record) for record in await api_keys.list_api_keys()]


@strawberry.type
class AdminMutation:
    @strawberry.mutation(description="Register an endpoint for signed event deliveries.")
    async def create_webhook(self, info: Info, input: CreateWebhookInput) -> CreateWebhookPayload:
        record, secret = await webhooks.create_webhook(
            info.context.runtime.db,
            url=input.url,
            event_types=input.event_types,
            project_pk=parse_id(input.project_id, Kind.PROJECT) if input.project_id else None,
            description=input.description,
            secret=input.secret,
        )
        return CreateWebhookPayload(webhook=WebhookType.from_record(record), secret=secret)

    @strawberry.mutation
    async def update_webhook(
        self, info: Info, id: strawberry.ID, input: UpdateWebhookInput
    ) -> WebhookType:
        project_given = input.project_id is not strawberry.UNSET
        record = await webhooks.update_webhook(
            info.context.runtime.db,
            pk=parse_id(id, Kind.WEBHOOK),
            url=input.url,
            event_types=input.event_types,
            project_pk=(
                parse_id(input.project_id, Kind.PROJECT)
                if project_given and input.project_id
                else None
            ),
            clear_project=project_given and input.project_id is None,
            description=input.description,
            active=input.active,
            secret=input.secret,
        )
        return WebhookType.from_record(record)

    @strawberry.mutation(description="Delete a webhook and its delivery records.")
    async def delete_webhook(self, info: Info, id: strawberry.ID) -> Deleted:
        await webhooks.delete_webhook(info.context.runtime.db, pk=parse_id(id, Kind.WEBHOOK))
        return Deleted(id=id)

    @strawberry.mutation(
        description="Send a delivery's event again, as a new delivery with the same body."
    )
    async def redeliver_webhook(self, info: Info, delivery_id: strawberry.ID) -> DeliveryType:
        record = await webhooks.redeliver(
            info.context.runtime.db, delivery_pk=parse_id(delivery_id, Kind.DELIVERY)
        )
        info.context.runtime.webhooks.wake()  # due now: no need to wait for the next poll
        return DeliveryType.from_record(record)

    @strawberry.mutation(description="Create an API key; its secret is returned only here.")
    async def create_api_key(self, info: Info, name: str, scopes: list[str]) -> CreateApiKeyPayload:
        created = await api_keys.create_api_key(info.context.runtime.db, name=name, scopes=scopes)
        return CreateApiKeyPayload.from_created(created)

    @strawberry.mutation(description="Revoke an API key; requests using it fail from now on.")
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> ApiKeyType:
        record = await api_keys.revoke_api_key(
            info.context.runtime.db, pk=parse_id(id, Kind.API_KEY)
        )
        return ApiKeyType.from_record(record)
