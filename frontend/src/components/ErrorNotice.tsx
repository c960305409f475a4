import type { ApiProblem } from "../api/errors";

interface Props {
  problems: ApiProblem[];
  onDismiss?: () => void;
}

/** The server's messages, each with its `extensions.code` and any bad fields. */
export function ErrorNotice({ problems, onDismiss }: Props) {
  if (problems.length === 0) return null;
  return (
    <div className="error-notice" role="alert">
      {problems.map((problem, index) => {
        // A field whose explanation is the message itself adds nothing but its name.
        const fields = problem.fields.filter(([, text]) => text !== problem.message);
        return (
          <div key={index} className="error-item">
            {problem.code && <code className="error-code">{problem.code}</code>}
            <span className="error-message">{problem.message}</span>
            {fields.length > 0 && (
              <ul className="error-fields">
                {fields.map(([field, text]) => (
                  <li key={field}>
                    <code>{field}</code> {text}
                  </li>
                ))}
              </ul>
            )}
          </div>
        );
      })}
      {onDismiss && (
        <button type="button" className="icon-button" aria-label="Dismiss" onClick={onDismiss}>
          ×
        </button>
      )}
    </div>
  );
}
