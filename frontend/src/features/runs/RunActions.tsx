import { useState } from "react";

import { navigate } from "../../app/router";
import { CancelWorkflowRun, RetryWorkflowRun } from "../../api/operations";
import type { StepRecord } from "../../api/types";
import { useAction } from "../../api/useAction";
import { ErrorNotice } from "../../components/ErrorNotice";

interface Props {
  runId: string;
  status: string;
  steps: StepRecord[];
}

interface Retried {
  retryWorkflowRun: { id: string };
}

/** Cancel a run that is going; retry one that stopped, from the start or from a step. */
export function RunActions({ runId, status, steps }: Props) {
  const [fromStep, setFromStep] = useState("");
  const cancel = useAction<unknown, { runId: string }>(CancelWorkflowRun);
  const retry = useAction<Retried, { runId: string; fromStep: string | null }>(RetryWorkflowRun);
  const active = status === "queued" || status === "running";

  async function retryRun() {
    const data = await retry.run({ runId, fromStep: fromStep || null });
    if (data) navigate({ page: "run", runId: data.retryWorkflowRun.id });
  }

  return (
    <div className="run-actions">
      {active ? (
        <button
          type="button"
          className="danger"
          disabled={cancel.fetching}
          onClick={() => cancel.run({ runId })}
        >
          Cancel run
        </button>
      ) : (
        <>
          {status !== "succeeded" && steps.length > 1 && (
            <select
              aria-label="Retry from step"
              value={fromStep}
              onChange={(e) => setFromStep(e.target.value)}
            >
              <option value="">From the start</option>
              {steps.map((step) => (
                <option key={step.name} value={step.name}>
                  From {step.name}
                </option>
              ))}
            </select>
          )}
          <button type="button" className="primary" disabled={retry.fetching} onClick={retryRun}>
            Retry
          </button>
        </>
      )}
      <ErrorNotice problems={[...cancel.problems, ...retry.problems]} />
    </div>
  );
}
