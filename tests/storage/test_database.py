"""Migrations and the database engine setup."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pommel.storage import piccolo_app
from pommel.storage.database import Database
from pommel.storage.engines import DatabaseUrlError, engine_from_url
from pommel.storage.tables import Project


async def test_migrations_apply_once_and_enable_wal(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "p.sqlite"
    db = Database(f"sqlite:///{path}")
    await db.connect()
    report = await db.migrate()
    shipped = len(list((Path(piccolo_app.__file__).parent / "migrations").glob("pommel_*.py")))
    assert any(f"{shipped} migrations already complete" in line for line in report), report
    async with db.write():
        await Project.insert(Project(name="x"))
    await db.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        indexes = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")
        }
    assert {"task_dependency_edge", "step_run_run_name", "event_run_sequence"} <= indexes


async def test_write_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.sqlite'}")
    await db.connect()
    with pytest.raises(RuntimeError):
        async with db.write():
            await Project.insert(Project(name="lost"))
            raise RuntimeError("boom")
    assert await Project.count() == 0


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite://", "sqlite:///", "nonsense"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(DatabaseUrlError):
        engine_from_url(url)
