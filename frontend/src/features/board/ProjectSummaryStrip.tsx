import { useQuery } from "urql";

import { WorkflowStats } from "../../api/operations";
import type { BoardTask, WorkflowStatsData } from "../../api/types";
import { useRefetchOn } from "../../api/useRefetchOn";
import { formatDuration, formatPercent } from "../../lib/format";

interface Props {
  projectId: string;
  tasks: BoardTask[];
  total: number;
  /** Changes whenever a live event arrives, to refresh the run statistics. */
  refreshKey: number;
}

function Stat({ label, value, tone }: { label: string; value: string | number; tone?: string }) {
  return (
    <div className={tone ? `stat tone-${tone}` : "stat"}>
      <span className="stat-value">{value}</span>
      <span className="stat-label">{label}</span>
    </div>
  );
}

/** Task counts at a glance, and the project's run statistics when the server has them. */
export function ProjectSummaryStrip({ projectId, tasks, total, refreshKey }: Props) {
  const [{ data }, refetch] = useQuery<WorkflowStatsData>({
    query: WorkflowStats,
    variables: { projectId },
  });
  useRefetchOn(refreshKey, refetch);
  const count = (status: BoardTask["status"]) => tasks.filter((t) => t.status === status).length;
  const stats = data?.workflowStats;
  return (
    <div className="summary">
      <Stat label="Tasks" value={total} />
      <Stat label="In progress" value={count("IN_PROGRESS")} tone="in_progress" />
      <Stat label="Blocked" value={count("BLOCKED")} tone="blocked" />
      <Stat label="Completed" value={count("COMPLETED")} tone="completed" />
      {stats && (
        <>
          <span className="summary-divider" />
          <Stat label="Runs" value={stats.total} />
          {stats.total > 0 && (
            <>
              <Stat label="Success rate" value={formatPercent(stats.successRate)} />
              <Stat
                label="Avg / p95"
                value={`${formatDuration(stats.averageDurationMs)} / ${formatDuration(stats.p95DurationMs)}`}
              />
              <Stat label="Cache hits" value={formatPercent(stats.cacheHitRate)} />
            </>
          )}
        </>
      )}
    </div>
  );
}
