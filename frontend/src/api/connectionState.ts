import { useSyncExternalStore } from "react";

export type ConnectionStatus = "idle" | "connecting" | "live" | "offline";

type Listener = () => void;

function createStore(initial: ConnectionStatus) {
  let value = initial;
  const listeners = new Set<Listener>();
  return {
    get: (): ConnectionStatus => value,
    set(next: ConnectionStatus): void {
      if (next === value) return;
      value = next;
      listeners.forEach((listener) => listener());
    },
    subscribe(listener: Listener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** The state of the subscription WebSocket, for the status indicator. */
export const connectionState = createStore("idle");

export function useConnectionStatus(): ConnectionStatus {
  return useSyncExternalStore(connectionState.subscribe, connectionState.get);
}
