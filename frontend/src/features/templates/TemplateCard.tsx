import { useState } from "react";

import type { JsonValue, Template, TemplateParameter } from "../../api/types";
import { Badge } from "../../components/Badge";
import { humanize } from "../../lib/format";

const show = (value: JsonValue | null): string =>
  value === null || value === undefined
    ? ""
    : typeof value === "string"
      ? value
      : JSON.stringify(value);

const allowed = (p: TemplateParameter): string =>
  p.enum?.length ? p.enum.map(show).join(" | ") : show(p.default);

export function TemplateCard({ template }: { template: Template }) {
  const [open, setOpen] = useState(false);
  return (
    <article className="card template-card" data-template-id={template.id}>
      <header className="template-header">
        <h2>{template.name}</h2>
        <span className="muted">v{template.version}</span>
        <Badge tone={template.builtin ? "neutral" : "custom"}>
          {template.builtin ? "Built-in" : "Custom"}
        </Badge>
      </header>
      <p className="description">{template.description}</p>
      <div className="tags">
        <span className="tag strong">{template.category}</span>
        <span className="tag">{humanize(template.workflowType)}</span>
        {template.tags.map((tag) => (
          <span key={tag} className="tag">
            #{tag}
          </span>
        ))}
      </div>
      {template.parameters.length > 0 && (
        <table className="table compact params">
          <thead>
            <tr>
              <th>Parameter</th>
              <th>Type</th>
              <th>Default / allowed</th>
            </tr>
          </thead>
          <tbody>
            {template.parameters.map((p) => (
              <tr key={p.name} title={p.description ?? undefined}>
                <td>
                  <code>{p.name}</code>
                  {p.required && <span className="required"> *</span>}
                </td>
                <td>{p.type}</td>
                <td className="muted" title={allowed(p)}>
                  {allowed(p) || "—"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <button type="button" className="link-button" onClick={() => setOpen(!open)}>
        {open ? "Hide YAML" : "Show YAML"}
      </button>
      {open && <pre className="source">{template.source}</pre>}
    </article>
  );
}
