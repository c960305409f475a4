"""Signing webhook deliveries, and verifying them on the receiving side.

Standard library only, so a receiver can copy this file (or import it) without the rest of
Pommel. The scheme, as the ``Pommel-Signature`` header carries it::

    Pommel-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

Signing the timestamp with the body lets a receiver refuse old deliveries (replays); the
``v1`` label leaves room for another scheme later. A header may carry several ``v1`` values
(e.g. while a secret is being rotated); one matching value is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Pommel-Signature"
EVENT_HEADER = "Pommel-Event"
DELIVERY_HEADER = "Pommel-Delivery"
DEFAULT_TOLERANCE_S = 300


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def compute_signature(secret: str, timestamp: int, body: str | bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed with ``secret``."""
    message = str(timestamp).encode("ascii") + b"." + _as_bytes(body)
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: str | bytes, *, timestamp: int | None = None) -> str:
    """The ``Pommel-Signature`` value for ``body`` sent now (or at ``timestamp``)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={compute_signature(secret, t, body)}"


def parse_signature_header(header: str) -> tuple[int | None, list[str]]:
    """``(timestamp, [v1 signatures])`` from a header; ``None`` for a missing timestamp."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    return timestamp, signatures


def verify_signature(
    secret: str,
    header: str | None,
    body: str | bytes,
    tolerance: float = DEFAULT_TOLERANCE_S,
    *,
    now: float | None = None,
) -> bool:
    """Whether ``header`` is a valid ``Pommel-Signature`` of ``body`` made with ``secret``.

    ``body`` must be the raw request body, byte for byte (parse the JSON only afterwards).
    Deliveries signed more than ``tolerance`` seconds away from ``now`` are refused, so a
    captured request cannot be replayed later; ``tolerance=0`` disables that check.
    """
    if not header:
        return False
    timestamp, signatures = parse_signature_header(header)
    if timestamp is None or not signatures:
        return False
    current = time.time() if now is None else now
    if tolerance and abs(current - timestamp) > tolerance:
        return False
    expected = compute_signature(secret, timestamp, body)
    # Constant-time comparison: timing must not reveal how much of a forged value matched.
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
