import { href } from "../../app/router";
import type { PommelEvent } from "../../api/types";
import { Badge } from "../../components/Badge";
import { formatClock, humanize, statusKey } from "../../lib/format";

function Subject({ event }: { event: PommelEvent }) {
  if (event.runId) return <a href={href({ page: "run", runId: event.runId })}>{event.runId}</a>;
  if (event.projectId && event.taskId) {
    return (
      <a href={href({ page: "project", projectId: event.projectId, taskId: event.taskId })}>
        {event.taskId}
      </a>
    );
  }
  if (event.projectId) {
    return (
      <a href={href({ page: "project", projectId: event.projectId, taskId: null })}>
        {event.projectId}
      </a>
    );
  }
  return null;
}

export function EventRow({ event }: { event: PommelEvent }) {
  return (
    <tr data-sequence={event.sequence}>
      <td className="mono muted">#{event.sequence}</td>
      <td className="mono">{formatClock(event.at)}</td>
      <td>
        <code className="event-type">{event.type}</code>
      </td>
      <td>
        <Subject event={event} />
        {event.step && <span className="muted"> · {event.step}</span>}
      </td>
      <td>
        {event.status && <Badge tone={statusKey(event.status)}>{humanize(event.status)}</Badge>}
      </td>
      <td className="event-message">{event.message}</td>
    </tr>
  );
}
