import type { Priority, TaskStatus } from "../api/types";
import { humanize, statusKey } from "../lib/format";
import { Badge } from "./Badge";

export function TaskStatusBadge({
  status,
  reason,
}: {
  status: TaskStatus;
  reason?: string | null;
}) {
  return (
    <Badge tone={statusKey(status)} title={reason ?? undefined}>
      <span className="dot" />
      {humanize(status)}
    </Badge>
  );
}

const PRIORITY_MARK: Record<Priority, string> = {
  CRITICAL: "▲▲",
  HIGH: "▲",
  MEDIUM: "■",
  LOW: "▼",
};

export function PriorityBadge({ priority }: { priority: Priority }) {
  return (
    <Badge tone={`priority-${statusKey(priority)}`} title={`${humanize(priority)} priority`}>
      <span aria-hidden="true">{PRIORITY_MARK[priority]}</span> {humanize(priority)}
    </Badge>
  );
}

/** Run and step statuses: queued, running, succeeded, failed, cancelled, pending, skipped. */
export function RunStatusBadge({ status }: { status: string }) {
  const key = statusKey(status);
  return (
    <Badge tone={key}>
      <span className={key === "running" ? "dot pulse" : "dot"} />
      {humanize(key)}
    </Badge>
  );
}

export function AssigneeChip({ assignee }: { assignee: string | null }) {
  if (!assignee) return <span className="muted">Unassigned</span>;
  return (
    <span className="assignee" title={assignee}>
      <span className="avatar" aria-hidden="true">
        {assignee.slice(0, 1).toUpperCase()}
      </span>
      {assignee}
    </span>
  );
}
