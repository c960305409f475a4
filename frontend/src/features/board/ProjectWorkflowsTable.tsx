import { useQuery } from "urql";

import { href } from "../../app/router";
import { isUnsupported, problemsOf } from "../../api/errors";
import { ProjectWorkflows } from "../../api/operations";
import type { ProjectWorkflowsData } from "../../api/types";
import { useRefetchOn } from "../../api/useRefetchOn";
import { ErrorNotice } from "../../components/ErrorNotice";
import { RunStatusBadge } from "../../components/StatusBadges";
import { TimeAgo } from "../../components/TimeAgo";
import { formatDuration, humanize } from "../../lib/format";

interface Props {
  projectId: string;
  /** Changes whenever a live event arrives, to refresh the table. */
  refreshKey: number;
}

/** The project's workflows with their latest run; hidden on a server without workflows. */
export function ProjectWorkflowsTable({ projectId, refreshKey }: Props) {
  const [{ data, error }, refetch] = useQuery<ProjectWorkflowsData>({
    query: ProjectWorkflows,
    variables: { projectId, first: 50 },
  });
  useRefetchOn(refreshKey, refetch);

  const problems = problemsOf(error);
  if (isUnsupported(problems)) return null;
  const workflows = data?.workflows.nodes ?? [];
  return (
    <section className="phase" aria-label="Workflows">
      <header className="phase-header">
        <h2>Workflows</h2>
        <span className="muted">{data ? data.workflows.totalCount : ""}</span>
      </header>
      <ErrorNotice problems={problems} />
      {data && workflows.length === 0 && (
        <p className="muted phase-empty">
          No workflows yet: open a task and create one from a template.
        </p>
      )}
      {workflows.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th>Workflow</th>
              <th>Task</th>
              <th>Latest run</th>
              <th>Started</th>
              <th className="num">Duration</th>
            </tr>
          </thead>
          <tbody>
            {workflows.map((wf) => (
              <tr key={wf.id}>
                <td>
                  <span className="row-title">{wf.name}</span>
                  <div className="row-sub">{humanize(wf.type)}</div>
                </td>
                <td>
                  <a href={href({ page: "project", projectId, taskId: wf.task.id })}>
                    {wf.task.name}
                  </a>
                </td>
                <td>
                  {wf.latestRun ? (
                    <a href={href({ page: "run", runId: wf.latestRun.id })}>
                      <RunStatusBadge status={wf.latestRun.status} />
                    </a>
                  ) : (
                    <span className="muted">Never run</span>
                  )}
                </td>
                <td>
                  <TimeAgo at={wf.latestRun?.startedAt} />
                </td>
                <td className="num">{formatDuration(wf.latestRun?.durationMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
