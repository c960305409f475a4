import type { WorkflowRunData } from "../../api/types";
import { TimeAgo } from "../../components/TimeAgo";
import { formatDuration } from "../../lib/format";
import { useNow } from "../../lib/useNow";
import { FINISHED_RUN } from "./runState";

interface Props {
  run: WorkflowRunData["workflowRun"];
  status: string;
  liveMessage: string | null;
}

/** Timing, error and outputs of a run; the duration ticks while it runs. */
export function RunFacts({ run, status, liveMessage }: Props) {
  const running = !FINISHED_RUN.has(status);
  const now = useNow(running && run.startedAt !== null);
  const elapsed =
    run.durationMs ??
    (run.startedAt
      ? (run.finishedAt ? Date.parse(run.finishedAt) : now) - Date.parse(run.startedAt)
      : null);
  const outputs = Object.entries(run.outputs ?? {});
  const error = run.error ?? (status === "failed" ? liveMessage : null);
  return (
    <div className="run-facts">
      <dl className="facts horizontal">
        <dt>Started</dt>
        <dd>
          <TimeAgo at={run.startedAt} />
        </dd>
        <dt>Finished</dt>
        <dd>
          <TimeAgo at={run.finishedAt} />
        </dd>
        <dt>Duration</dt>
        <dd>{formatDuration(elapsed)}</dd>
      </dl>
      {error && <div className="run-error">{error}</div>}
      {outputs.length > 0 && (
        <dl className="facts outputs">
          {outputs.map(([key, value]) => (
            <div key={key} className="output-row">
              <dt>{key}</dt>
              <dd className="mono">{typeof value === "string" ? value : JSON.stringify(value)}</dd>
            </div>
          ))}
        </dl>
      )}
    </div>
  );
}
