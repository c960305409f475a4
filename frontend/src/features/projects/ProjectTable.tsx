import { href } from "../../app/router";
import type { ProjectSummary } from "../../api/types";
import { TimeAgo } from "../../components/TimeAgo";

export function ProjectTable({ projects }: { projects: ProjectSummary[] }) {
  return (
    <table className="table projects-table">
      <thead>
        <tr>
          <th>Project</th>
          <th className="num">Open tasks</th>
          <th className="num">All tasks</th>
          <th>Updated</th>
        </tr>
      </thead>
      <tbody>
        {projects.map((project) => {
          const total = project.tasks.totalCount;
          const open = project.openTasks.totalCount;
          const done = total === 0 ? 0 : Math.round(((total - open) / total) * 100);
          return (
            <tr key={project.id} data-project-id={project.id}>
              <td>
                <a
                  className="row-title"
                  href={href({ page: "project", projectId: project.id, taskId: null })}
                >
                  {project.name}
                </a>
                {project.description && <div className="row-sub">{project.description}</div>}
              </td>
              <td className="num">
                {open}
                <div className="progress" title={`${done} % closed`}>
                  <span style={{ width: `${done}%` }} />
                </div>
              </td>
              <td className="num">{total}</td>
              <td>
                <TimeAgo at={project.updatedAt} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
