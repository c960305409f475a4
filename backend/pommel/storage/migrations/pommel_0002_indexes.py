"""Composite indexes, created with raw SQL.

Piccolo adds composite constraints with ``ALTER TABLE … ADD CONSTRAINT``, which SQLite lacks, and
runs a migration's raw steps before its new tables exist — hence a migration of its own.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T12:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite unique and keyset indexes"

STATEMENTS = (
    "CREATE UNIQUE INDEX IF NOT EXISTS task_dependency_edge ON task_dependency (task, depends_on)",
    "CREATE UNIQUE INDEX IF NOT EXISTS step_run_run_name ON step_run (run, name)",
    "CREATE INDEX IF NOT EXISTS task_project_id ON task (project, id)",
    "CREATE INDEX IF NOT EXISTS workflow_task_id ON workflow (task, id)",
    "CREATE INDEX IF NOT EXISTS log_line_run_id ON log_line (run, id)",
    "CREATE INDEX IF NOT EXISTS event_run_sequence ON event (run_id, sequence)",
    "CREATE INDEX IF NOT EXISTS event_project_sequence ON event (project_id, sequence)",
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="pommel", description=DESCRIPTION)

    async def create_indexes() -> None:
        # The engine of this migration run (not a table's cached one).
        engine = engine_finder()
        assert engine is not None
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(create_indexes)
    return manager
