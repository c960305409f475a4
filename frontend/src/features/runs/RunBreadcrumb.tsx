import { href } from "../../app/router";

/** Projects › project › task, once the run's events have said where it belongs. */
export function RunBreadcrumb({
  projectId,
  taskId,
}: {
  projectId: string | null;
  taskId: string | null;
}) {
  return (
    <>
      <a href={href({ page: "projects" })}>Projects</a>
      {projectId && (
        <>
          {" › "}
          <a href={href({ page: "project", projectId, taskId: null })}>{projectId}</a>
        </>
      )}
      {projectId && taskId && (
        <>
          {" › "}
          <a href={href({ page: "project", projectId, taskId })}>{taskId}</a>
        </>
      )}
    </>
  );
}
