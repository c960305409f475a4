import type { CombinedError } from "urql";

/** One GraphQL error as a person should see it. */
export interface ApiProblem {
  message: string;
  /** The contract's `extensions.code`: INVALID_TRANSITION, VALIDATION_FAILED, … */
  code: string | null;
  /** For VALIDATION_FAILED: each bad field and what is wrong with it. */
  fields: Array<[string, string]>;
}

interface GraphQLErrorLike {
  message: string;
  extensions?: Record<string, unknown> | null;
}

function fieldsOf(extensions: Record<string, unknown> | null | undefined): Array<[string, string]> {
  const fields = extensions?.fields;
  if (!fields || typeof fields !== "object") return [];
  return Object.entries(fields as Record<string, unknown>).map(([name, problem]) => [
    name,
    typeof problem === "string" ? problem : JSON.stringify(problem),
  ]);
}

export function problemFromGraphQLError(error: GraphQLErrorLike): ApiProblem {
  const code = error.extensions?.code;
  return {
    message: error.message,
    code: typeof code === "string" ? code : null,
    fields: fieldsOf(error.extensions),
  };
}

/** Every problem in an urql error: the GraphQL errors, or the network failure. */
export function problemsOf(error: CombinedError | undefined | null): ApiProblem[] {
  if (!error) return [];
  if (error.graphQLErrors.length > 0) return error.graphQLErrors.map(problemFromGraphQLError);
  const message = error.networkError?.message ?? error.message;
  return [{ message: `Cannot reach the server: ${message}`, code: "NETWORK", fields: [] }];
}

/** True when the server does not know a field yet (an older or partial backend). */
export function isUnsupported(problems: ApiProblem[]): boolean {
  return problems.some((p) =>
    /Cannot query field|not supported by the schema|Unknown type/.test(p.message),
  );
}
