import type { ReactNode } from "react";

interface Props {
  label: string;
  hint?: ReactNode;
  required?: boolean;
  children: ReactNode;
}

/** A labelled form control. */
export function Field({ label, hint, required = false, children }: Props) {
  return (
    <label className="field">
      <span className="field-label">
        {label}
        {required && (
          <span className="required" aria-hidden="true">
            {" "}
            *
          </span>
        )}
      </span>
      {children}
      {hint && <span className="field-hint">{hint}</span>}
    </label>
  );
}
