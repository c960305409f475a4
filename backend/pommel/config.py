"""Settings, layered: ``config/default.yaml`` < the Dagger settings file < ``config/.env`` <
``POMMEL_*`` environment variables < command-line flags.

Every value is checked when loaded; a bad one stops start-up with a ``SettingsError`` that names
the key and where it came from.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from dotenv import dotenv_values

from pommel.storage.engines import DEFAULT_DATABASE_URL, DatabaseUrlError, engine_from_url

ENV_PREFIX = "POMMEL_"
EXECUTORS = ("auto", "dagger", "local")


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the key and its source."""


@dataclass(frozen=True)
class Settings:
    """Everything a Pommel process is configured with."""

    database_url: str = DEFAULT_DATABASE_URL
    executor: str = "auto"
    host: str = "127.0.0.1"
    port: int = 8000
    templates_dir: Path | None = None
    builtin_templates_dir: Path | None = None
    dagger_config_path: Path = Path("config/dagger.yaml")
    work_dir: Path = Path(".pommel/work")
    worker_concurrency: int = 4
    auth_required: bool = False
    allowed_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]")
    secrets: Mapping[str, str] = field(default_factory=dict)
    event_retention_days: int = 30
    event_retention_count: int = 1_000_000
    max_query_depth: int = 12
    max_query_tokens: int = 5_000
    max_query_aliases: int = 30
    # Per API key token bucket: sustained requests per minute and burst size (0 = no limit).
    rate_limit_per_minute: int = 1200
    rate_limit_burst: int = 200
    # Webhook delivery: per-request timeout, exponential backoff (base * 2^(n-1), capped),
    # attempts before a delivery is marked failed, in-flight requests per webhook, and how
    # often the worker looks for work it was not woken for (other processes, due retries).
    webhook_timeout_s: float = 10.0
    webhook_backoff_base_s: float = 10.0
    webhook_backoff_cap_s: float = 3600.0
    webhook_max_attempts: int = 10
    webhook_concurrency: int = 4
    webhook_poll_interval_s: float = 2.0
    log_level: str = "INFO"
    sources: Mapping[str, str] = field(default_factory=dict)


def _text(value: Any) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    return str(value)


