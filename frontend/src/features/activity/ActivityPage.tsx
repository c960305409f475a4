import { useState } from "react";

import { ActivityEvents } from "../../api/operations";
import type { PommelEvent } from "../../api/types";
import { useEventStream } from "../../api/useEventStream";
import { EmptyState } from "../../components/EmptyState";
import { PageHeader } from "../../components/PageHeader";
import { Unavailable } from "../../components/Unavailable";
import { EventRow } from "./EventRow";
import { EVENT_FILTERS } from "./eventTypes";

const KEEP = 500;

/** Everything happening, as it happens (newest first). */
export function ActivityPage() {
  const [filter, setFilter] = useState(0);
  const [events, setEvents] = useState<PommelEvent[]>([]);
  const types = EVENT_FILTERS[filter]?.types ?? null;
  const stream = useEventStream<{ events: PommelEvent }>(
    ActivityEvents,
    { types },
    (data) => data.events,
    (event) => setEvents((list) => [event, ...list].slice(0, KEEP)),
  );

  return (
    <div className="page">
      <PageHeader title="Activity" subtitle="Live events from every project, newest first." />
      <div className="chips" role="group" aria-label="Event types">
        {EVENT_FILTERS.map((f, index) => (
          <button
            key={f.label}
            type="button"
            className={index === filter ? "chip on" : "chip"}
            onClick={() => {
              setFilter(index);
              setEvents([]);
            }}
          >
            {f.label}
          </button>
        ))}
      </div>
      {stream.problems.length > 0 && <Unavailable what="Live events" problems={stream.problems} />}
      {stream.problems.length === 0 && events.length === 0 && (
        <EmptyState title="Listening for events…">
          Changes to projects, tasks and runs appear here as they happen.
        </EmptyState>
      )}
      {events.length > 0 && (
        <table className="table events-table">
          <tbody>
            {events.map((event) => (
              <EventRow key={event.sequence} event={event} />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
