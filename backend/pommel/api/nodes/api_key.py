"""``ApiKey``: a stored key as listed (never its secret), and the one-time creation payload."""

from __future__ import annotations

from datetime import datetime

import strawberry

from pommel.services.api_keys import ApiKeyRecord, CreatedApiKey


@strawberry.type(
    name="ApiKey",
    description=(
        "A key for `Authorization: Bearer <key>`. Only its prefix is kept in clear; the key "
        "itself is shown once, by `createApiKey`."
    ),
)
class ApiKeyType:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="The `pml_<prefix>_…` part, to recognise a key.")
    scopes: list[str] = strawberry.field(
        description="Any of `read`, `write`, `execute`, `admin` (`admin` implies all)."
    )
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(
        description="When the key was last used (recorded at most once a minute)."
    )
    revoked_at: datetime | None

    @classmethod
    def from_record(cls, record: ApiKeyRecord) -> ApiKeyType:
        return cls(
            id=strawberry.ID(record.public_id),
            name=record.name,
            prefix=record.prefix,
            scopes=[scope.value for scope in record.scopes],
            created_at=record.created_at,
            last_used_at=record.last_used_at,
            revoked_at=record.revoked_at,
        )


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKeyType
    secret: str = strawberry.field(
        description="The key to send as `Authorization: Bearer <secret>`. Shown only now."
    )

    @classmethod
    def from_created(cls, created: CreatedApiKey) -> CreateApiKeyPayload:
        return cls(api_key=ApiKeyType.from_record(created.record), secret=created.secret)
