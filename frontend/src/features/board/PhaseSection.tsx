import type { BoardTask } from "../../api/types";
import { TaskRow } from "./TaskRow";

interface Props {
  title: string;
  description?: string;
  tasks: BoardTask[];
  selectedId: string | null;
  onOpen: (taskId: string) => void;
}

export function PhaseSection({ title, description, tasks, selectedId, onOpen }: Props) {
  const done = tasks.filter((t) => t.status === "COMPLETED").length;
  return (
    <section className="phase" aria-label={title}>
      <header className="phase-header">
        <h2>{title}</h2>
        <span className="muted">
          {done}/{tasks.length} done
        </span>
        {description && <span className="phase-description">{description}</span>}
      </header>
      {tasks.length === 0 ? (
        <p className="muted phase-empty">No tasks.</p>
      ) : (
        <table className="table tasks-table">
          <tbody>
            {tasks.map((task) => (
              <TaskRow
                key={task.id}
                task={task}
                selected={task.id === selectedId}
                onOpen={onOpen}
              />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
