"""Worker leases on runs, reuse of step outcomes by retries, and the run engine's indexes.

``claimed_by``/``heartbeat_at``: the worker executing a run and when it last said so; a run is
only resumed by another worker once that lease has expired. ``reused_from``: the run whose
outcome a step of a retry reused. Piccolo runs raw steps before it adds columns, so the
indexes here only cover columns that already exist (``claimed_by`` gets its own index).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Timestamptz, Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

ID = "2026-11-22T14:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "run leases, reused step outcomes, run engine indexes"

STATEMENTS = (
    # The worker's queue: queued runs in id order.
    "CREATE INDEX IF NOT EXISTS workflow_run_status_id ON workflow_run (status, id)",
    # Latest run / runs of a workflow, newest first.
    "CREATE INDEX IF NOT EXISTS workflow_run_workflow_id ON workflow_run (workflow, id)",
    # Child runs of a composite run.
    "CREATE INDEX IF NOT EXISTS workflow_run_parent_run ON workflow_run (parent_run)",
    # One step's log, in order.
    "CREATE INDEX IF NOT EXISTS log_line_run_step_id ON log_line (run, step, id)",
)


def _params(**given: object) -> dict[str, object]:
    return {
        "null": True,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **given,
    }


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="pommel", description=DESCRIPTION)

    async def create_indexes() -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(create_indexes)
    manager.add_column(
        table_class_name="WorkflowRun",
        tablename="workflow_run",
        column_name="claimed_by",
        db_column_name="claimed_by",
        column_class_name="Varchar",
        column_class=Varchar,
        params=_params(length=100, default=None, index=True),
        schema=None,
    )
    manager.add_column(
        table_class_name="WorkflowRun",
        tablename="workflow_run",
        column_name="heartbeat_at",
        db_column_name="heartbeat_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params=_params(default=None),
        schema=None,
    )
    manager.add_column(
        table_class_name="StepRun",
        tablename="step_run",
        column_name="reused_from",
        db_column_name="reused_from",
        column_class_name="Integer",
        column_class=Integer,
        params=_params(default=None),
        schema=None,
    )
    return manager
