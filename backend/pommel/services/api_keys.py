"""API keys: create (the secret is shown once), list, revoke, and find the key a client sent.

A key reads ``pml_<prefix>_<secret>``: ``prefix`` (8 hex digits) is stored in clear so a key
can be found with one indexed lookup and recognised in lists; ``secret`` is 32 random bytes.
Only the SHA-256 of the whole key is stored. A slow password hash is not needed here: with 256
bits of randomness there is nothing to guess, and a fast hash keeps every request cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pommel.errors import NotFound
from pommel.ids import Kind, format_id
from pommel.services.records import load_json_list
from pommel.services.validation import FieldErrors
from pommel.storage.database import Database
from pommel.storage.tables import ApiKey

KEY_PATTERN = re.compile(r"^pml_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")


class Scope(StrEnum):
    """What a key may do; ``admin`` implies every other scope."""

    READ = "read"
    WRITE = "write"
    EXECUTE = "execute"
    ADMIN = "admin"


SCOPE_NAMES = ", ".join(scope.value for scope in Scope)


@dataclass(frozen=True)
class ApiKeyRecord:
    """A stored key, without anything that would let one use it."""

    pk: int
    name: str
    prefix: str
    scopes: tuple[Scope, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def public_id(self) -> str:
        return format_id(Kind.API_KEY, self.pk)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ApiKeyRecord:
        names = load_json_list(row["scopes"])
        return cls(
            pk=row["id"],
            name=row["name"],
            prefix=row["prefix"],
            scopes=tuple(scope for scope in Scope if scope.value in names),
            created_at=row["created_at"],
            last_used_at=row["last_used_at"],
            revoked_at=row["revoked_at"],
        )


@dataclass(frozen=True)
class CreatedApiKey:
    """A new key with its secret: the only time the secret exists outside the client."""

    record: ApiKeyRecord
    secret: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> tuple[str, str]:
    """A fresh ``(prefix, key)``."""
    prefix = secrets.token_hex(4)
    return prefix, f"pml_{prefix}_{secrets.token_urlsafe(32)}"


def check_scopes(errors: FieldErrors, values: Iterable[str] | None) -> list[Scope]:
    """The scopes named in ``values``, deduplicated, in canonical order."""
    given = [value.strip().lower() for value in values or ()]
    if not given:
        errors.add("scopes", f"give at least one scope ({SCOPE_NAMES})")
        return []
    known = {scope.value for scope in Scope}
    unknown = sorted({value for value in given if value not in known})
    if unknown:
        errors.add("scopes", f"unknown scope(s) {', '.join(unknown)}; use {SCOPE_NAMES}")
        return []
    return [scope for scope in Scope if scope.value in given]


async def get_api_key(pk: int) -> ApiKeyRecord:
    row = await ApiKey.select().where(ApiKey.id == pk).first().output(load_json=True)
    if row is None:
        raise NotFound(f"no API key '{format_id(Kind.API_KEY, pk)}'")
    return ApiKeyRecord.from_row(row)


async def list_api_keys() -> list[ApiKeyRecord]:
    """Every key, newest first (revoked ones included: ``revokedAt`` tells them apart)."""
    rows = await ApiKey.select().order_by(ApiKey.id, ascending=False).output(load_json=True)
    return [ApiKeyRecord.from_row(row) for row in rows]


async def create_api_key(db: Database, *, name: str, scopes: Iterable[str]) -> CreatedApiKey:
    errors = FieldErrors()
    clean_name = errors.name("name", name)
    clean_scopes = check_scopes(errors, scopes)
    errors.raise_if_any()
    prefix, key = generate_key()
    async with db.write():
        rows = await ApiKey.insert(
            ApiKey(
                name=clean_name,
                prefix=prefix,
                secret_hash=hash_key(key),
                scopes=json.dumps([scope.value for scope in clean_scopes]),
            )
        ).returning(ApiKey.id)
    return CreatedApiKey(record=await get_api_key(rows[0]["id"]), secret=key)


async def revoke_api_key(db: Database, *, pk: int) -> ApiKeyRecord:
    """Revoke a key at once; revoking a revoked key changes nothing."""
    async with db.write():
        record = await get_api_key(pk)
        if record.revoked_at is None:
            await ApiKey.update({ApiKey.revoked_at: datetime.now(UTC)}).where(ApiKey.id == pk)
    return await get_api_key(pk)


async def find_api_key(key: str) -> ApiKeyRecord | None:
    """The stored key ``key`` is, revoked or not; None for a malformed or unknown key."""
    match = KEY_PATTERN.match(key)
    if match is None:
        return None
    digest = hash_key(key)
    rows = await ApiKey.select().where(ApiKey.prefix == match.group(1)).output(load_json=True)
    # Prefixes are not unique; compare every candidate in constant time.
    found = [row for row in rows if hmac.compare_digest(row["secret_hash"], digest)]
    return ApiKeyRecord.from_row(found[0]) if found else None


async def touch_api_key(db: Database, *, pk: int, at: datetime) -> None:
    """Record that key ``pk`` was used at ``at``."""
    async with db.write():
        await ApiKey.update({ApiKey.last_used_at: at}).where(ApiKey.id == pk)
