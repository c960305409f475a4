import { formatTimestamp, timeAgo } from "../lib/format";

export function TimeAgo({ at }: { at: string | null | undefined }) {
  if (!at) return <span className="muted">—</span>;
  return (
    <time dateTime={at} title={formatTimestamp(at)}>
      {timeAgo(at)}
    </time>
  );
}
