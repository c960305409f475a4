import type { BoardTask } from "../../api/types";
import { AssigneeChip, PriorityBadge, TaskStatusBadge } from "../../components/StatusBadges";
import { TimeAgo } from "../../components/TimeAgo";
import { DependencyChips } from "./DependencyChips";

interface Props {
  task: BoardTask;
  selected: boolean;
  onOpen: (taskId: string) => void;
}

export function TaskRow({ task, selected, onOpen }: Props) {
  return (
    <tr
      className={selected ? "task-row selected" : "task-row"}
      data-task-id={task.id}
      onClick={() => onOpen(task.id)}
    >
      <td className="col-status">
        <TaskStatusBadge status={task.status} reason={task.statusReason} />
      </td>
      <td className="col-name">
        <button type="button" className="link-button row-title" onClick={() => onOpen(task.id)}>
          {task.name}
        </button>
        <span className="task-id">{task.id}</span>
        <DependencyChips dependencies={task.dependencies} />
      </td>
      <td className="col-priority">
        <PriorityBadge priority={task.priority} />
      </td>
      <td className="col-assignee">
        <AssigneeChip assignee={task.assignee} />
      </td>
      <td className="col-updated">
        <TimeAgo at={task.updatedAt} />
      </td>
    </tr>
  );
}
