import { useState } from "react";

import { DeleteTask } from "../../api/operations";
import { useAction } from "../../api/useAction";
import { ErrorNotice } from "../../components/ErrorNotice";

/** Deletes after a second click, so one slip does not remove a task and its workflows. */
export function TaskDeleteButton({ taskId, onDeleted }: { taskId: string; onDeleted: () => void }) {
  const [armed, setArmed] = useState(false);
  const remove = useAction<unknown, { id: string }>(DeleteTask);
  return (
    <span className="delete-control">
      <button
        type="button"
        className={armed ? "danger small" : "ghost small"}
        disabled={remove.fetching}
        onBlur={() => setArmed(false)}
        onClick={async () => {
          if (!armed) return setArmed(true);
          if (await remove.run({ id: taskId })) onDeleted();
        }}
      >
        {armed ? "Click again to delete" : "Delete task"}
      </button>
      <ErrorNotice problems={remove.problems} />
    </span>
  );
}
