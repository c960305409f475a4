"""The execution engine: runner, scheduler and executors."""
