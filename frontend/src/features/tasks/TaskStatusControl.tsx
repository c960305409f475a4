import { UpdateTask } from "../../api/operations";
import { TASK_STATUSES, type TaskDetailData, type TaskStatus } from "../../api/types";
import { useAction } from "../../api/useAction";
import { ErrorNotice } from "../../components/ErrorNotice";
import { TaskStatusBadge } from "../../components/StatusBadges";
import { humanize } from "../../lib/format";

interface Props {
  task: TaskDetailData["task"];
  onChanged: () => void;
}

/**
 * Move the task to another status. Every status is offered: the server decides what is allowed
 * and its refusal (INVALID_TRANSITION, unfinished dependencies, …) is shown as it says it.
 */
export function TaskStatusControl({ task, onChanged }: Props) {
  const update = useAction<unknown, { id: string; input: { status: TaskStatus } }>(UpdateTask);

  async function change(status: TaskStatus) {
    if (status === task.status) return;
    if (await update.run({ id: task.id, input: { status } })) onChanged();
  }

  return (
    <section className="panel-section">
      <div className="status-line">
        <TaskStatusBadge status={task.status} />
        <label className="inline-label">
          Move to
          <select
            aria-label="Status"
            name="status"
            value={task.status}
            disabled={update.fetching}
            onChange={(e) => change(e.target.value as TaskStatus)}
          >
            {TASK_STATUSES.map((status) => (
              <option key={status} value={status}>
                {humanize(status)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {task.statusReason && <p className="status-reason">{task.statusReason}</p>}
      <ErrorNotice problems={update.problems} onDismiss={update.clear} />
    </section>
  );
}
