import { useState, type FormEvent } from "react";

import { navigate } from "../../app/router";
import { CreateProject } from "../../api/operations";
import { useAction } from "../../api/useAction";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Field } from "../../components/Field";

interface Created {
  createProject: { id: string; name: string };
}

interface Props {
  onDone: () => void;
  onCancel: () => void;
}

export function ProjectCreateForm({ onDone, onCancel }: Props) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const create = useAction<Created, { input: { name: string; description: string } }>(
    CreateProject,
  );

  async function submit(event: FormEvent) {
    event.preventDefault();
    const data = await create.run({
      input: { name: name.trim(), description: description.trim() },
    });
    if (!data) return;
    onDone();
    navigate({ page: "project", projectId: data.createProject.id, taskId: null });
  }

  return (
    <form className="card inline-form" onSubmit={submit} aria-label="New project">
      <div className="form-row">
        <Field label="Name" required>
          <input autoFocus value={name} onChange={(e) => setName(e.target.value)} name="name" />
        </Field>
        <Field label="Description">
          <input
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            name="description"
          />
        </Field>
      </div>
      <ErrorNotice problems={create.problems} />
      <div className="form-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={create.fetching}>
          Create project
        </button>
      </div>
    </form>
  );
}
