import { ActivityPage } from "../features/activity/ActivityPage";
import { ProjectPage } from "../features/board/ProjectPage";
import { ProjectsPage } from "../features/projects/ProjectsPage";
import { RunPage } from "../features/runs/RunPage";
import { TemplatesPage } from "../features/templates/TemplatesPage";
import { EmptyState } from "../components/EmptyState";
import { useRoute, type Route } from "./router";
import { Sidebar } from "./Sidebar";

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "projects":
      return <ProjectsPage />;
    case "project":
      return (
        <ProjectPage key={route.projectId} projectId={route.projectId} taskId={route.taskId} />
      );
    case "run":
      return <RunPage key={route.runId} runId={route.runId} />;
    case "templates":
      return <TemplatesPage />;
    case "activity":
      return <ActivityPage />;
    case "missing":
      return (
        <EmptyState title="Nothing here">
          <a href="#/projects">Back to projects</a>
        </EmptyState>
      );
  }
}

export function App() {
  const route = useRoute();
  return (
    <div className="shell">
      <Sidebar route={route} />
      <main className="content">
        <Page route={route} />
      </main>
    </div>
  );
}
