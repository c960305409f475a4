"""Reading one entry of ``steps:`` into a ``StepSpec``.

Every string that may hold ``${...}`` is also recorded as an ``ExprField`` (path, text, scope)
so the loader can check all references in one place once every step name is known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Literal

from .durations import DurationError, parse_duration, parse_retries
from .fields import Collector, kind
from .model import (
    ContainerSpec,
    HttpSpec,
    RetryPolicy,
    ScriptSpec,
    StepKind,
    StepSpec,
    WorkflowCall,
)
from .source import join

STEP_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
OUTPUT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
KINDS: tuple[StepKind, ...] = ("container", "script", "http", "workflow")
STEP_KEYS = ("name", "description", *KINDS, "needs", "if", "timeout", "retries", "env", "outputs")
DEFAULT_IMAGES = {
    "sh": "alpine:latest",
    "bash": "bash:5",
    "python": "python:3.12-slim",
    "python3": "python:3.12-slim",
    "node": "node:22-slim",
}
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

# Where an expression appears decides which references it may use (see references.py).
Scope = Literal["step", "condition", "step_output", "template_output", "workflow_param"]


@dataclass(frozen=True)
class ExprField:
    path: str
    text: str
    scope: Scope
    step: str | None = None  # the step the field belongs to


@dataclass
class StepReader:
    c: Collector
    fields: list[ExprField]

    def expr(self, value: str, path: str, scope: Scope, step: str | None) -> str:
        self.fields.append(ExprField(path, value, scope, step))
        return value

    def read(self, raw: object, index: int) -> StepSpec | None:
        """The step at ``steps[index]``, or ``None`` when it can't be read at all."""
        path = f"steps[{index}]"
        body = self.c.mapping(raw, path, allowed=STEP_KEYS, required=("name",), what="a step")
        if body is None:
            return None
        name = self.c.text(body.get("name"), join(path, "name")) if "name" in body else None
        if name is not None and not STEP_NAME.fullmatch(name):
            self.c.add(
                join(path, "name"),
                f"invalid step name {name!r}: use letters, digits, "
                "'_' and '-', starting with a letter or '_'",
            )
        owner = name or f"#{index}"
        kinds = [k for k in KINDS if k in body]
        if len(kinds) != 1:
            found = f"found {' and '.join(kinds)}" if kinds else "found none"
            self.c.add(path, f"a step needs exactly one of {', '.join(KINDS)} ({found})")
        step_kind: StepKind = kinds[0] if kinds else "container"
        step = StepSpec(
            name=owner,
            kind=step_kind,
            description=self.c.text(body.get("description", ""), join(path, "description")) or "",
            needs=self._needs(body.get("needs"), join(path, "needs")),
            condition=self._condition(body, path, owner),
            timeout=self._duration(body.get("timeout"), join(path, "timeout")),
            retries=self._retries(body.get("retries"), join(path, "retries")),
            env=self._env(body.get("env"), join(path, "env"), owner),
            outputs=self._outputs(body.get("outputs"), join(path, "outputs"), owner),
        )
        if len(kinds) != 1 or name is None:
            return None
        at = join(path, step_kind)
        value = body[step_kind]
        if step_kind == "container":
            container = self._container(value, at, owner)
            return None if container is None else _with(step, container=container)
        if step_kind == "script":
            script = self._script(value, at, owner)
            return None if script is None else _with(step, script=script)
        if step_kind == "http":
            http = self._http(value, at, owner)
            return None if http is None else _with(step, http=http)
        call = self._workflow(value, at, owner)
        return None if call is None else _with(step, workflow=call)

    def _container(self, raw: object, path: str, owner: str) -> ContainerSpec | None:
        allowed = ("image", "command", "workdir", "env")
        body = self.c.mapping(raw, path, allowed=allowed, required=("image",))
        if body is None or "image" not in body:
            return None
        image = self.c.text(body["image"], join(path, "image"))
        command: str | tuple[str, ...] | None = None
        raw_command = body.get("command")
        at = join(path, "command")
        if isinstance(raw_command, str):
            command = self.expr(raw_command, at, "step", owner)
        elif raw_command is not None:
            argv = self.c.text_list(raw_command, at)
            if argv is not None:
                command = tuple(
                    self.expr(a, join(at, i), "step", owner) for i, a in enumerate(argv)
                )
        workdir = None
        if body.get("workdir") is not None:
            workdir = self.c.text(body["workdir"], join(path, "workdir"))
            if workdir is not None:
                self.expr(workdir, join(path, "workdir"), "step", owner)
        env = self._env(body.get("env"), join(path, "env"), owner)
        if image is None:
            return None
        return ContainerSpec(
            self.expr(image, join(path, "image"), "step", owner), command, workdir, env
        )

    def _script(self, raw: object, path: str, owner: str) -> ScriptSpec | None:
        allowed = ("interpreter", "source", "image")
        body = self.c.mapping(raw, path, allowed=allowed, required=("interpreter", "source"))
        if body is None or "interpreter" not in body or "source" not in body:
            return None
        interpreter = self.c.text(body["interpreter"], join(path, "interpreter"))
        source = self.c.text(body["source"], join(path, "source"))
        image = self.c.text(body["image"], join(path, "image")) if "image" in body else None
        if interpreter is not None and not re.fullmatch(r"[A-Za-z0-9_.+/-]+", interpreter):
            self.c.add(
                join(path, "interpreter"),
                f"invalid interpreter {interpreter!r}: give "
                "a program name such as python3, sh, bash or node",
            )
            interpreter = None
        if interpreter is not None and image is None and "image" not in body:
            image = DEFAULT_IMAGES.get(interpreter)
            if image is None:
                self.c.add(
                    path,
                    f"no default image for interpreter {interpreter!r}: add "
                    f"'image:' (defaults exist for {', '.join(DEFAULT_IMAGES)})",
                )
        if interpreter is None or source is None or image is None:
            return None
        self.expr(source, join(path, "source"), "step", owner)
        return ScriptSpec(interpreter, source, self.expr(image, join(path, "image"), "step", owner))

    def _http(self, raw: object, path: str, owner: str) -> HttpSpec | None:
        allowed = ("method", "url", "headers", "body", "expect_status")
        body = self.c.mapping(raw, path, allowed=allowed, required=("url",))
        if body is None or "url" not in body:
            return None
        method = self.c.text(body.get("method", "GET"), join(path, "method"))
        if method is not None and method.upper() not in HTTP_METHODS:
            self.c.add(
                join(path, "method"),
                f"unknown HTTP method {method!r} (expected one of {', '.join(HTTP_METHODS)})",
            )
            method = None
        url = self.c.text(body["url"], join(path, "url"))
        headers = self.c.text_map(body.get("headers"), join(path, "headers"))
        for key, value in headers.items():
            self.expr(value, join(join(path, "headers"), key), "step", owner)
        request_body = body.get("body")
        if request_body is not None:
            self._walk(request_body, join(path, "body"), "step", owner)
        expect = self._statuses(body.get("expect_status"), join(path, "expect_status"))
        if method is None or url is None or expect is None:
            return None
        url = self.expr(url, join(path, "url"), "step", owner)
        return HttpSpec(method.upper(), url, headers, request_body, expect)

    def _workflow(self, raw: object, path: str, owner: str) -> WorkflowCall | None:
        body = self.c.mapping(raw, path, allowed=("template", "parameters"), required=("template",))
        if body is None or "template" not in body:
            return None
        template = self.c.text(body["template"], join(path, "template"))
        parameters = body.get("parameters") or {}
        if self.c.mapping(parameters, join(path, "parameters")) is None or template is None:
            return None
        self._walk(parameters, join(path, "parameters"), "workflow_param", owner)
        return WorkflowCall(template, parameters)

    def _walk(self, value: Any, path: str, scope: Scope, owner: str) -> None:
        """Record every string inside nested lists/mappings as an expression field."""
        if isinstance(value, str):
            self.expr(value, path, scope, owner)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self._walk(item, join(path, i), scope, owner)
        elif isinstance(value, dict):
            for key, item in value.items():
                self._walk(item, join(path, key), scope, owner)

    def _statuses(self, raw: object, path: str) -> tuple[int, ...] | None:
        if raw is None:
            return tuple(range(200, 300))
        items = raw if isinstance(raw, list) else [raw]
        good = [
            s for s in items if isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599
        ]
        if not items or len(good) != len(items):
            bad = next((s for s in items if s not in good), None)
            shown = repr(bad) if isinstance(bad, int | str | float) else kind(bad)
            self.c.add(
                path,
                f"expected an HTTP status code (100-599) or a list of them; {shown} is not one"
                if items
                else "expected at least one HTTP status code",
            )
            return None
        return tuple(good)

    def _needs(self, raw: object, path: str) -> tuple[str, ...]:
        if raw is None:
            return ()
        return self.c.text_list(raw, path, scalars=False) or ()

    def _condition(self, body: dict[str, Any], path: str, owner: str) -> str | None:
        if body.get("if") is None:
            return None
        text = self.c.text(body["if"], join(path, "if"), scalars=True)
        return None if text is None else self.expr(text, join(path, "if"), "condition", owner)

    def _duration(self, raw: object, path: str) -> float | None:
        if raw is None:
            return None
        try:
            return parse_duration(raw)
        except DurationError as exc:
            self.c.add(path, str(exc))
            return None

    def _retries(self, raw: object, path: str) -> RetryPolicy:
        if raw is None:
            return RetryPolicy()
        try:
            return parse_retries(raw)
        except DurationError as exc:
            self.c.add(path, str(exc))
            return RetryPolicy()

    def _env(self, raw: object, path: str, owner: str) -> dict[str, str]:
        env = self.c.text_map(raw, path)
        for key, value in env.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                self.c.add(join(path, key), f"invalid environment variable name {key!r}")
            self.expr(value, join(path, key), "step", owner)
        return env

    def _outputs(self, raw: object, path: str, owner: str) -> dict[str, str]:
        outputs = self.c.text_map(raw, path)
        for key, value in outputs.items():
            if not OUTPUT_NAME.fullmatch(key):
                self.c.add(
                    join(path, key),
                    f"invalid output name {key!r}: use letters, digits, '_' and '-'",
                )
            self.expr(value, join(path, key), "step_output", owner)
        return outputs


def _with(step: StepSpec, **kind: Any) -> StepSpec:
    return replace(step, **kind)
