"""Who is calling (``Principal``), what each operation needs (the scope policy), and a
per-key rate limit.

The policy is data, kept here in one table: queries and subscriptions need ``read``,
mutations ``write``, the execution mutations ``execute``, and everything about webhooks and
API keys ``admin`` (which implies every scope). The GraphQL layer applies it once per
operation (``pommel.api.authorization``); resolvers never check scopes themselves.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pommel.config import Settings
from pommel.services import api_keys
from pommel.services.api_keys import Scope
from pommel.storage.database import Database

log = logging.getLogger(__name__)

HOW_TO_AUTHENTICATE = (
    "send an API key as `Authorization: Bearer <key>` (over WebSocket: "
    '`{"Authorization": "Bearer <key>"}` as the connection_init payload); create the first '
    "key with `pommel api-keys create NAME --scopes admin`"
)

# Root fields that need more than their operation type's default scope.
EXECUTE_FIELDS = frozenset(
    {
        "executeTaskWorkflow",
        "executeWorkflowsForProject",
        "cancelWorkflowRun",
        "retryWorkflowRun",
        "cancelProjectRun",
    }
)
ADMIN_FIELDS = frozenset(
    {
        "webhooks",
        "apiKeys",
        "createWebhook",
        "updateWebhook",
        "deleteWebhook",
        "redeliverWebhook",
        "createApiKey",
        "revokeApiKey",
    }
)
_DEFAULT_SCOPE = {"query": Scope.READ, "subscription": Scope.READ, "mutation": Scope.WRITE}

# ``last_used_at`` is written at most this often per key: a read must not cost a write.
TOUCH_INTERVAL_S = 60.0


def scope_for(operation: str, root_field: str) -> Scope:
    """The scope a root field of an ``operation`` ("query", "mutation", "subscription") needs.

    Meta fields (``__schema``, ``__type``, ``__typename``) are introspection: ``read``.
    """
    if root_field in ADMIN_FIELDS:
        return Scope.ADMIN
    if root_field in EXECUTE_FIELDS:
        return Scope.EXECUTE
    if root_field.startswith("__"):
        return Scope.READ
    return _DEFAULT_SCOPE.get(operation, Scope.ADMIN)


def required_scopes(operation: str, root_fields: Iterable[str]) -> dict[Scope, list[str]]:
    """Each scope the operation needs, with the root fields that need it."""
    needed: dict[Scope, list[str]] = {}
    for name in root_fields:
        fields = needed.setdefault(scope_for(operation, name), [])
        if name not in fields:
            fields.append(name)
    return needed


@dataclass(frozen=True)
class Principal:
    """The caller of one request or WebSocket connection.

    ``problem`` says why a caller is not authenticated (no key, bad key, revoked key); such a
    principal has no scopes.
    """

    scopes: frozenset[Scope]
    key_pk: int | None = None
    name: str = "local"
    problem: str | None = None

    @classmethod
    def local(cls) -> Principal:
        """Authentication is off: the single local user may do everything."""
        return _LOCAL

    @classmethod
    def unauthenticated(cls, problem: str) -> Principal:
        return cls(scopes=frozenset(), name="anonymous", problem=problem)

    @property
    def authenticated(self) -> bool:
        return self.problem is None

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or Scope.ADMIN in self.scopes

    def missing(self, needed: Mapping[Scope, list[str]]) -> dict[Scope, list[str]]:
        """The part of ``needed`` this principal lacks."""
        return {scope: names for scope, names in needed.items() if not self.allows(scope)}


_LOCAL = Principal(scopes=frozenset(Scope))


class RateLimiter:
    """A token bucket per key: ``burst`` requests at once, refilled at ``per_minute``."""

    def __init__(
        self, *, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # key -> (tokens, updated at)

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: int) -> float | None:
        """Spend one token of ``key``; None if allowed, else seconds until one is available."""
        if not self.enabled:
            return None
        now = self.clock()
        tokens, updated = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - updated) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return None
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate


def retry_after_seconds(wait: float) -> int:
    """A ``Retry-After`` value: whole seconds, at least 1."""
    return max(1, math.ceil(wait))


def key_from_credential(credential: str | None) -> str | None:
    """The key in an ``Authorization`` value (``Bearer <key>``) or a bare key; None if absent."""
    if credential is None:
        return None
    text = credential.strip()
    scheme, _, rest = text.partition(" ")
    if scheme.lower() == "bearer":
        text = rest.strip()
    return text or None


@dataclass
class Authenticator:
    """Turns credentials into principals; owns the rate limiter and ``last_used_at`` writes."""

    db: Database
    settings: Settings
    limiter: RateLimiter = field(init=False)
    _touched: dict[int, float] = field(default_factory=dict, init=False)
    _pending: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(
            per_minute=self.settings.rate_limit_per_minute,
            burst=self.settings.rate_limit_burst,
        )

    @property
    def required(self) -> bool:
        return self.settings.auth_required

    async def authenticate(self, credential: str | None) -> Principal:
        """The principal for ``credential`` (an ``Authorization`` value or a bare key).

        With authentication off every caller is the local user and keys are not looked at.
        """
        if not self.required:
            return Principal.local()
        key = key_from_credential(credential)
        if key is None:
            return Principal.unauthenticated(f"authentication required: {HOW_TO_AUTHENTICATE}")
        record = await api_keys.find_api_key(key)
        if record is None:
            return Principal.unauthenticated(
                "invalid API key: it is malformed or unknown; keys look like "
                "`pml_<prefix>_<secret>` and are shown only once, when created"
            )
        if record.revoked_at is not None:
            return Principal.unauthenticated(
                f"API key '{record.name}' ({record.prefix}) was revoked at "
                f"{record.revoked_at.isoformat()}; use another key"
            )
        self._touch(record.pk)
        return Principal(scopes=frozenset(record.scopes), key_pk=record.pk, name=record.name)

    def _touch(self, pk: int) -> None:
        """Record the use of key ``pk`` in the background, at most once a minute per key."""
        now = time.monotonic()
        last = self._touched.get(pk)
        if last is not None and now - last < TOUCH_INTERVAL_S:
            return
        self._touched[pk] = now
        task = asyncio.create_task(self._write_touch(pk, datetime.now(UTC)))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _write_touch(self, pk: int, at: datetime) -> None:
        try:
            await api_keys.touch_api_key(self.db, pk=pk, at=at)
        except Exception:
            # Bookkeeping only: a failed write must never fail the request that caused it.
            log.warning("could not record the use of API key %s", pk, exc_info=True)

    async def close(self) -> None:
        """Finish pending ``last_used_at`` writes (before the database closes)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)


_PARAM_NAMES = ("authorization", "apikey", "api_key")
CLOSE_REASON_BYTES = 123  # the WebSocket protocol's limit for a close frame's reason


def credential_from_params(params: Mapping[str, object]) -> str | None:
    """The credential in a WebSocket ``connection_init`` payload.

    ``{"Authorization": "Bearer <key>"}`` as on HTTP (any case), or ``{"apiKey": "<key>"}``.
    """
    for name, value in params.items():
        if name.lower() in _PARAM_NAMES and isinstance(value, str):
            return value
    return None


def ws_close_reason(problem: str) -> str:
    """``UNAUTHENTICATED: <problem>``, cut to fit a WebSocket close frame."""
    text = f"UNAUTHENTICATED: {problem}".encode()
    if len(text) > CLOSE_REASON_BYTES:
        text = text[: CLOSE_REASON_BYTES - 3].rstrip() + b"..."
    return text.decode("utf-8", "ignore")
