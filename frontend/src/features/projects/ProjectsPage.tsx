import { useState } from "react";
import { useQuery } from "urql";

import { problemsOf } from "../../api/errors";
import { ProjectList } from "../../api/operations";
import type { ProjectListData } from "../../api/types";
import { EmptyState } from "../../components/EmptyState";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { PageHeader } from "../../components/PageHeader";
import { useDebounced } from "../../lib/useDebounced";
import { ProjectCreateForm } from "./ProjectCreateForm";
import { ProjectTable } from "./ProjectTable";

const PAGE_SIZE = 50;

export function ProjectsPage() {
  const [search, setSearch] = useState("");
  const [cursors, setCursors] = useState<string[]>([]);
  const [creating, setCreating] = useState(false);
  const term = useDebounced(search.trim());
  const after = cursors[cursors.length - 1] ?? null;

  const [{ data, fetching, error }, refetch] = useQuery<ProjectListData>({
    query: ProjectList,
    variables: { first: PAGE_SIZE, after, search: term || null },
  });
  const projects = data?.projects;

  return (
    <div className="page">
      <PageHeader
        title="Projects"
        subtitle={
          projects ? `${projects.totalCount} project${projects.totalCount === 1 ? "" : "s"}` : " "
        }
        actions={
          <>
            <input
              type="search"
              className="search"
              placeholder="Search projects…"
              aria-label="Search projects"
              value={search}
              onChange={(e) => {
                setSearch(e.target.value);
                setCursors([]);
              }}
            />
            <button type="button" className="primary" onClick={() => setCreating(true)}>
              New project
            </button>
          </>
        }
      />
      {creating && (
        <ProjectCreateForm
          onDone={() => {
            setCreating(false);
            refetch({ requestPolicy: "network-only" });
          }}
          onCancel={() => setCreating(false)}
        />
      )}
      <ErrorNotice problems={problemsOf(error)} />
      {!projects && fetching && <Loading />}
      {projects && projects.nodes.length === 0 && (
        <EmptyState title={term ? `No project matches “${term}”` : "No projects yet"}>
          {!term && "Create one to start planning phases and tasks."}
        </EmptyState>
      )}
      {projects && projects.nodes.length > 0 && <ProjectTable projects={projects.nodes} />}
      {(cursors.length > 0 || projects?.pageInfo.hasNextPage) && (
        <div className="pager">
          <button type="button" disabled={cursors.length === 0} onClick={() => setCursors([])}>
            ← First page
          </button>
          <button
            type="button"
            disabled={!projects?.pageInfo.hasNextPage}
            onClick={() => {
              const next = projects?.pageInfo.endCursor;
              if (next) setCursors([...cursors, next]);
            }}
          >
            Next page →
          </button>
        </div>
      )}
    </div>
  );
}
