import { useState, type FormEvent } from "react";

import { UpdateTask } from "../../api/operations";
import { PRIORITIES, type Phase, type Priority, type TaskDetailData } from "../../api/types";
import { useAction } from "../../api/useAction";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Field } from "../../components/Field";
import { AssigneeChip, PriorityBadge } from "../../components/StatusBadges";
import { humanize } from "../../lib/format";

type Task = TaskDetailData["task"];

interface Props {
  task: Task;
  phases: Phase[];
  onChanged: () => void;
}

interface Draft {
  name: string;
  description: string;
  priority: Priority;
  assignee: string;
  phaseId: string;
}

const draftOf = (task: Task): Draft => ({
  name: task.name,
  description: task.description,
  priority: task.priority,
  assignee: task.assignee ?? "",
  phaseId: task.phase?.id ?? "",
});

/** Only what changed is sent; an emptied assignee or phase is cleared with an explicit null. */
function changes(before: Draft, after: Draft): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  if (after.name !== before.name) input.name = after.name.trim();
  if (after.description !== before.description) input.description = after.description;
  if (after.priority !== before.priority) input.priority = after.priority;
  if (after.assignee !== before.assignee) input.assignee = after.assignee.trim() || null;
  if (after.phaseId !== before.phaseId) input.phaseId = after.phaseId || null;
  return input;
}

export function TaskEditForm({ task, phases, onChanged }: Props) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<Draft>(() => draftOf(task));
  const update = useAction<unknown, { id: string; input: Record<string, unknown> }>(UpdateTask);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) =>
    setDraft({ ...draft, [key]: value });

  async function save(event: FormEvent) {
    event.preventDefault();
    const input = changes(draftOf(task), draft);
    if (Object.keys(input).length === 0 || (await update.run({ id: task.id, input }))) {
      setEditing(false);
      onChanged();
    }
  }

  if (!editing) {
    return (
      <section className="panel-section">
        <dl className="facts">
          <dt>Priority</dt>
          <dd>
            <PriorityBadge priority={task.priority} />
          </dd>
          <dt>Assignee</dt>
          <dd>
            <AssigneeChip assignee={task.assignee} />
          </dd>
          <dt>Phase</dt>
          <dd>{task.phase?.name ?? <span className="muted">None</span>}</dd>
        </dl>
        {task.description ? <p className="description">{task.description}</p> : null}
        <button
          type="button"
          className="small"
          onClick={() => {
            setDraft(draftOf(task));
            setEditing(true);
          }}
        >
          Edit details
        </button>
      </section>
    );
  }

  return (
    <form className="panel-section stack" onSubmit={save} aria-label="Edit task">
      <Field label="Name" required>
        <input value={draft.name} onChange={(e) => set("name", e.target.value)} />
      </Field>
      <Field label="Description">
        <textarea
          rows={4}
          value={draft.description}
          onChange={(e) => set("description", e.target.value)}
        />
      </Field>
      <div className="form-row">
        <Field label="Priority">
          <select
            value={draft.priority}
            onChange={(e) => set("priority", e.target.value as Priority)}
          >
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {humanize(p)}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Phase">
          <select value={draft.phaseId} onChange={(e) => set("phaseId", e.target.value)}>
            <option value="">No phase</option>
            {phases.map((phase) => (
              <option key={phase.id} value={phase.id}>
                {phase.name}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <Field label="Assignee">
        <input value={draft.assignee} onChange={(e) => set("assignee", e.target.value)} />
      </Field>
      <ErrorNotice problems={update.problems} />
      <div className="form-actions">
        <button
          type="button"
          onClick={() => {
            update.clear();
            setEditing(false);
          }}
        >
          Cancel
        </button>
        <button type="submit" className="primary" disabled={update.fetching}>
          Save
        </button>
      </div>
    </form>
  );
}
