"""The webhook delivery worker: turns committed events into deliveries and sends them.

Two durable steps, each a short transaction, so a restart resumes exactly where it stopped:

1. **Fan-out.** Each webhook keeps a cursor (``webhook.last_sequence``). In one transaction
   the worker reads the events after the lowest active cursor, inserts one delivery (with its
   exact body) for every matching (event, webhook) pair above that webhook's cursor, and moves
   the cursors to the last event read. Events become visible in ``sequence`` order, so a
   cursor never passes an event that could still appear; the deliveries and the cursor move
   commit together, so an event is never turned into a delivery twice, nor skipped. On
   PostgreSQL an advisory lock keeps several server processes from fanning out at once.
2. **Sending.** Due deliveries (``pending`` and ``next_attempt_at`` reached) are *claimed* by
   moving ``next_attempt_at`` past the request timeout (a lease) and counting the attempt;
   only the claimer sends. The outcome is recorded as a ``webhook_attempt`` row and either
   ``delivered``, a retry at ``now + backoff``, or ``failed`` after the last attempt. A process
   that dies mid-request leaves a lease that expires, and the delivery is retried.

Each webhook has its own lane of at most ``concurrency`` requests in flight, and due
deliveries are looked up per webhook, so a slow or dead endpoint only ever delays itself.
The worker wakes after every local commit that appended events, when a request finishes,
when the next retry falls due, and at least every ``poll_interval_s`` (other processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from pommel import __version__
from pommel.config import Settings
from pommel.events.log import latest_sequence, read_after
from pommel.events.webhook_signature import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    signature_header,
)
from pommel.ids import Kind, format_id
from pommel.services.webhooks import DeliveryStatus, event_payload, list_webhooks
from pommel.storage.database import Database
from pommel.storage.tables import Webhook, WebhookAttempt, WebhookDelivery

log = logging.getLogger(__name__)

FANOUT_BATCH = 500
INSERT_CHUNK = 500  # rows per INSERT: stays far below SQLite's bound-parameter limit
LEASE_MARGIN_S = 5.0
RESPONSE_EXCERPT_BYTES = 2048
STOP_GRACE_S = 2.0
PRUNE_INTERVAL_S = 3600.0
FANOUT_LOCK = ("webhook-fanout", 0)
WEBHOOK_HEADER = "Pommel-Webhook"


@dataclass(frozen=True)
class DeliveryPolicy:
    """Timeouts, retries and concurrency of webhook delivery."""

    timeout_s: float = 10.0
    backoff_base_s: float = 10.0
    backoff_cap_s: float = 3600.0
    max_attempts: int = 10
    concurrency: int = 4
    poll_interval_s: float = 2.0
    retention_days: int = 30  # finished deliveries older than this are deleted; 0 keeps all

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            timeout_s=settings.webhook_timeout_s,
            backoff_base_s=settings.webhook_backoff_base_s,
            backoff_cap_s=settings.webhook_backoff_cap_s,
            max_attempts=settings.webhook_max_attempts,
            concurrency=settings.webhook_concurrency,
            poll_interval_s=settings.webhook_poll_interval_s,
            retention_days=settings.event_retention_days,
        )

    def backoff(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds before the next attempt, after ``attempts`` failed ones.

        Doubles from ``backoff_base_s`` up to ``backoff_cap_s``, plus up to 10% jitter so that
        receivers recovering from an outage are not hit by every retry at once; a receiver's
        ``Retry-After`` is honoured (within the cap).
        """
        delay = self.backoff_base_s * 2.0 ** min(attempts - 1, 60)
        delay = min(self.backoff_cap_s, delay * random.uniform(1.0, 1.1))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_cap_s))
        return delay


@dataclass(frozen=True)
class _Target:
    """What sending to one webhook needs, read fresh on every dispatch."""

    pk: int
    url: str
    secret: str


@dataclass(frozen=True)
class _Outcome:
    started: datetime
    duration_ms: int
    status: int | None
    error: str | None
    body: str
    retry_after: float | None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None


