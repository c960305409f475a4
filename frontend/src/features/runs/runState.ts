import type { JsonObject, PommelEvent } from "../../api/types";

export const FINISHED_RUN = new Set(["succeeded", "failed", "cancelled"]);

export interface LiveStep {
  status: string;
  exitCode: number | null;
  cached: boolean | null;
}

export interface LiveLine {
  key: string;
  step: string;
  stream: string;
  text: string;
  at: string;
}

/** A run as its event stream has told it so far. */
export interface LiveRun {
  status: string | null;
  /** Where the run belongs, as its events say. */
  projectId: string | null;
  taskId: string | null;
  message: string | null;
  steps: Record<string, LiveStep>;
  /** Step names in the order they first appeared. */
  order: string[];
  lines: LiveLine[];
  lastSequence: number;
}

export const emptyLiveRun: LiveRun = {
  status: null,
  projectId: null,
  taskId: null,
  message: null,
  steps: {},
  order: [],
  lines: [],
  lastSequence: -1,
};

/** Keep the log bounded in the browser; the server keeps the whole log. */
export const MAX_LINES = 5000;

function dataValue<T>(data: JsonObject | null | undefined, ...keys: string[]): T | null {
  for (const key of keys) {
    const value = data?.[key];
    if (value !== undefined && value !== null) return value as T;
  }
  return null;
}

function withStep(run: LiveRun, name: string, change: Partial<LiveStep>): LiveRun {
  const known = run.steps[name];
  const step: LiveStep = { status: "pending", exitCode: null, cached: null, ...known, ...change };
  return {
    ...run,
    steps: { ...run.steps, [name]: step },
    order: known ? run.order : [...run.order, name],
  };
}

function logLines(event: PommelEvent): LiveLine[] {
  const text = event.message ?? dataValue<string>(event.data, "text", "line") ?? "";
  const stream = dataValue<string>(event.data, "stream") ?? "stdout";
  // One event may carry several lines; each is shown on its own.
  return text.split("\n").map((line, index) => ({
    key: `${event.sequence}.${index}`,
    step: event.step ?? "",
    stream,
    text: line,
    at: event.at,
  }));
}

/** Fold one event into the run; events at or below the last sequence are ignored. */
export function applyEvent(run: LiveRun, event: PommelEvent): LiveRun {
  if (event.sequence <= run.lastSequence) return run;
  let next: LiveRun = {
    ...run,
    lastSequence: event.sequence,
    projectId: run.projectId ?? event.projectId ?? null,
    taskId: run.taskId ?? event.taskId ?? null,
  };
  const status = event.status?.toLowerCase() ?? null;
  const [scope] = event.type.split(".");
  if (scope === "run" && status) {
    next = { ...next, status, message: event.message || next.message };
  } else if (event.type === "step.log" && event.step) {
    const lines = [...next.lines, ...logLines(event)];
    next = { ...next, lines: lines.length > MAX_LINES ? lines.slice(-MAX_LINES) : lines };
  } else if (scope === "step" && event.step) {
    const change: Partial<LiveStep> = {
      status: status ?? (event.type === "step.started" ? "running" : "succeeded"),
    };
    const exitCode = dataValue<number>(event.data, "exitCode", "exit_code");
    const cached = dataValue<boolean>(event.data, "cached");
    if (exitCode !== null) change.exitCode = exitCode;
    if (cached !== null) change.cached = cached;
    next = withStep(next, event.step, change);
  }
  return next;
}
