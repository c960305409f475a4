import { useMemo, useState } from "react";
import { useQuery } from "urql";

import { problemsOf } from "../../api/errors";
import { TemplateList } from "../../api/operations";
import type { TemplateListData } from "../../api/types";
import { EmptyState } from "../../components/EmptyState";
import { Loading } from "../../components/Loading";
import { PageHeader } from "../../components/PageHeader";
import { Unavailable } from "../../components/Unavailable";
import { TemplateCard } from "./TemplateCard";

export function TemplatesPage() {
  const [{ data, fetching, error }] = useQuery<TemplateListData>({
    query: TemplateList,
    variables: {},
  });
  const [category, setCategory] = useState<string | null>(null);
  const templates = data?.templates ?? [];
  const categories = useMemo(
    () => [...new Set(templates.map((t) => t.category))].sort(),
    [templates],
  );
  const shown = templates
    .filter((t) => !category || t.category === category)
    .sort((a, b) => a.name.localeCompare(b.name));

  return (
    <div className="page">
      <PageHeader
        title="Templates"
        subtitle="Reusable, parameterised workflow definitions. Bind one to a task from the task's panel."
      />
      {error && <Unavailable what="Templates" problems={problemsOf(error)} />}
      {!data && fetching && <Loading />}
      {categories.length > 1 && (
        <div className="chips" role="group" aria-label="Category">
          <button
            type="button"
            className={category ? "chip" : "chip on"}
            onClick={() => setCategory(null)}
          >
            All <span className="chip-count">{templates.length}</span>
          </button>
          {categories.map((c) => (
            <button
              key={c}
              type="button"
              className={c === category ? "chip on" : "chip"}
              onClick={() => setCategory(c)}
            >
              {c}{" "}
              <span className="chip-count">{templates.filter((t) => t.category === c).length}</span>
            </button>
          ))}
        </div>
      )}
      {data && shown.length === 0 && <EmptyState title="No templates" />}
      <div className="template-grid">
        {shown.map((template) => (
          <TemplateCard key={template.id} template={template} />
        ))}
      </div>
    </div>
  );
}
