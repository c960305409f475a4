import type { TaskRef } from "../../api/types";
import { humanize, statusKey } from "../../lib/format";

/** What a task waits for; unfinished dependencies stand out. */
export function DependencyChips({ dependencies }: { dependencies: TaskRef[] }) {
  if (dependencies.length === 0) return null;
  const waiting = dependencies.filter((d) => d.status !== "COMPLETED").length;
  return (
    <span
      className="deps"
      title={dependencies.map((d) => `${d.name} (${humanize(d.status)})`).join("\n")}
    >
      {waiting > 0
        ? `waits on ${waiting} of ${dependencies.length}`
        : `${dependencies.length} dep${dependencies.length === 1 ? "" : "s"} done`}
      {dependencies.slice(0, 4).map((d) => (
        <span key={d.id} className={`dep-dot tone-${statusKey(d.status)}`} />
      ))}
    </span>
  );
}
