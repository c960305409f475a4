import { useEffect, useReducer, useRef, useState } from "react";
import { useQuery } from "urql";

import { problemsOf } from "../../api/errors";
import { WorkflowRun, WorkflowRunEvents } from "../../api/operations";
import type { PommelEvent, WorkflowRunData } from "../../api/types";
import { useEventStream } from "../../api/useEventStream";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { PageHeader } from "../../components/PageHeader";
import { RunStatusBadge } from "../../components/StatusBadges";
import { Unavailable } from "../../components/Unavailable";
import { LogView } from "./LogView";
import { RunActions } from "./RunActions";
import { RunBreadcrumb } from "./RunBreadcrumb";
import { RunFacts } from "./RunFacts";
import { applyEvent, emptyLiveRun, FINISHED_RUN, type LiveLine } from "./runState";
import { StepTable } from "./StepTable";

const REFRESH_ON = new Set([
  "run.started",
  "run.finished",
  "run.resumed",
  "step.started",
  "step.finished",
]);

/**
 * One run, live: a snapshot query for the records, plus `workflowRunEvents` replayed from the
 * start of the run (so no line is missed) and then followed; reconnections resume after the
 * last sequence seen. For a finished run the stream replays its events and completes.
 */
export function RunPage({ runId }: { runId: string }) {
  const [{ data, fetching, error }, refetch] = useQuery<WorkflowRunData>({
    query: WorkflowRun,
    variables: { id: runId },
    requestPolicy: "network-only",
  });
  const [live, apply] = useReducer(applyEvent, emptyLiveRun);
  const [stepFilter, setStepFilter] = useState<string | null>(null);
  const refresh = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (refresh.current) clearTimeout(refresh.current);
    },
    [],
  );

  const snapshot = data?.workflowRun;
  const stream = useEventStream<{ workflowRunEvents: PommelEvent }>(
    WorkflowRunEvents,
    { runId },
    (d) => d.workflowRunEvents,
    (event) => {
      apply(event);
      if (REFRESH_ON.has(event.type) && !refresh.current) {
        refresh.current = setTimeout(() => {
          refresh.current = null;
          refetch({ requestPolicy: "network-only" });
        }, 250);
      }
    },
    { after: 0 },
  );

  if (!snapshot) {
    return (
      <div className="page">
        <PageHeader title={`Run ${runId}`} breadcrumb={<a href="#/projects">Projects</a>} />
        {error ? <Unavailable what="Workflow runs" problems={problemsOf(error)} /> : null}
        {fetching && <Loading />}
      </div>
    );
  }

  const status = live.status ?? snapshot.status.toLowerCase();
  // The stream's lines once it has sent any (they are the complete log, live); until then
  // the snapshot's.
  const lines: LiveLine[] =
    live.lines.length > 0
      ? live.lines
      : snapshot.logs.nodes.map((line, index) => ({ key: `s${index}`, ...line }));
  return (
    <div className="page run-page">
      <PageHeader
        breadcrumb={<RunBreadcrumb projectId={live.projectId} taskId={live.taskId} />}
        title={
          <>
            Run {snapshot.id} <RunStatusBadge status={status} />
          </>
        }
        actions={<RunActions runId={snapshot.id} status={status} steps={snapshot.steps} />}
      />
      <ErrorNotice problems={[...problemsOf(error), ...stream.problems]} />
      <RunFacts run={snapshot} status={status} liveMessage={live.message} />
      <div className="run-layout">
        <StepTable
          steps={snapshot.steps}
          live={live}
          selected={stepFilter}
          onSelect={(name) => setStepFilter(name === stepFilter ? null : name)}
        />
        <LogView
          lines={lines}
          step={stepFilter}
          onClearStep={() => setStepFilter(null)}
          following={!FINISHED_RUN.has(status)}
        />
      </div>
    </div>
  );
}
