import type { JsonValue, TemplateParameter } from "../../api/types";
import { Field } from "../../components/Field";
import type { RawValues } from "./parameters";

interface Props {
  parameters: TemplateParameter[];
  values: RawValues;
  problems: Record<string, string>;
  onChange: (values: RawValues) => void;
}

const optionText = (option: JsonValue): string =>
  typeof option === "string" ? option : JSON.stringify(option);

function Control({
  parameter,
  value,
  onChange,
}: {
  parameter: TemplateParameter;
  value: string | boolean;
  onChange: (value: string | boolean) => void;
}) {
  const name = `param-${parameter.name}`;
  if (parameter.type === "boolean") {
    return (
      <input
        type="checkbox"
        name={name}
        checked={value === true}
        onChange={(e) => onChange(e.target.checked)}
      />
    );
  }
  const text = typeof value === "string" ? value : "";
  if (parameter.enum?.length) {
    return (
      <select name={name} value={text} onChange={(e) => onChange(e.target.value)}>
        {!parameter.required && <option value="">(default)</option>}
        {parameter.enum.map((option) => (
          <option key={optionText(option)} value={optionText(option)}>
            {optionText(option)}
          </option>
        ))}
      </select>
    );
  }
  if (parameter.type === "array" || parameter.type === "object") {
    return (
      <textarea
        name={name}
        rows={3}
        className="mono"
        placeholder={parameter.type === "array" ? "[ ]" : "{ }"}
        value={text}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  }
  const numeric = parameter.type === "integer" || parameter.type === "number";
  return (
    <input
      name={name}
      type={numeric ? "number" : "text"}
      step={parameter.type === "integer" ? 1 : "any"}
      value={text}
      onChange={(e) => onChange(e.target.value)}
    />
  );
}

/** A form derived from a template's parameters: type, required, default and allowed values. */
export function ParameterForm({ parameters, values, problems, onChange }: Props) {
  if (parameters.length === 0) return <p className="muted">This template takes no parameters.</p>;
  return (
    <div className="param-grid">
      {parameters.map((parameter) => (
        <Field
          key={parameter.name}
          label={parameter.name}
          required={parameter.required}
          hint={
            <>
              <code>{parameter.type}</code>
              {parameter.description ? ` · ${parameter.description}` : ""}
              {parameter.default !== null && parameter.default !== undefined
                ? ` · default ${optionText(parameter.default)}`
                : ""}
              {problems[parameter.name] && (
                <span className="field-error"> — {problems[parameter.name]}</span>
              )}
            </>
          }
        >
          <Control
            parameter={parameter}
            value={values[parameter.name] ?? ""}
            onChange={(value) => onChange({ ...values, [parameter.name]: value })}
          />
        </Field>
      ))}
    </div>
  );
}
