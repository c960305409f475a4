import { useQuery } from "urql";

import { problemsOf } from "../../api/errors";
import { TaskDetail } from "../../api/operations";
import type { BoardTask, Phase, TaskDetailData } from "../../api/types";
import { useRefetchOn } from "../../api/useRefetchOn";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { TimeAgo } from "../../components/TimeAgo";
import { DependencyEditor } from "./DependencyEditor";
import { TaskDeleteButton } from "./TaskDeleteButton";
import { TaskEditForm } from "./TaskEditForm";
import { TaskStatusControl } from "./TaskStatusControl";
import { TaskWorkflowSection } from "./TaskWorkflowSection";

interface Props {
  taskId: string;
  projectTasks: BoardTask[];
  phases: Phase[];
  /** Changes whenever a live event arrives for the project. */
  refreshKey: number;
  onChanged: () => void;
  onClose: () => void;
}

/** Everything about one task, beside the board. */
export function TaskPanel({ taskId, projectTasks, phases, refreshKey, onChanged, onClose }: Props) {
  const [{ data, fetching, error }, refetch] = useQuery<TaskDetailData>({
    query: TaskDetail,
    variables: { id: taskId },
  });
  useRefetchOn(refreshKey, refetch);

  const changed = () => {
    refetch({ requestPolicy: "network-only" });
    onChanged();
  };
  const task = data?.task;
  return (
    <aside className="panel" aria-label="Task">
      <header className="panel-header">
        <div>
          <span className="task-id">{taskId}</span>
          <h2>{task?.name ?? "Task"}</h2>
        </div>
        <button type="button" className="icon-button" aria-label="Close task" onClick={onClose}>
          ×
        </button>
      </header>
      <ErrorNotice problems={problemsOf(error)} />
      {!task && fetching && <Loading />}
      {task && (
        <div className="panel-body">
          <TaskStatusControl task={task} onChanged={changed} />
          <TaskEditForm task={task} phases={phases} onChanged={changed} />
          <DependencyEditor task={task} candidates={projectTasks} onChanged={changed} />
          <TaskWorkflowSection taskId={task.id} taskName={task.name} refreshKey={refreshKey} />
          <footer className="panel-footer muted">
            <span>
              Created <TimeAgo at={task.createdAt} /> · updated <TimeAgo at={task.updatedAt} />
            </span>
            <TaskDeleteButton
              taskId={task.id}
              onDeleted={() => {
                onChanged();
                onClose();
              }}
            />
          </footer>
        </div>
      )}
    </aside>
  );
}
