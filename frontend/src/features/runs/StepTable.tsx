import type { StepRecord } from "../../api/types";
import { RunStatusBadge } from "../../components/StatusBadges";
import { formatDuration } from "../../lib/format";
import type { LiveRun } from "./runState";

interface Props {
  steps: StepRecord[];
  live: LiveRun;
  selected: string | null;
  onSelect: (name: string) => void;
}

interface Row {
  name: string;
  status: string;
  exitCode: number | null;
  cached: boolean;
  attempts: number | null;
  durationMs: number | null;
}

/** The run's records, overlaid with what the event stream has said since they were read. */
function rows(steps: StepRecord[], live: LiveRun): Row[] {
  const names = [
    ...steps.map((s) => s.name),
    ...live.order.filter((n) => !steps.some((s) => s.name === n)),
  ];
  return names.map((name) => {
    const record = steps.find((s) => s.name === name);
    const event = live.steps[name];
    const started = record?.startedAt ? Date.parse(record.startedAt) : null;
    const finished = record?.finishedAt ? Date.parse(record.finishedAt) : null;
    return {
      name,
      status: event?.status ?? record?.status ?? "pending",
      exitCode: event?.exitCode ?? record?.exitCode ?? null,
      cached: event?.cached ?? record?.cached ?? false,
      attempts: record?.attempts ?? null,
      durationMs: started !== null && finished !== null ? finished - started : null,
    };
  });
}

export function StepTable({ steps, live, selected, onSelect }: Props) {
  return (
    <section className="steps" aria-label="Steps">
      <h2>Steps</h2>
      <ol className="step-list">
        {rows(steps, live).map((row) => (
          <li key={row.name}>
            <button
              type="button"
              className={selected === row.name ? "step on" : "step"}
              data-step={row.name}
              onClick={() => onSelect(row.name)}
              title="Show only this step's log"
            >
              <RunStatusBadge status={row.status} />
              <span className="step-name">{row.name}</span>
              <span className="step-meta">
                {row.cached && <span className="tag">cached</span>}
                {row.attempts !== null && row.attempts > 1 && (
                  <span className="tag">{row.attempts} attempts</span>
                )}
                {row.exitCode !== null && (
                  <span className={row.exitCode === 0 ? "muted" : "exit-bad"}>
                    exit {row.exitCode}
                  </span>
                )}
                <span className="muted">{formatDuration(row.durationMs)}</span>
              </span>
            </button>
          </li>
        ))}
      </ol>
    </section>
  );
}
