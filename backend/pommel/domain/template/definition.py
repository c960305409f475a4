"""``render_definition``: a template + parameters + task -> the JSON definition the runner runs.

Parameters and ``${task.*}`` are substituted now; ``${steps.*}`` and ``${secrets.*}`` stay for
``render_runtime``. The shape of the result is a fixed contract with the runner (see
``render_definition``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from . import conditions
from .conditions import ConditionError
from .expressions import (
    KEEP,
    TASK_FIELDS,
    ExpressionSyntaxError,
    Reference,
    sole_reference,
    substitute,
)
from .model import (
    ParameterError,
    Problem,
    StepSpec,
    TaskContext,
    Template,
    TemplateError,
)
from .parameters import bind_parameters
from .source import join, line_of

Lookup = Callable[[str], Template | None]
SCRIPT_SUFFIXES = {"sh": ".sh", "bash": ".sh", "python": ".py", "python3": ".py", "node": ".js"}


class _Missing(Exception):
    """A reference that is valid in the template but has no value for this task."""


def render_definition(
    template: Template,
    *,
    parameters: Mapping[str, object] | None,
    task: TaskContext,
    lookup: Lookup | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Bind ``parameters`` and render ``template`` for ``task`` into a JSON-serialisable dict.

    Shape: ``{name, template, version, type, parameters, timeout, steps, outputs}``, each step
    ``{name, description, kind, image, argv, workdir, env, files, http, workflow, needs, if,
    timeout, retries: {count, backoff}, outputs}``. ``name`` defaults to the template's name.
    Raises ``ParameterError`` when ``parameters`` don't fit the template, ``TemplateError``
    for anything else (a ``${task.metadata.KEY}`` this task lacks, a called template that is
    unknown, recursive or given bad parameters), with the location of each problem.
    """
    bound = bind_parameters(template, parameters)
    return _Renderer(template, bound, task, lookup, (template.name,)).render(name)


