"""Durations (``timeout``, retry ``backoff``) and retry policies as written in templates."""

from __future__ import annotations

import math
import re

from .model import RetryPolicy

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+")
MAX_RETRIES = 100
_HINT = 'a number of seconds or a duration like "30s", "10m", "1h" or "1h30m"'


class DurationError(ValueError):
    """The value is not a duration; the message says what is expected."""


def parse_duration(value: object, *, allow_zero: bool = False) -> float:
    """Seconds in ``value`` (a number, or text such as ``"90s"``, ``"1h30m"``, ``"250ms"``)."""
    seconds: float
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DurationError(f"expected {_HINT}, got {_shown(value)}")
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        elif _WHOLE.fullmatch(text):
            seconds = sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(text))
        else:
            raise DurationError(f"expected {_HINT}, got {_shown(value)}")
    else:
        try:
            seconds = float(value)
        except OverflowError:
            raise DurationError(f"{_shown(value)} is too large") from None
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not allow_zero):
        limit = "zero or more" if allow_zero else "more than zero"
        raise DurationError(f"must be {limit} seconds, got {_shown(value)}")
    return seconds


def parse_retries(value: object) -> RetryPolicy:
    """``3`` or ``{count: 3, backoff: "5s"}``; a bare count backs off from 1 second."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"count", "backoff"})
        if unknown:
            raise DurationError(f"unknown key '{unknown[0]}' (retries take count and backoff)")
        count = _count(value.get("count", 1))
        backoff = parse_duration(value.get("backoff", 1.0), allow_zero=True)
        return RetryPolicy(count, backoff)
    return RetryPolicy(_count(value), 1.0)


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DurationError(
            f"expected a retry count (0 to {MAX_RETRIES}) or {{count, backoff}}, "
            f"got {_shown(value)}"
        )
    if not 0 <= value <= MAX_RETRIES:
        raise DurationError(f"retry count must be between 0 and {MAX_RETRIES}, got {value}")
    return value


def _shown(value: object) -> str:
    if isinstance(value, str):
        return repr(value[:40])
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {str(value)[:40]}"
