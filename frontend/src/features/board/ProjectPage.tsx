import { useMemo, useState } from "react";
import { useQuery } from "urql";

import { href, navigate } from "../../app/router";
import { problemsOf } from "../../api/errors";
import { ProjectBoard } from "../../api/operations";
import type { BoardTask, ProjectBoardData, TaskStatus } from "../../api/types";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { PageHeader } from "../../components/PageHeader";
import { TaskPanel } from "../tasks/TaskPanel";
import { BoardFilters, matchesFilters, type Filters } from "./BoardFilters";
import { PhaseCreateForm } from "./PhaseCreateForm";
import { PhaseSection } from "./PhaseSection";
import { ProjectSummaryStrip } from "./ProjectSummaryStrip";
import { ProjectWorkflowsTable } from "./ProjectWorkflowsTable";
import { TaskCreateModal } from "./TaskCreateModal";
import { useProjectLive } from "./useProjectLive";

const TASK_PAGE = 500;

interface Props {
  projectId: string;
  taskId: string | null;
}

export function ProjectPage({ projectId, taskId }: Props) {
  const [{ data, fetching, error }, refetch] = useQuery<ProjectBoardData>({
    query: ProjectBoard,
    variables: { id: projectId, first: TASK_PAGE, after: null },
  });
  const [filters, setFilters] = useState<Filters>({ text: "", statuses: new Set<TaskStatus>() });
  const [creatingTask, setCreatingTask] = useState(false);
  const [creatingPhase, setCreatingPhase] = useState(false);
  const reload = () => refetch({ requestPolicy: "network-only" });
  const [liveTick, setLiveTick] = useState(0);
  useProjectLive(projectId, () => {
    reload();
    setLiveTick((n) => n + 1);
  });

  const project = data?.project;
  const tasks = project?.tasks.nodes ?? [];
  const visible = useMemo(() => tasks.filter((t) => matchesFilters(t, filters)), [tasks, filters]);
  const byPhase = useMemo(() => groupByPhase(visible), [visible]);

  if (!project) {
    return (
      <div className="page">
        <ErrorNotice problems={problemsOf(error)} />
        {fetching && <Loading />}
      </div>
    );
  }

  const unphased = byPhase.get(null) ?? [];
  const openTask = (id: string) => navigate({ page: "project", projectId, taskId: id });
  return (
    <div className={taskId ? "split" : undefined}>
      <div className="page">
        <PageHeader
          breadcrumb={<a href={href({ page: "projects" })}>Projects</a>}
          title={project.name}
          subtitle={project.description || undefined}
          actions={
            <>
              <button type="button" onClick={() => setCreatingPhase(true)}>
                New phase
              </button>
              <button type="button" className="primary" onClick={() => setCreatingTask(true)}>
                New task
              </button>
            </>
          }
        />
        <ErrorNotice problems={problemsOf(error)} />
        <ProjectSummaryStrip
          projectId={projectId}
          tasks={tasks}
          total={project.tasks.totalCount}
          refreshKey={liveTick}
        />
        {creatingPhase && (
          <PhaseCreateForm
            projectId={projectId}
            onDone={() => {
              setCreatingPhase(false);
              reload();
            }}
            onCancel={() => setCreatingPhase(false)}
          />
        )}
        <BoardFilters filters={filters} onChange={setFilters} tasks={tasks} />
        {project.phases.map((phase) => (
          <PhaseSection
            key={phase.id}
            title={phase.name}
            description={phase.description}
            tasks={byPhase.get(phase.id) ?? []}
            selectedId={taskId}
            onOpen={openTask}
          />
        ))}
        {(unphased.length > 0 || project.phases.length === 0) && (
          <PhaseSection
            title={project.phases.length ? "No phase" : "Tasks"}
            tasks={unphased}
            selectedId={taskId}
            onOpen={openTask}
          />
        )}
        {project.tasks.pageInfo.hasNextPage && (
          <p className="muted">
            Showing the {tasks.length} highest-priority of {project.tasks.totalCount} tasks.
          </p>
        )}
        <ProjectWorkflowsTable projectId={projectId} refreshKey={liveTick} />
      </div>
      {taskId && (
        <TaskPanel
          key={taskId}
          taskId={taskId}
          projectTasks={tasks}
          phases={project.phases}
          refreshKey={liveTick}
          onChanged={reload}
          onClose={() => navigate({ page: "project", projectId, taskId: null })}
        />
      )}
      {creatingTask && (
        <TaskCreateModal
          projectId={projectId}
          phases={project.phases}
          tasks={tasks}
          onClose={() => setCreatingTask(false)}
          onCreated={(id) => {
            setCreatingTask(false);
            reload();
            openTask(id);
          }}
        />
      )}
    </div>
  );
}

function groupByPhase(tasks: BoardTask[]): Map<string | null, BoardTask[]> {
  const groups = new Map<string | null, BoardTask[]>();
  for (const task of tasks) {
    const key = task.phase?.id ?? null;
    const group = groups.get(key);
    if (group) group.push(task);
    else groups.set(key, [task]);
  }
  return groups;
}
