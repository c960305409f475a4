import { useEffect, useRef, useState } from "react";

import { formatClock } from "../../lib/format";
import type { LiveLine } from "./runState";

interface Props {
  lines: LiveLine[];
  step: string | null;
  onClearStep: () => void;
  /** Whether the run is still going (new lines may arrive). */
  following: boolean;
}

/** The log, streaming: it keeps to the bottom unless you scroll up to read. */
export function LogView({ lines, step, onClearStep, following }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const [stick, setStick] = useState(true);
  const shown = step ? lines.filter((line) => line.step === step) : lines;

  useEffect(() => {
    const element = box.current;
    if (element && stick) element.scrollTop = element.scrollHeight;
  }, [shown.length, stick]);

  return (
    <section className="log" aria-label="Log">
      <header className="log-header">
        <h2>Log</h2>
        {step && (
          <button type="button" className="chip on" onClick={onClearStep}>
            {step} ×
          </button>
        )}
        <span className="muted">
          {shown.length} line{shown.length === 1 ? "" : "s"}
          {following && " · live"}
        </span>
      </header>
      <div
        ref={box}
        className="log-lines"
        role="log"
        aria-live="off"
        onScroll={(e) => {
          const el = e.currentTarget;
          setStick(el.scrollHeight - el.scrollTop - el.clientHeight < 24);
        }}
      >
        {shown.length === 0 && (
          <div className="log-empty">{following ? "Waiting for output…" : "No output."}</div>
        )}
        {shown.map((line) => (
          <div key={line.key} className={line.stream === "stderr" ? "log-line stderr" : "log-line"}>
            <span className="log-time">{formatClock(line.at)}</span>
            {!step && <span className="log-step">{line.step}</span>}
            <span className="log-text">{line.text}</span>
          </div>
        ))}
      </div>
    </section>
  );
}