class _Renderer:
    def __init__(
        self,
        template: Template,
        bound: dict[str, object],
        task: TaskContext,
        lookup: Lookup | None,
        stack: tuple[str, ...],
    ) -> None:
        self.template = template
        self.bound = bound
        self.task = task
        self.lookup = lookup
        self.stack = stack  # templates being rendered, outermost first: refuses recursion
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, line_of(self.template.locations, path), message))

    def render(self, name: str | None) -> dict[str, Any]:
        t = self.template
        steps = [self.step(i, step) for i, step in enumerate(t.steps)]
        outputs = {o.name: self.text(o.value, f"outputs.{o.name}.value") for o in t.outputs}
        if self.problems:
            raise TemplateError(self.problems)
        return {
            "name": name or t.name,
            "template": t.name,
            "version": t.version,
            "type": t.workflow_type,
            "parameters": self.bound,
            "timeout": t.timeout,
            "steps": steps,
            "outputs": outputs,
        }

    def resolve(self, ref: Reference) -> object:
        """The value of a parameter or task reference; ``KEEP`` for later stages."""
        segments = ref.segments
        if len(segments) == 1 or segments[0] == "parameters":
            key = segments[-1]
            if key not in self.bound:
                raise _Missing(f"{ref.text}: unknown parameter '{key}'")
            return self.bound[key]
        if segments[0] != "task":
            return KEEP
        if len(segments) == 2 and segments[1] in TASK_FIELDS:
            return getattr(self.task, segments[1])
        if segments[1] != "metadata" or len(segments) < 3:
            raise _Missing(f"{ref.text}: unknown task field")
        value: object = self.task.metadata
        for depth, key in enumerate(segments[2:]):
            if isinstance(value, Mapping) and key in value:
                value = value[key]
            elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
                value = value[int(key)]
            else:
                missing = ".".join(segments[2 : depth + 3])
                has = sorted(str(k) for k in value) if isinstance(value, Mapping) else []
                keys = f" (it has: {', '.join(has[:10])})" if has else ""
                raise _Missing(
                    f"{ref.text}: task {self.task.id} has no metadata '{missing}'{keys}; "
                    "add it to the task's metadata or change the template"
                )
        return value

    def text(self, value: str, path: str) -> str:
        try:
            return substitute(value, self.resolve, final=False)
        except (ExpressionSyntaxError, _Missing) as exc:
            self.problem(path, str(exc))
            return value

    def step(self, i: int, step: StepSpec) -> dict[str, Any]:
        at = f"steps[{i}]"
        env = {k: self.text(v, f"{at}.env.{k}") for k, v in step.env.items()}
        rendered: dict[str, Any] = {
            "name": step.name,
            "description": step.description,
            "kind": step.kind,
            "image": None,
            "argv": None,
            "workdir": None,
            "env": env,
            "files": {},
            "http": None,
            "workflow": None,
            "needs": list(step.needs),
            "if": self.condition(step.condition, f"{at}.if"),
            "timeout": step.timeout,
            "retries": {"count": step.retries.count, "backoff": step.retries.backoff},
            "outputs": {k: self.text(v, f"{at}.outputs.{k}") for k, v in step.outputs.items()},
        }
        if step.container is not None:
            spec, where = step.container, f"{at}.container"
            rendered["image"] = self.text(spec.image, f"{where}.image")
            if isinstance(spec.command, str):
                rendered["argv"] = ["sh", "-c", self.text(spec.command, f"{where}.command")]
            elif spec.command is not None:
                rendered["argv"] = [
                    self.text(arg, f"{where}.command[{n}]") for n, arg in enumerate(spec.command)
                ]
            if spec.workdir is not None:
                rendered["workdir"] = self.text(spec.workdir, f"{where}.workdir")
            container_env = {k: self.text(v, f"{where}.env.{k}") for k, v in spec.env.items()}
            rendered["env"] = {**container_env, **env}  # the step's env wins
        elif step.script is not None:
            script, where = step.script, f"{at}.script"
            path = f".pommel/{step.name}{SCRIPT_SUFFIXES.get(script.interpreter, '')}"
            rendered["image"] = self.text(script.image, f"{where}.image")
            rendered["files"] = {path: self.text(script.source, f"{where}.source")}
            rendered["argv"] = [script.interpreter, path]
        elif step.http is not None:
            rendered["http"] = self.http(step, f"{at}.http")
        elif step.workflow is not None:
            rendered["workflow"] = self.call(step, f"{at}.workflow")
        return rendered

    def condition(self, text: str | None, path: str) -> str | None:
        if text is None:
            return None
        try:
            return conditions.substitute(text, self.resolve, KEEP)
        except (ConditionError, _Missing) as exc:
            self.problem(path, str(exc))
            return text

    def http(self, step: StepSpec, where: str) -> dict[str, Any]:
        assert step.http is not None
        spec = step.http
        headers = {k: self.text(v, f"{where}.headers.{k}") for k, v in spec.headers.items()}
        body: str | None = None
        if isinstance(spec.body, str):
            body = self.text(spec.body, f"{where}.body")
        elif spec.body is not None:
            body = json.dumps(self.nested(spec.body, f"{where}.body"), ensure_ascii=False)
            if not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = "application/json"
        return {
            "method": spec.method,
            "url": self.text(spec.url, f"{where}.url"),
            "headers": headers,
            "body": body,
            "expect_status": list(spec.expect_status),
        }

    def nested(self, value: Any, path: str) -> Any:
        if isinstance(value, str):
            return self.text(value, path)
        if isinstance(value, list):
            return [self.nested(item, join(path, i)) for i, item in enumerate(value)]
        if isinstance(value, dict):
            return {k: self.nested(v, join(path, k)) for k, v in value.items()}
        return value

    def value(self, value: Any, path: str) -> Any:
        """A parameter passed to a called template: plain data, ``${x}`` alone keeps its type."""
        if isinstance(value, str):
            try:
                ref = sole_reference(value)
                if ref is not None and (found := self.resolve(ref)) is not KEEP:
                    return found
                return substitute(value, self.resolve, final=True)
            except (ExpressionSyntaxError, _Missing) as exc:
                self.problem(path, str(exc))
                return value
        if isinstance(value, list):
            return [self.value(item, join(path, i)) for i, item in enumerate(value)]
        if isinstance(value, dict):
            return {k: self.value(v, join(path, k)) for k, v in value.items()}
        return value

    def call(self, step: StepSpec, where: str) -> dict[str, Any]:
        assert step.workflow is not None
        name = step.workflow.template
        given = self.value(dict(step.workflow.parameters), f"{where}.parameters")
        if self.lookup is None:
            return {"template": name, "parameters": given}
        child = self.lookup(name)
        if child is None:
            self.problem(f"{where}.template", f"no template named '{name}'")
            return {"template": name, "parameters": given}
        if child.name in self.stack:
            chain = " -> ".join([*self.stack, child.name])
            self.problem(f"{where}.template", f"a template can't include itself: {chain}")
            return {"template": name, "parameters": given}
        try:
            bound = bind_parameters(child, given)
        except ParameterError as exc:
            for p in exc.problems:
                self.problem(
                    f"{where}.parameters.{p.name}", f"{p.message} (parameter of template '{name}')"
                )
            return {"template": name, "parameters": given}
        try:  # render the called template too, so its problems surface now, not mid-run
            _Renderer(child, bound, self.task, self.lookup, (*self.stack, child.name)).render(None)
        except TemplateError as exc:
            for inner in exc.problems:
                self.problem(where, f"in template '{name}': {inner}")
        return {"template": name, "parameters": bound}
