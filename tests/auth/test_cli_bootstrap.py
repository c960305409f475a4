"""``pommel api-keys create NAME --scopes …``: the first admin key when every request needs
one, then listing and revoking, all straight on the database."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import anyio
import httpx
import pytest
from asgi_lifespan import LifespanManager

from pommel.app import create_app
from pommel.cli import main
from pommel.config import Settings


def _cli(tmp_path: Path, database_url: str, *args: str) -> int:
    return main(["--config-dir", str(tmp_path), "api-keys", "--database-url", database_url, *args])


async def test_the_bootstrap_key_opens_a_locked_server(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = settings.database_url
    code = await anyio.to_thread.run_sync(
        _cli, tmp_path, url, "create", "ops", "--scopes", "read,write", "admin"
    )
    assert code == 0
    out, err = capsys.readouterr()
    key = out.strip()
    assert re.fullmatch(r"pml_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", key)
    assert "key-1 'ops'" in err and "shown only now" in err

    locked = dataclasses.replace(settings, auth_required=True)
    application = create_app(locked)
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            query = {"query": "{ apiKeys { id name scopes } }"}
            refused = (await http.post("/graphql", json=query)).json()
            assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            headers = {"Authorization": f"Bearer {key}"}
            listed = (await http.post("/graphql", json=query, headers=headers)).json()
            assert listed["data"]["apiKeys"] == [
                {"id": "key-1", "name": "ops", "scopes": ["read", "write", "admin"]}
            ]

    assert await anyio.to_thread.run_sync(_cli, tmp_path, url, "list") == 0
    out, _ = capsys.readouterr()
    assert out.split("\t")[:4] == [
        "key-1",
        f"pml_{key.split('_')[1]}_…",
        "read,write,admin",
        "active",
    ]
    assert key not in out

    assert await anyio.to_thread.run_sync(_cli, tmp_path, url, "revoke", "key-1") == 0
    assert "revoked key-1 'ops'" in capsys.readouterr().out
    assert await anyio.to_thread.run_sync(_cli, tmp_path, url, "list") == 0
    assert "\trevoked\t" in capsys.readouterr().out


async def test_bad_scopes_and_unknown_keys_fail_with_a_message(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = settings.database_url
    code = await anyio.to_thread.run_sync(_cli, tmp_path, url, "create", "x", "--scopes", "root")
    assert code == 2
    _, err = capsys.readouterr()
    assert "unknown scope(s) root" in err
    code = await anyio.to_thread.run_sync(_cli, tmp_path, url, "revoke", "key-7")
    assert code == 2
    assert "no API key 'key-7'" in capsys.readouterr().err


def test_scopes_are_required(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _cli(tmp_path, "sqlite:///x.sqlite", "create", "x")
    assert "--scopes" in capsys.readouterr().err
