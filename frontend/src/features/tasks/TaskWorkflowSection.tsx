import { useState } from "react";
import { useQuery } from "urql";

import { href, navigate } from "../../app/router";
import { isUnsupported, problemsOf } from "../../api/errors";
import { ExecuteTaskWorkflow, TaskWorkflow } from "../../api/operations";
import type { TaskWorkflowData } from "../../api/types";
import { useAction } from "../../api/useAction";
import { useRefetchOn } from "../../api/useRefetchOn";
import { ErrorNotice } from "../../components/ErrorNotice";
import { RunStatusBadge } from "../../components/StatusBadges";
import { TimeAgo } from "../../components/TimeAgo";
import { Unavailable } from "../../components/Unavailable";
import { formatDuration, humanize } from "../../lib/format";
import { TemplatePickerModal } from "./TemplatePickerModal";

interface Props {
  taskId: string;
  taskName: string;
  refreshKey: number;
}

interface Executed {
  executeTaskWorkflow: { id: string; status: string };
}

/** The task's workflow, its recent runs, and the buttons to run it or create one. */
export function TaskWorkflowSection({ taskId, taskName, refreshKey }: Props) {
  const [{ data, error }, refetch] = useQuery<TaskWorkflowData>({
    query: TaskWorkflow,
    variables: { taskId },
  });
  const [picking, setPicking] = useState(false);
  const [skipCache, setSkipCache] = useState(false);
  const execute = useAction<Executed, { taskId: string; skipCache: boolean }>(ExecuteTaskWorkflow);
  useRefetchOn(refreshKey, refetch);

  const problems = problemsOf(error);
  const unsupported = isUnsupported(problems);

  async function run() {
    const result = await execute.run({ taskId, skipCache });
    if (result) navigate({ page: "run", runId: result.executeTaskWorkflow.id });
  }

  const workflow = data?.workflowForTask;
  return (
    <section className="panel-section">
      <h3>Workflow</h3>
      {unsupported ? (
        <Unavailable what="Workflow details" problems={problems} />
      ) : (
        <ErrorNotice problems={problems} />
      )}
      {data && !workflow && <p className="muted">No workflow yet.</p>}
      {workflow && (
        <div className="workflow-card">
          <div>
            <strong>{workflow.name}</strong> <span className="muted">{workflow.id}</span>
          </div>
          <div className="muted">
            {humanize(workflow.type)}
            {workflow.template && ` · from ${workflow.template.name}`} · created{" "}
            <TimeAgo at={workflow.createdAt} />
          </div>
        </div>
      )}
      <div className="inline-controls">
        <button type="button" className="primary small" disabled={execute.fetching} onClick={run}>
          ▶ Run workflow
        </button>
        <label className="inline-label">
          <input
            type="checkbox"
            checked={skipCache}
            onChange={(e) => setSkipCache(e.target.checked)}
          />
          skip cache
        </label>
        <button type="button" className="small" onClick={() => setPicking(true)}>
          Create from template
        </button>
      </div>
      <ErrorNotice problems={execute.problems} onDismiss={execute.clear} />
      {workflow && workflow.runs.nodes.length > 0 && (
        <table className="table compact">
          <tbody>
            {workflow.runs.nodes.map((run) => (
              <tr key={run.id}>
                <td>
                  <a href={href({ page: "run", runId: run.id })}>{run.id}</a>
                </td>
                <td>
                  <RunStatusBadge status={run.status} />
                </td>
                <td>
                  <TimeAgo at={run.startedAt} />
                </td>
                <td className="num">{formatDuration(run.durationMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {picking && (
        <TemplatePickerModal
          taskId={taskId}
          taskName={taskName}
          onClose={() => setPicking(false)}
          onCreated={() => {
            setPicking(false);
            refetch({ requestPolicy: "network-only" });
          }}
        />
      )}
    </section>
  );
}
