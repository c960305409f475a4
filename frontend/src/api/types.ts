// Shapes of the results of the operations in schema/operations/dashboard.

export type TaskStatus = "PLANNED" | "IN_PROGRESS" | "COMPLETED" | "BLOCKED" | "CANCELLED";
export type Priority = "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export const TASK_STATUSES: readonly TaskStatus[] = [
  "PLANNED",
  "IN_PROGRESS",
  "BLOCKED",
  "COMPLETED",
  "CANCELLED",
];
export const PRIORITIES: readonly Priority[] = ["CRITICAL", "HIGH", "MEDIUM", "LOW"];

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface ProjectSummary {
  id: string;
  name: string;
  description: string;
  updatedAt: string;
  tasks: { totalCount: number };
  openTasks: { totalCount: number };
}

export interface ProjectListData {
  projects: { totalCount: number; pageInfo: PageInfo; nodes: ProjectSummary[] };
}

export interface TaskRef {
  id: string;
  name: string;
  status: TaskStatus;
}

export interface Phase {
  id: string;
  name: string;
  description: string;
  position: number;
}

export interface BoardTask {
  id: string;
  name: string;
  status: TaskStatus;
  statusReason: string | null;
  priority: Priority;
  assignee: string | null;
  updatedAt: string;
  phase: { id: string } | null;
  dependencies: TaskRef[];
}

export interface ProjectBoardData {
  project: {
    id: string;
    name: string;
    description: string;
    updatedAt: string;
    phases: Phase[];
    tasks: { totalCount: number; pageInfo: PageInfo; nodes: BoardTask[] };
  };
}

export interface TaskDetailData {
  task: {
    id: string;
    name: string;
    description: string;
    status: TaskStatus;
    statusReason: string | null;
    priority: Priority;
    assignee: string | null;
    metadata: JsonObject;
    createdAt: string;
    updatedAt: string;
    project: { id: string; name: string };
    phase: { id: string; name: string } | null;
    dependencies: TaskRef[];
    dependents: TaskRef[];
  };
}

export interface TemplateParameter {
  name: string;
  type: string;
  description: string | null;
  required: boolean;
  default: JsonValue | null;
  enum: JsonValue[] | null;
}

export interface Template {
  id: string;
  name: string;
  description: string;
  category: string;
  tags: string[];
  version: string;
  workflowType: string;
  builtin: boolean;
  parameters: TemplateParameter[];
  source: string;
}

export interface TemplateListData {
  templates: Template[];
}

export interface RunSummary {
  id: string;
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error?: string | null;
}

export interface TaskWorkflowData {
  workflowForTask: {
    id: string;
    name: string;
    type: string;
    parameters: JsonObject;
    createdAt: string;
    template: { id: string; name: string } | null;
    latestRun: RunSummary | null;
    runs: { nodes: RunSummary[] };
  } | null;
}

export interface ProjectWorkflowsData {
  workflows: {
    totalCount: number;
    nodes: Array<{
      id: string;
      name: string;
      type: string;
      task: { id: string; name: string };
      latestRun: RunSummary | null;
    }>;
  };
}

export interface StepRecord {
  name: string;
  status: string;
  exitCode: number | null;
  cached: boolean;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  output: string | null;
  stderr: string | null;
  outputs: JsonObject | null;
}

export interface LogLine {
  step: string;
  stream: string;
  text: string;
  at: string;
}

export interface WorkflowRunData {
  workflowRun: {
    id: string;
    status: string;
    startedAt: string | null;
    finishedAt: string | null;
    durationMs: number | null;
    error: string | null;
    outputs: JsonObject | null;
    steps: StepRecord[];
    logs: { nodes: LogLine[] };
  };
}

export interface WorkflowStatsData {
  workflowStats: {
    total: number;
    byStatus: Array<{ status: string; count: number }>;
    successRate: number | null;
    averageDurationMs: number | null;
    p95DurationMs: number | null;
    cacheHitRate: number | null;
  };
}

/** An event from the log, as the subscriptions deliver it. */
export interface PommelEvent {
  sequence: number;
  type: string;
  at: string;
  runId?: string | null;
  taskId?: string | null;
  projectId?: string | null;
  step?: string | null;
  status?: string | null;
  message?: string | null;
  data?: JsonObject | null;
}
