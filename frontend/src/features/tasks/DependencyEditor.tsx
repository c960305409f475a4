import { useState } from "react";

import { href } from "../../app/router";
import { AddTaskDependency, RemoveTaskDependency } from "../../api/operations";
import type { BoardTask, TaskDetailData, TaskRef } from "../../api/types";
import { useAction } from "../../api/useAction";
import { ErrorNotice } from "../../components/ErrorNotice";
import { TaskStatusBadge } from "../../components/StatusBadges";

type Task = TaskDetailData["task"];
type Variables = { taskId: string; dependsOnId: string };

interface Props {
  task: Task;
  candidates: BoardTask[];
  onChanged: () => void;
}

function TaskLink({ projectId, task }: { projectId: string; task: TaskRef }) {
  return (
    <a href={href({ page: "project", projectId, taskId: task.id })} className="dep-link">
      <TaskStatusBadge status={task.status} />
      <span>{task.name}</span>
    </a>
  );
}

/** What the task waits for (editable; cycles are refused by the server) and what waits for it. */
export function DependencyEditor({ task, candidates, onChanged }: Props) {
  const [choice, setChoice] = useState("");
  const add = useAction<unknown, Variables>(AddTaskDependency);
  const remove = useAction<unknown, Variables>(RemoveTaskDependency);
  const taken = new Set([task.id, ...task.dependencies.map((d) => d.id)]);
  const options = candidates.filter((c) => !taken.has(c.id));
  const projectId = task.project.id;

  async function addChoice() {
    if (!choice) return;
    if (await add.run({ taskId: task.id, dependsOnId: choice })) {
      setChoice("");
      onChanged();
    }
  }

  return (
    <section className="panel-section">
      <h3>Depends on</h3>
      {task.dependencies.length === 0 && <p className="muted">Nothing: it can start any time.</p>}
      <ul className="dep-list">
        {task.dependencies.map((dep) => (
          <li key={dep.id}>
            <TaskLink projectId={projectId} task={dep} />
            <button
              type="button"
              className="icon-button"
              aria-label={`Remove dependency on ${dep.name}`}
              onClick={async () =>
                (await remove.run({ taskId: task.id, dependsOnId: dep.id })) && onChanged()
              }
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      {options.length > 0 && (
        <div className="inline-controls">
          <select
            aria-label="Add dependency"
            value={choice}
            onChange={(e) => setChoice(e.target.value)}
          >
            <option value="">Add a dependency…</option>
            {options.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} ({c.id})
              </option>
            ))}
          </select>
          <button
            type="button"
            className="small"
            disabled={!choice || add.fetching}
            onClick={addChoice}
          >
            Add
          </button>
        </div>
      )}
      <ErrorNotice problems={[...add.problems, ...remove.problems]} />
      {task.dependents.length > 0 && (
        <>
          <h3>Blocks</h3>
          <ul className="dep-list">
            {task.dependents.map((dep) => (
              <li key={dep.id}>
                <TaskLink projectId={projectId} task={dep} />
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
