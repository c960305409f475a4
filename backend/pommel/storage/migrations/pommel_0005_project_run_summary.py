"""Project runs keep a summary of what happened to each task (skipped, blocked, failed)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-22T23:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "project run summary"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="pommel", description=DESCRIPTION)
    manager.add_column(
        table_class_name="ProjectRun",
        tablename="project_run",
        column_name="summary",
        db_column_name="summary",
        column_class_name="JSON",
        column_class=JSON,
        params={
            "default": "{}",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
