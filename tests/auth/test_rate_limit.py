"""A token bucket per key: ``RATE_LIMITED`` with ``retryAfter`` once the burst is spent."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from pommel.app import create_app
from pommel.config import Settings
from pommel.runtime import Runtime
from pommel.services import api_keys
from pommel.services.auth import RateLimiter, retry_after_seconds
from tests.auth.conftest import KeyClient


@contextlib.asynccontextmanager
async def _serve(settings: Settings) -> AsyncIterator[tuple[KeyClient, Runtime]]:
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield KeyClient(http), application.state.runtime


@pytest.fixture
async def slow_api(settings: Settings) -> AsyncIterator[tuple[KeyClient, Runtime]]:
    limited = dataclasses.replace(
        settings, auth_required=True, rate_limit_per_minute=60, rate_limit_burst=3
    )
    async with _serve(limited) as served:
        yield served


async def test_requests_over_the_burst_are_rate_limited(
    slow_api: tuple[KeyClient, Runtime],
) -> None:
    api, runtime = slow_api
    key = (await api_keys.create_api_key(runtime.db, name="busy", scopes=["read"])).secret
    other = (await api_keys.create_api_key(runtime.db, name="calm", scopes=["read"])).secret
    for _ in range(3):
        assert await api.data("{ __typename }", key=key)
    response = await api.post("{ __typename }", key=key)
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] == 1  # one token per second at 60/minute
    assert response.headers["retry-after"] == "1"
    assert "busy" in error["message"]
    # Buckets are per key.
    assert await api.data("{ __typename }", key=other)


async def test_a_zero_rate_means_no_limit(settings: Settings) -> None:
    unlimited = dataclasses.replace(settings, auth_required=True, rate_limit_per_minute=0)
    async with _serve(unlimited) as (api, runtime):
        key = (await api_keys.create_api_key(runtime.db, name="k", scopes=["read"])).secret
        for _ in range(30):
            assert await api.data("{ __typename }", key=key)


def test_the_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=120, burst=2, clock=lambda: now[0])  # 2 tokens/s
    assert limiter.take(1) is None
    assert limiter.take(1) is None
    wait = limiter.take(1)
    assert wait == pytest.approx(0.5)
    now[0] += 0.5
    assert limiter.take(1) is None
    assert limiter.take(1) == pytest.approx(0.5)
    now[0] += 100  # never more than the burst
    assert limiter.take(1) is None and limiter.take(1) is None and limiter.take(1) is not None
    assert retry_after_seconds(0.01) == 1 and retry_after_seconds(2.2) == 3
