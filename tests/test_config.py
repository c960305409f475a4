"""Settings layers and their error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from pommel.config import SettingsError, load_settings


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_defaults_without_any_file(tmp_path: Path) -> None:
    settings = load_settings(config_dir=tmp_path / "none", environ={})
    assert settings.database_url == "sqlite:///pommel.sqlite"
    assert (settings.executor, settings.host, settings.port) == ("auto", "127.0.0.1", 8000)


def test_layers_later_wins(tmp_path: Path) -> None:
    config = tmp_path / "config"
    _write(config / "default.yaml", "port: 8100\nexecutor: local\nworker_concurrency: 2\n")
    _write(config / "dagger.yaml", "executor: dagger\ntemplates_dir: extra\n")
    _write(config / ".env", "POMMEL_PORT=8200\nPOMMEL_SECRET_TOKEN=from-dotenv\n")
    settings = load_settings(
        config_dir=config,
        environ={"POMMEL_WORKER_CONCURRENCY": "7", "POMMEL_SECRET_API": "env"},
        overrides={"port": 9000, "host": None},
    )
    assert settings.executor == "dagger"  # dagger.yaml over default.yaml
    assert settings.templates_dir == Path("extra")
    assert settings.port == 9000  # flag over .env over default.yaml
    assert settings.worker_concurrency == 7  # environment over default.yaml
    assert dict(settings.secrets) == {"TOKEN": "from-dotenv", "API": "env"}
    assert settings.sources["port"] == "the command line"
    assert settings.sources["executor"].endswith("dagger.yaml")


def test_dagger_config_path_from_environment(tmp_path: Path) -> None:
    _write(tmp_path / "elsewhere.yaml", "executor: local\n")
    settings = load_settings(
        config_dir=tmp_path / "config",
        environ={"POMMEL_DAGGER_CONFIG_PATH": str(tmp_path / "elsewhere.yaml")},
    )
    assert settings.executor == "local"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port: abc\n", "invalid setting 'port' in"),
        ("port: 70000\n", "from 1 to 65535"),
        ("executor: docker\n", "expected one of auto, dagger, local"),
        ("database_url: mysql://x\n", "unsupported database URL"),
        ("colour: blue\n", "unknown setting 'colour'"),
        ("- a\n- b\n", "must contain a mapping"),
        ("port: [\n", "cannot parse"),
    ],
)
def test_bad_setting_names_key_and_file(tmp_path: Path, text: str, message: str) -> None:
    _write(tmp_path / "default.yaml", text)
    with pytest.raises(SettingsError, match=message) as caught:
        load_settings(config_dir=tmp_path, environ={})
    assert "default.yaml" in str(caught.value)


def test_bad_environment_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="environment variable POMMEL_PORT"):
        load_settings(config_dir=tmp_path, environ={"POMMEL_PORT": "eighty"})
