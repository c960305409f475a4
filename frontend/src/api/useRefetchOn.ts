import { useEffect } from "react";
import type { UseQueryExecute } from "urql";

/** Re-runs a query from the network whenever `key` changes (after the first render). */
export function useRefetchOn(key: number, refetch: UseQueryExecute): void {
  useEffect(() => {
    if (key > 0) refetch({ requestPolicy: "network-only" });
  }, [key, refetch]);
}
