"""``Pommel-Signature``: HMAC-SHA256 of ``"<t>.<body>"``, verified the documented way."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from pommel.events.webhook_delivery import DeliveryPolicy
from pommel.events.webhook_signature import (
    compute_signature,
    parse_signature_header,
    signature_header,
    verify_signature,
)

SECRET = "whsec_test_secret_value"
BODY = b'{"sequence":7,"type":"task.created"}'


def test_the_header_is_the_documented_hmac() -> None:
    header = signature_header(SECRET, BODY, timestamp=1_700_000_000)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert compute_signature(SECRET, 1_700_000_000, BODY.decode()) == expected


def test_a_fresh_signature_verifies() -> None:
    header = signature_header(SECRET, BODY, timestamp=1000)
    assert verify_signature(SECRET, header, BODY, tolerance=300, now=1100)
    assert verify_signature(SECRET, header, BODY.decode(), tolerance=300, now=1100)


@pytest.mark.parametrize(
    ("secret", "body", "now", "tolerance"),
    [
        ("another secret", BODY, 1000, 300),  # wrong secret
        (SECRET, BODY + b" ", 1000, 300),  # body changed by one byte
        (SECRET, BODY, 1301, 300),  # too old: a replay
        (SECRET, BODY, 699, 300),  # from the future
    ],
)
def test_anything_else_does_not(secret: str, body: bytes, now: float, tolerance: float) -> None:
    header = signature_header(SECRET, BODY, timestamp=1000)
    assert not verify_signature(secret, header, body, tolerance=tolerance, now=now)


def test_tolerance_zero_skips_the_age_check() -> None:
    header = signature_header(SECRET, BODY, timestamp=1000)
    assert verify_signature(SECRET, header, BODY, tolerance=0, now=10**9)


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=1000", "t=x,v1=abc", "garbage"])
def test_malformed_headers_do_not_verify(header: str | None) -> None:
    assert not verify_signature(SECRET, header, BODY, now=1000)


def test_one_matching_v1_of_several_is_enough() -> None:
    good = compute_signature(SECRET, 1000, BODY)
    header = f"t=1000, v1={'0' * 64}, v1={good}"
    assert parse_signature_header(header) == (1000, ["0" * 64, good])
    assert verify_signature(SECRET, header, BODY, now=1000)


def test_backoff_doubles_up_to_the_cap_and_honours_retry_after() -> None:
    policy = DeliveryPolicy(backoff_base_s=1.0, backoff_cap_s=10.0)
    delays = [policy.backoff(n) for n in range(1, 7)]
    for delay, base in zip(delays, [1, 2, 4, 8, 10, 10], strict=True):
        assert base <= delay <= base * 1.1 and delay <= 10.0
    assert policy.backoff(1, retry_after=5) == 5
    assert policy.backoff(1, retry_after=60) == 10.0  # a receiver cannot exceed the cap
