import type { ReactNode } from "react";

interface Props {
  /** CSS tone: a status key (`planned`, `running`, …) or a priority (`high`, …). */
  tone: string;
  title?: string;
  children: ReactNode;
}

export function Badge({ tone, title, children }: Props) {
  return (
    <span className={`badge tone-${tone}`} title={title}>
      {children}
    </span>
  );
}
