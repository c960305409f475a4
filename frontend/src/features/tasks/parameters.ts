import type { JsonObject, JsonValue, TemplateParameter } from "../../api/types";

/** What the form holds for each parameter: text for most types, a boolean for booleans. */
export type RawValues = Record<string, string | boolean>;

export function initialValues(parameters: TemplateParameter[]): RawValues {
  const values: RawValues = {};
  for (const p of parameters) {
    if (p.type === "boolean") values[p.name] = p.default === true;
    else if (p.default === null || p.default === undefined) values[p.name] = "";
    else if (typeof p.default === "string") values[p.name] = p.default;
    else values[p.name] = JSON.stringify(p.default);
  }
  return values;
}

function parse(p: TemplateParameter, text: string): JsonValue {
  switch (p.type) {
    case "integer": {
      if (!/^-?\d+$/.test(text)) throw new Error("must be a whole number");
      return Number.parseInt(text, 10);
    }
    case "number": {
      const number = Number(text);
      if (!Number.isFinite(number)) throw new Error("must be a number");
      return number;
    }
    case "array":
    case "object": {
      let value: JsonValue;
      try {
        value = JSON.parse(text) as JsonValue;
      } catch {
        throw new Error(`must be JSON (an ${p.type})`);
      }
      const isArray = Array.isArray(value);
      if (p.type === "array" ? !isArray : isArray || typeof value !== "object" || value === null) {
        throw new Error(`must be a JSON ${p.type}`);
      }
      return value;
    }
    default:
      if (p.enum?.length) {
        // Enum options are offered as their JSON text when they are not strings.
        const match = p.enum.find(
          (option) => (typeof option === "string" ? option : JSON.stringify(option)) === text,
        );
        if (match !== undefined) return match;
      }
      return text;
  }
}

/**
 * The values to send, typed as the template declares them, and a problem per parameter the
 * form can already tell is wrong. Empty optional parameters are left out (the server applies
 * their defaults).
 */
export function coerceParameters(
  parameters: TemplateParameter[],
  raw: RawValues,
): { values: JsonObject; problems: Record<string, string> } {
  const values: JsonObject = {};
  const problems: Record<string, string> = {};
  for (const p of parameters) {
    const value = raw[p.name];
    if (typeof value === "boolean") {
      values[p.name] = value;
      continue;
    }
    const text = (value ?? "").trim();
    if (text === "") {
      if (p.required && (p.default === null || p.default === undefined))
        problems[p.name] = "is required";
      continue;
    }
    try {
      values[p.name] = parse(p, text);
    } catch (error) {
      problems[p.name] = (error as Error).message;
    }
  }
  return { values, problems };
}
