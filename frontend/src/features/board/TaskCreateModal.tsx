import { useState, type FormEvent } from "react";

import { CreateTask } from "../../api/operations";
import {
  PRIORITIES,
  TASK_STATUSES,
  type BoardTask,
  type Phase,
  type Priority,
  type TaskStatus,
} from "../../api/types";
import { useAction } from "../../api/useAction";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Field } from "../../components/Field";
import { Modal } from "../../components/Modal";
import { humanize } from "../../lib/format";

interface Props {
  projectId: string;
  phases: Phase[];
  tasks: BoardTask[];
  onClose: () => void;
  onCreated: (taskId: string) => void;
}

interface Variables {
  input: {
    projectId: string;
    name: string;
    description: string;
    phaseId: string | null;
    status: TaskStatus;
    priority: Priority;
    assignee: string | null;
    dependsOn: string[];
  };
}

interface Created {
  createTask: { id: string };
}

export function TaskCreateModal({ projectId, phases, tasks, onClose, onCreated }: Props) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [phaseId, setPhaseId] = useState(phases[0]?.id ?? "");
  const [status, setStatus] = useState<TaskStatus>("PLANNED");
  const [priority, setPriority] = useState<Priority>("MEDIUM");
  const [assignee, setAssignee] = useState("");
  const [dependsOn, setDependsOn] = useState<string[]>([]);
  const create = useAction<Created, Variables>(CreateTask);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const data = await create.run({
      input: {
        projectId,
        name: name.trim(),
        description: description.trim(),
        phaseId: phaseId || null,
        status,
        priority,
        assignee: assignee.trim() || null,
        dependsOn,
      },
    });
    if (data) onCreated(data.createTask.id);
  }

  return (
    <Modal title="New task" onClose={onClose}>
      <form onSubmit={submit} className="stack" aria-label="New task">
        <Field label="Name" required>
          <input
            autoFocus
            name="task-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </Field>
        <Field label="Description">
          <textarea rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <div className="form-row">
          <Field label="Phase">
            <select value={phaseId} onChange={(e) => setPhaseId(e.target.value)}>
              <option value="">No phase</option>
              {phases.map((phase) => (
                <option key={phase.id} value={phase.id}>
                  {phase.name}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Priority">
            <select value={priority} onChange={(e) => setPriority(e.target.value as Priority)}>
              {PRIORITIES.map((p) => (
                <option key={p} value={p}>
                  {humanize(p)}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Status">
            <select value={status} onChange={(e) => setStatus(e.target.value as TaskStatus)}>
              {TASK_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {humanize(s)}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <Field label="Assignee" hint="A person or an agent">
          <input name="assignee" value={assignee} onChange={(e) => setAssignee(e.target.value)} />
        </Field>
        {tasks.length > 0 && (
          <Field
            label="Depends on"
            hint="Tasks that must be completed first (Ctrl/⌘-click for several)"
          >
            <select
              multiple
              size={Math.min(6, tasks.length)}
              value={dependsOn}
              onChange={(e) => setDependsOn(Array.from(e.target.selectedOptions, (o) => o.value))}
            >
              {tasks.map((task) => (
                <option key={task.id} value={task.id}>
                  {task.name} ({task.id})
                </option>
              ))}
            </select>
          </Field>
        )}
        <ErrorNotice problems={create.problems} />
        <div className="form-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={create.fetching}>
            Create task
          </button>
        </div>
      </form>
    </Modal>
  );
}
