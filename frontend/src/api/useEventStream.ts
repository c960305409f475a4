import { useEffect, useRef, useState } from "react";

import { wsClient } from "./client";
import { problemFromGraphQLError, type ApiProblem } from "./errors";
import type { PommelEvent } from "./types";

export interface EventStreamState {
  /** Problems the server reported for this subscription (empty while all is well). */
  problems: ApiProblem[];
  /** The highest event sequence received so far. */
  lastSequence: number | null;
}

interface Options {
  /** Replay events after this sequence first (0 = from the beginning; null = only new ones). */
  after?: number | null;
  enabled?: boolean;
}

interface SubscribePayload {
  query: string;
  variables: Record<string, unknown>;
}

function problemsFromSinkError(error: unknown): ApiProblem[] {
  if (Array.isArray(error)) return error.map(problemFromGraphQLError);
  if (error instanceof Error) return [{ message: error.message, code: "NETWORK", fields: [] }];
  const code = (error as { code?: number } | null)?.code;
  return [
    { message: `The live connection closed (code ${code ?? "?"})`, code: "NETWORK", fields: [] },
  ];
}

/**
 * A subscription to one of the event streams (`workflowRunEvents`, `projectEvents`, `events`),
 * resumable: it passes the last `sequence` seen as `after` whenever graphql-ws reconnects, so a
 * dropped connection misses nothing and repeats nothing (events at or below the last sequence
 * are ignored as well).
 *
 * graphql-ws re-sends the very payload object on each retry, so keeping `after` current in it is
 * what makes the retry resume where the stream stopped.
 */
export function useEventStream<TData>(
  query: string,
  variables: Record<string, unknown>,
  pick: (data: TData) => PommelEvent | null | undefined,
  onEvent: (event: PommelEvent) => void,
  { after = null, enabled = true }: Options = {},
): EventStreamState {
  const [state, setState] = useState<EventStreamState>({ problems: [], lastSequence: null });
  const handlers = useRef({ pick, onEvent });
  handlers.current = { pick, onEvent };
  const variablesKey = JSON.stringify(variables);

  useEffect(() => {
    if (!enabled) return undefined;
    let last = after ?? -1;
    const payload: SubscribePayload = { query, variables: { ...JSON.parse(variablesKey), after } };
    setState({ problems: [], lastSequence: after });
    const dispose = wsClient.subscribe<TData>(payload, {
      next(result) {
        if (result.errors?.length) {
          setState((s) => ({ ...s, problems: result.errors!.map(problemFromGraphQLError) }));
        }
        const event = result.data ? handlers.current.pick(result.data) : null;
        if (!event || event.sequence <= last) return;
        last = event.sequence;
        payload.variables.after = last;
        setState({ problems: [], lastSequence: last });
        handlers.current.onEvent(event);
      },
      error(error) {
        setState((s) => ({ ...s, problems: problemsFromSinkError(error) }));
      },
      complete() {},
    });
    return dispose;
  }, [query, variablesKey, after, enabled]);

  return state;
}
