"""Piccolo app registration: where Pommel's tables and migrations live."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from pommel.storage.tables import ALL_TABLES

APP_CONFIG = AppConfig(
    app_name="pommel",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=list(ALL_TABLES),
    migration_dependencies=[],
    commands=[],
)
