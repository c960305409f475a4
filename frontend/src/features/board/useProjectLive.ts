import { useEffect, useRef } from "react";

import { ProjectEvents } from "../../api/operations";
import type { PommelEvent } from "../../api/types";
import { useEventStream } from "../../api/useEventStream";

const SETTLE_MS = 300;

/**
 * Calls `onChange` (at most every 300 ms) while events about the project arrive, so the board
 * follows what others, agents and runs do. Only new events: the board itself is a fresh query.
 */
export function useProjectLive(projectId: string, onChange: () => void): void {
  const callback = useRef(onChange);
  callback.current = onChange;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  useEventStream<{ projectEvents: PommelEvent }>(
    ProjectEvents,
    { projectId },
    (data) => data.projectEvents,
    (event) => {
      if (event.type === "step.log" || timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = null;
        callback.current();
      }, SETTLE_MS);
    },
  );
}
