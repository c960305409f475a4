import { TASK_STATUSES, type BoardTask, type TaskStatus } from "../../api/types";
import { humanize, statusKey } from "../../lib/format";

export interface Filters {
  text: string;
  statuses: Set<TaskStatus>;
}

export function matchesFilters(task: BoardTask, { text, statuses }: Filters): boolean {
  if (statuses.size > 0 && !statuses.has(task.status)) return false;
  const needle = text.trim().toLowerCase();
  if (!needle) return true;
  return [task.name, task.assignee ?? "", task.id].some((value) =>
    value.toLowerCase().includes(needle),
  );
}

interface Props {
  filters: Filters;
  onChange: (filters: Filters) => void;
  tasks: BoardTask[];
}

/** Narrow the board by text (name, assignee, id) and by status. */
export function BoardFilters({ filters, onChange, tasks }: Props) {
  const toggle = (status: TaskStatus) => {
    const statuses = new Set(filters.statuses);
    if (statuses.has(status)) statuses.delete(status);
    else statuses.add(status);
    onChange({ ...filters, statuses });
  };
  return (
    <div className="filters">
      <input
        type="search"
        className="search"
        placeholder="Filter by name, assignee, id…"
        aria-label="Filter tasks"
        value={filters.text}
        onChange={(e) => onChange({ ...filters, text: e.target.value })}
      />
      <div className="chips" role="group" aria-label="Status filter">
        {TASK_STATUSES.map((status) => {
          const count = tasks.filter((t) => t.status === status).length;
          return (
            <button
              key={status}
              type="button"
              className={`chip tone-${statusKey(status)}${filters.statuses.has(status) ? " on" : ""}`}
              aria-pressed={filters.statuses.has(status)}
              onClick={() => toggle(status)}
            >
              {humanize(status)} <span className="chip-count">{count}</span>
            </button>
          );
        })}
      </div>
    </div>
  );
}
