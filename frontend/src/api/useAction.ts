import { useCallback, useState } from "react";
import { useMutation, type AnyVariables } from "urql";

import { problemsOf, type ApiProblem } from "./errors";

export interface Action<TData, TVariables extends AnyVariables> {
  /** Runs the mutation; resolves to its data, or null when it failed (see `problems`). */
  run: (variables: TVariables) => Promise<TData | null>;
  fetching: boolean;
  problems: ApiProblem[];
  clear: () => void;
}

/** A mutation with its failure kept as problems a form can show next to itself. */
export function useAction<TData, TVariables extends AnyVariables>(
  document: string,
): Action<TData, TVariables> {
  const [{ fetching }, execute] = useMutation<TData, TVariables>(document);
  const [problems, setProblems] = useState<ApiProblem[]>([]);

  const run = useCallback(
    async (variables: TVariables): Promise<TData | null> => {
      setProblems([]);
      const result = await execute(variables);
      const found = problemsOf(result.error);
      setProblems(found);
      return found.length === 0 && result.data ? result.data : null;
    },
    [execute],
  );
  const clear = useCallback(() => setProblems([]), []);
  return { run, fetching, problems, clear };
}