class WebhookWorker:
    """Delivers events to webhooks in the background; ``start`` and ``stop`` with the app."""

    def __init__(
        self,
        db: Database,
        policy: DeliveryPolicy | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.db = db
        self.policy = policy or DeliveryPolicy()
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unlisten: Any = None
        self._stopping = False
        self._pruned_at: float | None = None
        self._inflight: dict[int, dict[int, asyncio.Task[None]]] = {}  # hook -> delivery -> task

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        if self._loop is not None:
            raise RuntimeError("the webhook worker is already started")
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stopping = False
        self._client = httpx.AsyncClient(
            transport=self._transport,
            timeout=httpx.Timeout(self.policy.timeout_s),
            follow_redirects=False,  # a redirect is an answer, not a delivery
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=20),
            headers={"User-Agent": f"Pommel/{__version__}"},
        )
        self._unlisten = self.db.on_events_committed(self.wake)
        self._task = asyncio.create_task(self._run(), name="webhook-worker")

    async def stop(self) -> None:
        """Stop dispatching; give requests in flight a moment, then interrupt them.

        An interrupted delivery is recorded as such and falls due again at once, so the next
        start sends it again (the receiver may have seen it: deduplicate on the delivery id).
        """
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        if self._task is not None:
            # Let the loop finish its pass: cancelling it inside a query would leave the
            # SQLite driver's thread answering a loop that may be closed by then.
            self._stopping = True
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=STOP_GRACE_S)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        sends = [task for lane in self._inflight.values() for task in lane.values()]
        if sends:
            _, pending = await asyncio.wait(sends, timeout=STOP_GRACE_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._loop = None

    def wake(self) -> None:
        """Look for work now (safe from any thread; runs in writers' commit path)."""
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            with contextlib.suppress(RuntimeError):  # our loop is already closed
                loop.call_soon_threadsafe(self._wake.set)

    @property
    def in_flight(self) -> int:
        return sum(len(lane) for lane in self._inflight.values())

    # -- the loop -----------------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            self._wake.clear()  # before working: a wake during the work is kept
            try:
                await self.fan_out()
                wait = await self.dispatch()
                await self._prune_now_and_then()
                failures = 0
            except Exception:
                failures += 1
                wait = min(5.0, 0.1 * 2**failures)  # pace retries against a failing database
                log.exception("webhook worker: a pass failed; retrying in %.1fs", wait)
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def fan_out(self) -> int:
        """Record a delivery for every new (event, webhook) match; returns how many."""
        created = 0
        while True:
            # Read-only first: with no webhook behind, no write lock is taken at all (on
            # SQLite it would queue every writer behind a transaction that does nothing).
            if not await self._behind():
                return created
            async with self.db.write():
                await self.db.lock(FANOUT_LOCK)
                hooks = await list_webhooks(active_only=True)
                if not hooks:
                    return created
                events = await read_after(
                    after=min(hook.last_sequence for hook in hooks), limit=FANOUT_BATCH
                )
                if not events:
                    return created
                now = datetime.now(UTC)
                rows = [
                    WebhookDelivery(
                        webhook=hook.pk,
                        event_sequence=event.sequence,
                        event_type=event.type,
                        status=DeliveryStatus.PENDING.value,
                        payload=event_payload(event),
                        next_attempt_at=now,
                    )
                    for event in events
                    for hook in hooks
                    if event.sequence > hook.last_sequence and hook.wants(event)
                ]
                for start in range(0, len(rows), INSERT_CHUNK):
                    await WebhookDelivery.insert(*rows[start : start + INSERT_CHUNK])
                high = events[-1].sequence
                await Webhook.update({Webhook.last_sequence: high}).where(
                    (Webhook.active == True)  # noqa: E712 (a SQL expression)
                    & (Webhook.last_sequence < high)
                )
                created += len(rows)
            if len(events) < FANOUT_BATCH:
                return created

    async def _behind(self) -> bool:
        """Whether some active webhook's cursor is behind the end of the log."""
        lowest = (
            await Webhook.select(Webhook.last_sequence)
            .where(Webhook.active == True)  # noqa: E712 (a SQL expression)
            .order_by(Webhook.last_sequence)
            .first()
        )
        return lowest is not None and int(lowest["last_sequence"]) < await latest_sequence()

    async def dispatch(self) -> float:
        """Start sending what is due, lane by lane; returns how long to sleep at most."""
        targets = await self._targets()
        now = datetime.now(UTC)
        open_lanes: list[int] = []
        for target in targets:
            lane = self._inflight.setdefault(target.pk, {})
            free = self.policy.concurrency - len(lane)
            if free > 0 and not self._stopping:
                for row in await self._claim(target.pk, now, free):
                    task = asyncio.create_task(
                        self._deliver(target, row), name=f"webhook-{row['id']}"
                    )
                    lane[row["id"]] = task
            if len(lane) < self.policy.concurrency:
                open_lanes.append(target.pk)
        return await self._until_next_due(open_lanes)

    async def _targets(self) -> list[_Target]:
        rows = await Webhook.select(Webhook.id, Webhook.url, Webhook.secret).where(
            Webhook.active == True  # noqa: E712 (a SQL expression)
        )
        return [_Target(pk=row["id"], url=row["url"], secret=row["secret"]) for row in rows]

    async def _claim(self, hook_pk: int, now: datetime, limit: int) -> list[dict[str, Any]]:
        """Take up to ``limit`` due deliveries of a webhook: lease them and count the attempt."""
        due = (
            await WebhookDelivery.select(WebhookDelivery.id)
            .where(
                (WebhookDelivery.webhook == hook_pk)
                & (WebhookDelivery.status == DeliveryStatus.PENDING.value)
                & (WebhookDelivery.next_attempt_at <= now)
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
        )
        if not due:
            return []
        lease = now + timedelta(seconds=self.policy.timeout_s + LEASE_MARGIN_S)
        async with self.db.write():
            # The conditions again: another process may have claimed some meanwhile.
            claimed: list[dict[str, Any]] = (
                await WebhookDelivery.update(
                    {
                        WebhookDelivery.next_attempt_at: lease,
                        WebhookDelivery.attempts: WebhookDelivery.attempts + 1,
                    }
                )
                .where(
                    WebhookDelivery.id.is_in([row["id"] for row in due])
                    & (WebhookDelivery.status == DeliveryStatus.PENDING.value)
                    & (WebhookDelivery.next_attempt_at <= now)
                )
                .returning(
                    WebhookDelivery.id,
                    WebhookDelivery.attempts,
                    WebhookDelivery.event_type,
                    WebhookDelivery.payload,
                )
            )
        return sorted(claimed, key=lambda row: int(row["id"]))

    async def _until_next_due(self, hook_pks: list[int]) -> float:
        wait = self.policy.poll_interval_s
        if not hook_pks:
            return wait
        row = (
            await WebhookDelivery.select(WebhookDelivery.next_attempt_at)
            .where(
                WebhookDelivery.webhook.is_in(hook_pks)
                & (WebhookDelivery.status == DeliveryStatus.PENDING.value)
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .first()
        )
        if row is not None and row["next_attempt_at"] is not None:
            due_in = (row["next_attempt_at"] - datetime.now(UTC)).total_seconds()
            # Never spin: something due "now" that could not be claimed belongs to another
            # process's lease or a race, and the poll catches it.
            wait = min(wait, max(due_in, 0.05))
        return wait

    async def prune(self, *, now: datetime | None = None) -> int:
        """Delete delivered and failed deliveries older than the retention; returns how many.

        Pending ones always stay. Each delivery keeps its body, so without this the table
        would hold a copy of every event per webhook forever.
        """
        if not self.policy.retention_days:
            return 0
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.policy.retention_days)
        async with self.db.write():
            rows = (
                await WebhookDelivery.delete()
                .where(
                    (WebhookDelivery.created_at < cutoff)
                    & (WebhookDelivery.status != DeliveryStatus.PENDING.value)
                )
                .returning(WebhookDelivery.id)
            )
        return len(rows)

    async def _prune_now_and_then(self) -> None:
        clock = time.monotonic()
        if self._pruned_at is None or clock - self._pruned_at >= PRUNE_INTERVAL_S:
            self._pruned_at = clock
            if deleted := await self.prune():
                log.info("webhook worker: deleted %d old deliveries", deleted)

    # -- one attempt --------------------------------------------------------------------

    async def _deliver(self, target: _Target, row: dict[str, Any]) -> None:
        delivery_pk, attempt = int(row["id"]), int(row["attempts"])
        started = datetime.now(UTC)
        try:
            outcome = await self._post(target, delivery_pk, row["event_type"], row["payload"])
            await self._record(delivery_pk, attempt, outcome)
        except asyncio.CancelledError:
            interrupted = _Outcome(started, 0, None, "interrupted: the server stopped", "", None)
            await self._record(delivery_pk, attempt, interrupted, retry_now=True)
            raise
        except Exception:
            log.exception("webhook worker: delivery %s failed unexpectedly", delivery_pk)
        finally:
            self._inflight.get(target.pk, {}).pop(delivery_pk, None)
            self.wake()  # a lane has room again

    async def _post(
        self, target: _Target, delivery_pk: int, event_type: str, payload: str
    ) -> _Outcome:
        assert self._client is not None
        body = payload.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(target.secret, body),
            EVENT_HEADER: event_type,
            DELIVERY_HEADER: format_id(Kind.DELIVERY, delivery_pk),
            WEBHOOK_HEADER: format_id(Kind.WEBHOOK, target.pk),
        }
        started, clock = datetime.now(UTC), time.monotonic()
        status: int | None = None
        error: str | None = None
        excerpt = b""
        retry_after: float | None = None
        try:
            # httpx's timeout applies per read; this bounds the whole exchange, so a receiver
            # trickling its answer cannot hold a lane past the timeout either.
            async with asyncio.timeout(self.policy.timeout_s):
                request = self._client.stream("POST", target.url, content=body, headers=headers)
                async with request as response:
                    status = response.status_code
                    retry_after = _retry_after(response)
                    async for chunk in response.aiter_bytes():
                        excerpt += chunk
                        if len(excerpt) >= RESPONSE_EXCERPT_BYTES:
                            break
        except TimeoutError:
            status, error = None, f"timed out after {self.policy.timeout_s:g}s"
        except httpx.HTTPError as exc:
            status, error = None, f"{type(exc).__name__}: {exc}".rstrip(": ")
        if status is not None and not 200 <= status < 300:
            error = f"HTTP {status}"
        return _Outcome(
            started=started,
            duration_ms=int((time.monotonic() - clock) * 1000),
            status=status,
            error=error,
            body=excerpt[:RESPONSE_EXCERPT_BYTES].decode("utf-8", "replace"),
            retry_after=retry_after,
        )

    async def _record(
        self, delivery_pk: int, attempt: int, outcome: _Outcome, *, retry_now: bool = False
    ) -> None:
        now = datetime.now(UTC)
        changes: dict[Any, Any] = {
            WebhookDelivery.response_status: outcome.status,
            WebhookDelivery.last_error: outcome.error,
        }
        if outcome.delivered:
            changes[WebhookDelivery.status] = DeliveryStatus.DELIVERED.value
            changes[WebhookDelivery.delivered_at] = now
            changes[WebhookDelivery.next_attempt_at] = None
        elif retry_now:
            changes[WebhookDelivery.next_attempt_at] = now
        elif attempt >= self.policy.max_attempts:
            changes[WebhookDelivery.status] = DeliveryStatus.FAILED.value
            changes[WebhookDelivery.next_attempt_at] = None
        else:
            delay = self.policy.backoff(attempt, outcome.retry_after)
            changes[WebhookDelivery.next_attempt_at] = now + timedelta(seconds=delay)
        async with self.db.write():
            exists = await WebhookDelivery.exists().where(WebhookDelivery.id == delivery_pk)
            if not exists:
                return  # deleted with its webhook while it was being sent
            await WebhookAttempt.insert(
                WebhookAttempt(
                    delivery=delivery_pk,
                    number=attempt,
                    at=outcome.started,
                    duration_ms=outcome.duration_ms,
                    response_status=outcome.status,
                    error=outcome.error,
                    response_body=outcome.body,
                )
            )
            await WebhookDelivery.update(changes).where(WebhookDelivery.id == delivery_pk)
        if not outcome.delivered:
            log.info(
                "webhook delivery %s attempt %d failed: %s",
                format_id(Kind.DELIVERY, delivery_pk),
                attempt,
                outcome.error,
            )
