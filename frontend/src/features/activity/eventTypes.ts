/** Event types as the server names them (backend/pommel/events/model.py), grouped for filters. */
const TASK = [
  "task.created",
  "task.updated",
  "task.status_changed",
  "task.deleted",
  "task.dependency_added",
  "task.dependency_removed",
];
const PLANNING = [
  "project.created",
  "project.updated",
  "project.deleted",
  "phase.created",
  "phase.updated",
  "phase.deleted",
  ...TASK,
];
const RUNS = [
  "workflow.created",
  "run.queued",
  "run.started",
  "run.resumed",
  "run.cancel_requested",
  "run.finished",
  "step.started",
  "step.finished",
  "project_run.started",
  "project_run.finished",
];
const TEMPLATES = ["template.created", "template.updated", "template.deleted"];

export const EVENT_FILTERS: Array<{ label: string; types: string[] | null }> = [
  { label: "Everything but logs", types: [...PLANNING, ...RUNS, ...TEMPLATES] },
  { label: "Planning", types: PLANNING },
  { label: "Runs", types: RUNS },
  { label: "Templates", types: TEMPLATES },
  { label: "With step logs", types: null },
];
