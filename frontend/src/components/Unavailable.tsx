import { isUnsupported, type ApiProblem } from "../api/errors";
import { ErrorNotice } from "./ErrorNotice";

/**
 * A section whose query failed: a quiet note when this server does not offer the feature yet,
 * the full error otherwise.
 */
export function Unavailable({ what, problems }: { what: string; problems: ApiProblem[] }) {
  if (isUnsupported(problems)) {
    return (
      <p className="muted unavailable" title={problems[0]?.message}>
        {what} are not available on this server yet.
      </p>
    );
  }
  return <ErrorNotice problems={problems} />;
}
