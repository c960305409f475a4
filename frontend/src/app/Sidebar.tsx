import { ConnectionIndicator } from "./ConnectionIndicator";
import { href, type Route } from "./router";

const LINKS: Array<{ label: string; route: Route; active: Route["page"][] }> = [
  { label: "Projects", route: { page: "projects" }, active: ["projects", "project", "run"] },
  { label: "Templates", route: { page: "templates" }, active: ["templates"] },
  { label: "Activity", route: { page: "activity" }, active: ["activity"] },
];

export function Sidebar({ route }: { route: Route }) {
  return (
    <nav className="sidebar" aria-label="Main">
      <a className="brand" href="#/projects">
        <span className="brand-mark" aria-hidden="true" />
        Pommel
      </a>
      <ul className="nav-links">
        {LINKS.map((link) => (
          <li key={link.label}>
            <a
              href={href(link.route)}
              className={link.active.includes(route.page) ? "active" : undefined}
            >
              {link.label}
            </a>
          </li>
        ))}
        <li>
          <a href="/graphql" target="_blank" rel="noreferrer">
            GraphiQL ↗
          </a>
        </li>
      </ul>
      <ConnectionIndicator />
    </nav>
  );
}
