import { useConnectionStatus, type ConnectionStatus } from "../api/connectionState";

const LABEL: Record<ConnectionStatus, string> = {
  idle: "Ready",
  connecting: "Connecting…",
  live: "Live",
  offline: "Reconnecting…",
};

/** Whether live updates (the subscription WebSocket) are flowing. */
export function ConnectionIndicator() {
  const status = useConnectionStatus();
  return (
    <div className={`connection connection-${status}`} title="Live updates over WebSocket">
      <span className="dot" aria-hidden="true" />
      {LABEL[status]}
    </div>
  );
}
