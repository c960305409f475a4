import { useMemo, useState, type FormEvent } from "react";
import { useQuery } from "urql";

import { problemsOf } from "../../api/errors";
import { CreateWorkflowFromTemplate, TemplateList } from "../../api/operations";
import type { JsonObject, Template, TemplateListData } from "../../api/types";
import { useAction } from "../../api/useAction";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Field } from "../../components/Field";
import { Loading } from "../../components/Loading";
import { Modal } from "../../components/Modal";
import { Unavailable } from "../../components/Unavailable";
import { humanize } from "../../lib/format";
import { ParameterForm } from "./ParameterForm";
import { coerceParameters, initialValues, type RawValues } from "./parameters";

interface Props {
  taskId: string;
  taskName: string;
  onClose: () => void;
  onCreated: () => void;
}

interface Variables {
  taskId: string;
  templateId: string;
  parameters: JsonObject;
  workflowName: string | null;
}

/** Pick a template, fill in its parameters, and bind the workflow to the task. */
export function TemplatePickerModal({ taskId, taskName, onClose, onCreated }: Props) {
  const [{ data, fetching, error }] = useQuery<TemplateListData>({
    query: TemplateList,
    variables: {},
  });
  const [selected, setSelected] = useState<Template | null>(null);
  const [values, setValues] = useState<RawValues>({});
  const [workflowName, setWorkflowName] = useState("");
  const [localProblems, setLocalProblems] = useState<Record<string, string>>({});
  const create = useAction<unknown, Variables>(CreateWorkflowFromTemplate);
  const templates = useMemo(
    () =>
      [...(data?.templates ?? [])].sort(
        (a, b) => a.category.localeCompare(b.category) || a.name.localeCompare(b.name),
      ),
    [data],
  );

  function choose(template: Template) {
    setSelected(template);
    setValues(initialValues(template.parameters));
    setLocalProblems({});
    create.clear();
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!selected) return;
    const { values: parameters, problems } = coerceParameters(selected.parameters, values);
    setLocalProblems(problems);
    if (Object.keys(problems).length > 0) return;
    const variables = {
      taskId,
      templateId: selected.id,
      parameters,
      workflowName: workflowName.trim() || null,
    };
    if (await create.run(variables)) onCreated();
  }

  const serverFieldProblems = Object.fromEntries(create.problems.flatMap((p) => p.fields));
  return (
    <Modal title={`Create a workflow for “${taskName}”`} onClose={onClose} wide>
      {!data && fetching && <Loading label="Loading templates…" />}
      {error && <Unavailable what="Templates" problems={problemsOf(error)} />}
      {data && (
        <div className="picker">
          <ul className="picker-list" aria-label="Templates">
            {templates.map((template) => (
              <li key={template.id}>
                <button
                  type="button"
                  className={selected?.id === template.id ? "picker-item on" : "picker-item"}
                  onClick={() => choose(template)}
                >
                  <strong>{template.name}</strong>
                  <span className="muted">
                    {template.category} · {humanize(template.workflowType)}
                  </span>
                </button>
              </li>
            ))}
          </ul>
          <div className="picker-detail">
            {!selected && <p className="muted">Choose a template.</p>}
            {selected && (
              <form className="stack" onSubmit={submit} aria-label="Template parameters">
                <div>
                  <h3>
                    {selected.name} <span className="muted">v{selected.version}</span>
                  </h3>
                  <p className="description">{selected.description}</p>
                </div>
                <Field label="Workflow name" hint="Defaults to the template's name">
                  <input value={workflowName} onChange={(e) => setWorkflowName(e.target.value)} />
                </Field>
                <ParameterForm
                  parameters={selected.parameters}
                  values={values}
                  problems={{ ...serverFieldProblems, ...localProblems }}
                  onChange={setValues}
                />
                <ErrorNotice problems={create.problems} />
                <div className="form-actions">
                  <button type="button" onClick={onClose}>
                    Cancel
                  </button>
                  <button type="submit" className="primary" disabled={create.fetching}>
                    Create workflow
                  </button>
                </div>
              </form>
            )}
          </div>
        </div>
      )}
    </Modal>
  );
}