def _int(low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError("expected an integer, got a boolean")
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError(f"expected an integer, got '{value}'") from None
        if not low <= number <= high:
            raise ValueError(f"expected an integer from {low} to {high}, got {number}")
        return number

    return parse


def _float(low: float, high: float) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError("expected a number, got a boolean")
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ValueError(f"expected a number, got '{value}'") from None
        if not low <= number <= high:
            raise ValueError(f"expected a number from {low:g} to {high:g}, got {number:g}")
        return number

    return parse


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got '{value}'")


def _choice(*options: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _text(value).strip().lower()
        if text not in options:
            raise ValueError(f"expected one of {', '.join(options)}, got '{value}'")
        return text

    return parse


def _path(value: Any) -> Path:
    text = _text(value).strip()
    if not text:
        raise ValueError("expected a path, got an empty string")
    return Path(text).expanduser()


def _optional_path(value: Any) -> Path | None:
    return None if value is None or str(value).strip() == "" else _path(value)


def _list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list):
        return tuple(_text(item) for item in value)
    raise ValueError(f"expected a list or comma-separated string, got {type(value).__name__}")


def _database_url(value: Any) -> str:
    url = _text(value).strip()
    try:
        engine_from_url(url)
    except DatabaseUrlError as exc:
        raise ValueError(str(exc)) from None
    return url


def _secrets(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError(
            f"expected a mapping of secret names to values, got {type(value).__name__}"
        )
    return {_text(key): _text(item) for key, item in value.items()}


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "database_url": _database_url,
    "executor": _choice(*EXECUTORS),
    "host": _text,
    "port": _int(1, 65535),
    "templates_dir": _optional_path,
    "builtin_templates_dir": _optional_path,
    "dagger_config_path": _path,
    "work_dir": _path,
    "worker_concurrency": _int(1, 256),
    "auth_required": _bool,
    "allowed_origins": _list,
    "allowed_hosts": _list,
    "secrets": _secrets,
    "event_retention_days": _int(0, 36_500),
    "event_retention_count": _int(0, 10**12),
    "max_query_depth": _int(1, 100),
    "max_query_tokens": _int(10, 10**6),
    "max_query_aliases": _int(1, 10_000),
    "rate_limit_per_minute": _int(0, 10**7),
    "rate_limit_burst": _int(1, 10**6),
    "webhook_timeout_s": _float(0.05, 300),
    "webhook_backoff_base_s": _float(0.001, 86_400),
    "webhook_backoff_cap_s": _float(0.001, 7 * 86_400),
    "webhook_max_attempts": _int(1, 100),
    "webhook_concurrency": _int(1, 64),
    "webhook_poll_interval_s": _float(0.01, 3600),
    "log_level": _choice("debug", "info", "warning", "error"),
}


def _apply(
    values: dict[str, Any], sources: dict[str, str], raw: Mapping[str, Any], source: str
) -> None:
    for key, value in raw.items():
        parser = _PARSERS.get(key)
        if parser is None:
            known = ", ".join(sorted(_PARSERS))
            raise SettingsError(f"unknown setting '{key}' in {source} (known: {known})")
        try:
            parsed = parser(value)
        except ValueError as exc:
            raise SettingsError(f"invalid setting '{key}' in {source}: {exc}") from None
        if key == "secrets":
            parsed = {**values.get("secrets", {}), **parsed}
        values[key] = parsed
        sources[key] = source


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SettingsError(f"cannot parse {path}: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path} must contain a mapping of settings, not {type(data).__name__}")
    return data


def _from_environ(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """``POMMEL_<KEY>`` settings, and ``POMMEL_SECRET_<NAME>`` secrets."""
    settings: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or value is None:
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key.startswith("secret_"):
            secrets[name[len(ENV_PREFIX) + len("SECRET_") :]] = value
        elif key in _PARSERS and key != "secrets":
            settings[key] = value
    return settings, secrets


def load_settings(
    *,
    config_dir: Path = Path("config"),
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read every layer, later ones winning; raise ``SettingsError`` on the first bad value."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    default_file = config_dir / "default.yaml"
    if default_file.is_file():
        _apply(values, sources, _read_yaml(default_file), str(default_file))

    env_settings, env_secrets = _from_environ(environ)
    dotenv_file = config_dir / ".env"
    dotenv: dict[str, str] = {}
    if dotenv_file.is_file():
        dotenv = {k: v for k, v in dotenv_values(dotenv_file).items() if v is not None}

    dagger_path = env_settings.get("dagger_config_path") or dotenv.get("POMMEL_DAGGER_CONFIG_PATH")
    dagger_file = (
        Path(dagger_path)
        if dagger_path
        else values.get("dagger_config_path", config_dir / "dagger.yaml")
    )
    if dagger_file.is_file():
        _apply(values, sources, _read_yaml(dagger_file), str(dagger_file))

    if dotenv:
        dotenv_settings, dotenv_secrets = _from_environ(dotenv)
        _apply(values, sources, dotenv_settings, str(dotenv_file))
        if dotenv_secrets:
            _apply(values, sources, {"secrets": dotenv_secrets}, str(dotenv_file))

    for key, value in env_settings.items():
        _apply(values, sources, {key: value}, f"environment variable {ENV_PREFIX}{key.upper()}")
    if env_secrets:
        _apply(values, sources, {"secrets": env_secrets}, "environment (POMMEL_SECRET_*)")

    if overrides:
        _apply(
            values,
            sources,
            {k: v for k, v in overrides.items() if v is not None},
            "the command line",
        )
    return dataclasses.replace(Settings(), **values, sources=sources)
