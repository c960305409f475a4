"""``parse_template``: YAML text to a validated ``Template``, reporting every problem at once."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from pommel.domain.graph import CycleError, topological_order

from .durations import DurationError, parse_duration
from .fields import Collector, suggest
from .model import (
    DEFAULT_WORKFLOW_TYPE,
    WORKFLOW_TYPES,
    OutputSpec,
    Problem,
    StepSpec,
    Template,
    TemplateError,
)
from .parameters import check_value, parse_parameters
from .references import check_field
from .source import join, load_yaml
from .steps import ExprField, StepReader

Lookup = Callable[[str], Template | None]
TEMPLATE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
TOP_KEYS = ("metadata", "parameters", "steps", "outputs", "timeout")
METADATA_KEYS = ("name", "description", "version", "category", "tags", "type")


def parse_template(source: str, *, lookup: Lookup | None = None) -> Template:
    """Parse and validate a template; raises ``TemplateError`` listing every problem.

    With ``lookup`` (template id -> template), ``workflow`` steps are checked too: the called
    template exists, the parameters passed to it fit, and no template includes itself.
    """
    loaded = load_yaml(source)
    if loaded.problems:
        raise TemplateError(loaded.problems)
    c = Collector(loaded.lines)
    doc = c.mapping(
        loaded.data,
        "",
        allowed=TOP_KEYS,
        required=("metadata", "steps"),
        what="a mapping with metadata and steps",
    )
    if doc is None:
        raise TemplateError(c.problems)
    meta = _metadata(doc["metadata"], c) if "metadata" in doc else {}
    parameters = parse_parameters(doc.get("parameters"), c)
    fields: list[ExprField] = []
    steps, where = _steps(doc.get("steps"), StepReader(c, fields)) if "steps" in doc else ([], {})
    outputs = _outputs(doc.get("outputs"), c, fields)
    timeout = None
    if doc.get("timeout") is not None:
        try:
            timeout = parse_duration(doc["timeout"])
        except DurationError as exc:
            c.add("timeout", str(exc))
    declared = doc.get("parameters")
    # Names of parameters whose spec is broken still count: no "unknown parameter" noise.
    names = list(declared) if isinstance(declared, dict) else [p.name for p in parameters]
    steps = _resolve_needs(steps, where, fields, names, c)
    template = Template(
        name=meta.get("name", ""),
        description=meta.get("description", ""),
        version=meta.get("version", "1.0.0"),
        category=meta.get("category", "general"),
        tags=tuple(meta.get("tags", ())),
        workflow_type=meta.get("type", DEFAULT_WORKFLOW_TYPE),
        parameters=parameters,
        steps=tuple(steps),
        outputs=tuple(outputs),
        timeout=timeout,
        source=source,
        locations=dict(loaded.lines),
    )
    _check_calls(template, lookup, c)
    if c.problems:
        # Stable sort: problems read top to bottom, those without a line last.
        raise TemplateError(sorted(c.problems, key=lambda p: p.line or 1 << 30))
    return template


def validate_source(source: str, *, lookup: Lookup | None = None) -> list[Problem]:
    """Every problem in ``source`` (empty when it is a valid template); never raises."""
    if not isinstance(source, str):
        return [Problem("", None, f"expected template text, got {type(source).__name__}")]
    try:
        parse_template(source, lookup=lookup)
    except TemplateError as exc:
        return exc.problems
    except RecursionError:
        return [Problem("", None, "the template is nested too deeply")]
    return []


def _metadata(raw: object, c: Collector) -> dict[str, Any]:
    body = c.mapping(raw, "metadata", allowed=METADATA_KEYS, required=("name",))
    if body is None:
        return {}
    meta: dict[str, Any] = {}
    if "name" in body:
        name = c.text(body["name"], "metadata.name")
        if name is not None and not TEMPLATE_NAME.fullmatch(name):
            c.add(
                "metadata.name",
                f"invalid template name {name!r}: use lower-case letters, "
                "digits, '_' and '-', starting with a letter or digit (e.g. 'ml-training')",
            )
        elif name is not None:
            meta["name"] = name
    for key in ("description", "category"):
        if body.get(key) is not None:
            value = c.text(body[key], f"metadata.{key}")
            if value is not None:
                meta[key] = value
    if body.get("version") is not None:
        version = c.text(body["version"], "metadata.version", scalars=True)
        if version is not None:
            meta["version"] = version
    if body.get("tags") is not None:
        meta["tags"] = c.text_list(body["tags"], "metadata.tags") or ()
    if body.get("type") is not None:
        kind = body["type"]
        if kind in WORKFLOW_TYPES:
            meta["type"] = kind
        else:
            hint = suggest(str(kind), WORKFLOW_TYPES) or f" (types: {', '.join(WORKFLOW_TYPES)})"
            c.add("metadata.type", f"unknown workflow type {kind!r}{hint}")
    return meta


def _steps(raw: object, reader: StepReader) -> tuple[list[StepSpec], dict[str, str]]:
    """The readable steps, and the path (``steps[i]``) of each by name."""
    if not isinstance(raw, list) or not raw:
        reader.c.add("steps", "expected a non-empty list of steps")
        return [], {}
    steps: list[StepSpec] = []
    first_at: dict[str, int] = {}
    for index, item in enumerate(raw):
        step = reader.read(item, index)
        # A step that failed to read still has its name known, so references to it don't add
        # "unknown step" noise on top of the real problem.
        name = step.name if step else item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            continue
        if name in first_at:
            reader.c.add(
                f"steps[{index}].name",
                f"duplicate step name '{name}' (also steps[{first_at[name]}])",
            )
            continue
        first_at[name] = index
        if step is not None:
            steps.append(step)
    return steps, {name: f"steps[{index}]" for name, index in first_at.items()}


def _outputs(raw: object, c: Collector, fields: list[ExprField]) -> list[OutputSpec]:
    if raw is None:
        return []
    body = c.mapping(raw, "outputs", what="a mapping of output name to {description, value}")
    outputs: list[OutputSpec] = []
    for name, given in (body or {}).items():
        path = join("outputs", name)
        spec = {"value": given} if isinstance(given, str) else given  # shorthand: `name: ${...}`
        entry = c.mapping(spec, path, allowed=("description", "value"), required=("value",))
        if entry is None or "value" not in entry:
            continue
        value = c.text(entry["value"], join(path, "value"), scalars=True)
        description = c.text(entry.get("description", ""), join(path, "description")) or ""
        if value is not None:
            fields.append(ExprField(join(path, "value"), value, "template_output"))
            outputs.append(OutputSpec(name, value, description))
    return outputs


def _resolve_needs(
    steps: list[StepSpec],
    where: dict[str, str],
    fields: list[ExprField],
    parameters: list[str],
    c: Collector,
) -> list[StepSpec]:
    """Check every reference, add the implicit needs, and refuse unknown needs and cycles."""
    names = [step.name for step in steps]
    known = list(where)  # includes steps that failed to read
    implicit: dict[str, set[str]] = {name: set() for name in names}
    for field in fields:
        depends = check_field(field, c, parameters, known)
        if field.step in implicit:
            implicit[field.step] |= depends
    position = {name: i for i, name in enumerate(names)}
    resolved: list[StepSpec] = []
    for step in steps:
        at = where[step.name]
        for i, need in enumerate(step.needs):
            path = f"{at}.needs" if len(step.needs) == 1 else f"{at}.needs[{i}]"
            if need == step.name:
                c.add(path, f"step '{need}' can't need itself")
            elif need not in known:
                hint = suggest(need, known) or f" (steps: {', '.join(known)})"
                c.add(path, f"unknown step '{need}'{hint}")
        needs = (set(step.needs) | implicit[step.name]) & set(position) - {step.name}
        resolved.append(replace(step, needs=tuple(sorted(needs, key=position.__getitem__))))
    try:
        topological_order(names, {s.name: s.needs for s in resolved})
    except CycleError as exc:
        cycle = " -> ".join(str(node) for node in exc.cycle)
        c.add(
            f"{where[str(exc.cycle[0])]}.needs",
            f"steps depend on each other in a cycle: {cycle} "
            "(through needs and ${steps...} references)",
        )
    return resolved


def _check_calls(template: Template, lookup: Lookup | None, c: Collector) -> None:
    for i, step in enumerate(template.steps):
        if step.workflow is None:
            continue
        path = f"steps[{i}].workflow"
        if step.workflow.template == template.name:
            c.add(
                f"{path}.template",
                f"a template can't include itself: {template.name} -> {template.name}",
            )
            continue
        if lookup is None:
            continue
        child = lookup(step.workflow.template)
        if child is None:
            c.add(f"{path}.template", f"no template named '{step.workflow.template}'")
            continue
        chain = _inclusion_chain(template.name, child, lookup, [template.name])
        if chain is not None:
            c.add(f"{path}.template", f"a template can't include itself: {' -> '.join(chain)}")
            continue
        _check_call_parameters(child, step.workflow.parameters, f"{path}.parameters", c)


def _inclusion_chain(
    root: str, template: Template, lookup: Lookup, chain: list[str], seen: set[str] | None = None
) -> list[str] | None:
    """The chain of ``workflow`` steps leading from ``root`` back to itself, if any."""
    seen = set() if seen is None else seen
    chain = [*chain, template.name]
    if template.name == root:
        return chain
    if template.name in seen:
        return None  # explored already without reaching root: a DFS needs each node once
    seen.add(template.name)
    for step in template.steps:
        if step.workflow is None:
            continue
        if step.workflow.template == root:
            return [*chain, root]  # the template being parsed, which lookup may not know yet
        child = lookup(step.workflow.template)
        found = child and _inclusion_chain(root, child, lookup, chain, seen)
        if found:
            return found
    return None


def _check_call_parameters(
    child: Template, given: Mapping[str, object], path: str, c: Collector
) -> None:
    for name, value in given.items():
        spec = child.parameter(name)
        if spec is None:
            hint = suggest(name, [p.name for p in child.parameters])
            c.add(join(path, name), f"template '{child.name}' has no parameter '{name}'{hint}")
        elif not (isinstance(value, str) and "${" in value):  # checked again when rendering
            problem = check_value(spec, value)
            if problem is not None:
                c.add(join(path, name), f"{problem} (parameter of template '{child.name}')")
    for spec in child.parameters:
        if spec.required and spec.default is None and given.get(spec.name) is None:
            c.add(path, f"missing required parameter '{spec.name}' of template '{child.name}'")
