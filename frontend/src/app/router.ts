import { useSyncExternalStore } from "react";

/** The dashboard's pages; the address is the hash (`#/projects/proj-3/tasks/task-12`). */
export type Route =
  | { page: "projects" }
  | { page: "project"; projectId: string; taskId: string | null }
  | { page: "run"; runId: string }
  | { page: "templates" }
  | { page: "activity" }
  | { page: "missing"; path: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const [first, second, third, fourth] = parts;
  if (!first || first === "projects") {
    if (!second) return { page: "projects" };
    if (third === "tasks" && fourth) return { page: "project", projectId: second, taskId: fourth };
    return { page: "project", projectId: second, taskId: null };
  }
  if (first === "runs" && second) return { page: "run", runId: second };
  if (first === "templates") return { page: "templates" };
  if (first === "activity") return { page: "activity" };
  return { page: "missing", path: parts.join("/") };
}

export function href(route: Route): string {
  const e = encodeURIComponent;
  switch (route.page) {
    case "projects":
      return "#/projects";
    case "project":
      return route.taskId
        ? `#/projects/${e(route.projectId)}/tasks/${e(route.taskId)}`
        : `#/projects/${e(route.projectId)}`;
    case "run":
      return `#/runs/${e(route.runId)}`;
    case "templates":
      return "#/templates";
    case "activity":
      return "#/activity";
    case "missing":
      return `#/${route.path}`;
  }
}

export function navigate(route: Route): void {
  window.location.hash = href(route);
}

function subscribe(listener: () => void): () => void {
  window.addEventListener("hashchange", listener);
  return () => window.removeEventListener("hashchange", listener);
}

const currentHash = (): string => window.location.hash;

export function useRoute(): Route {
  return parseRoute(useSyncExternalStore(subscribe, currentHash));
}
