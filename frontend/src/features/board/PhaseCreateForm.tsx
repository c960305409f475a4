import { useState, type FormEvent } from "react";

import { CreatePhase } from "../../api/operations";
import { useAction } from "../../api/useAction";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Field } from "../../components/Field";

interface Props {
  projectId: string;
  onDone: () => void;
  onCancel: () => void;
}

interface Variables {
  input: { projectId: string; name: string; description: string };
}

export function PhaseCreateForm({ projectId, onDone, onCancel }: Props) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const create = useAction<unknown, Variables>(CreatePhase);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const input = { projectId, name: name.trim(), description: description.trim() };
    if (await create.run({ input })) onDone();
  }

  return (
    <form className="card inline-form" onSubmit={submit} aria-label="New phase">
      <div className="form-row">
        <Field label="Phase name" required>
          <input
            autoFocus
            value={name}
            onChange={(e) => setName(e.target.value)}
            name="phase-name"
          />
        </Field>
        <Field label="Description">
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
      </div>
      <ErrorNotice problems={create.problems} />
      <div className="form-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={create.fetching}>
          Add phase
        </button>
      </div>
    </form>
  );
}
