"""Container pipelines as the engine double sees them: an immutable chain of calls.

Like the real engine, a container's identity is the chain of calls that built it (its ID
encodes that chain), so two queries that build the same chain name the same container and
share cached exec results, while any changed argument (such as a CACHEBUSTER variable) makes a
different container.
"""

from __future__ import annotations

import base64
import binascii
import json
import posixpath
from dataclasses import dataclass
from typing import Any

#: One call in a chain: (field name, arguments as given, defaults omitted as the SDK does).
Call = tuple[str, tuple[tuple[str, Any], ...]]

_ID_PREFIX = "double:container:"


@dataclass(frozen=True)
class ExecSpec:
    """One withExec call."""

    args: tuple[str, ...]
    expect: str = "SUCCESS"
    stdin: str = ""


@dataclass(frozen=True)
class Pipeline:
    """A container: the calls that built it, and the state they add up to."""

    calls: tuple[Call, ...] = ()

    def then(self, field: str, args: dict[str, Any]) -> Pipeline:
        """This container with one more call appended."""
        frozen = tuple(sorted((k, _freeze(v)) for k, v in args.items()))
        return Pipeline((*self.calls, (field, frozen)))

    @property
    def key(self) -> str:
        """A stable identity for caching: the whole chain as canonical JSON."""
        return json.dumps(self.calls, sort_keys=True, separators=(",", ":"))

    @property
    def id(self) -> str:
        """An opaque ID the SDK can hand back through ``node(id:)``."""
        token = base64.urlsafe_b64encode(self.key.encode()).decode()
        return _ID_PREFIX + token

    @classmethod
    def from_id(cls, value: str) -> Pipeline | None:
        """Decode an ID made by :attr:`id`; None if it is not a container ID of this double."""
        if not value.startswith(_ID_PREFIX):
            return None
        try:
            raw = json.loads(base64.urlsafe_b64decode(value[len(_ID_PREFIX) :]))
        except (binascii.Error, ValueError):
            return None
        calls = tuple(
            (str(name), tuple((str(k), _freeze(v)) for k, v in args)) for name, args in raw
        )
        return cls(calls)

    # The state the chain adds up to, replayed on demand: parsed views for tests and the
    # executor.

    @property
    def image(self) -> str | None:
        """The last ``from`` address, or None for a scratch container."""
        image = None
        for name, args in self.calls:
            if name == "from":
                image = dict(args)["address"]
        return image

    @property
    def workdir(self) -> str:
        """The working directory commands run in ("/" unless set)."""
        return self._replay()[0]

    @property
    def env(self) -> dict[str, str]:
        """Environment variables set with withEnvVariable (since the last ``from``)."""
        return self._replay()[1]

    @property
    def files(self) -> dict[str, str]:
        """Absolute container path -> contents, from withNewFile."""
        return {path: contents for path, (contents, _) in self._replay()[2].items()}

    @property
    def file_modes(self) -> dict[str, int]:
        """Absolute container path -> permissions, from withNewFile."""
        return {path: mode for path, (_, mode) in self._replay()[2].items()}

    @property
    def execs(self) -> list[ExecSpec]:
        """Every withExec in order."""
        return self._replay()[3]

    @property
    def argv(self) -> list[str] | None:
        """The args of the last withExec, or None when nothing was executed."""
        execs = self.execs
        return list(execs[-1].args) if execs else None

    @property
    def expect(self) -> str | None:
        """The ``expect`` of the last withExec."""
        execs = self.execs
        return execs[-1].expect if execs else None

    def _replay(self) -> tuple[str, dict[str, str], dict[str, tuple[str, int]], list[ExecSpec]]:
        workdir = "/"
        env: dict[str, str] = {}
        files: dict[str, tuple[str, int]] = {}
        execs: list[ExecSpec] = []
        for name, frozen in self.calls:
            args = dict(frozen)
            if name == "from":
                # "All previous state will be lost."
                workdir, env, files, execs = "/", {}, {}, []
            elif name == "withWorkdir":
                workdir = posixpath.normpath(posixpath.join(workdir, args["path"]))
            elif name == "withEnvVariable":
                env[args["name"]] = args["value"]
            elif name == "withNewFile":
                path = posixpath.normpath(posixpath.join(workdir, args["path"]))
                files[path] = (args["contents"], int(args.get("permissions", 0o644)))
            elif name == "withExec":
                execs.append(
                    ExecSpec(
                        args=tuple(args["args"]),
                        expect=str(args.get("expect", "SUCCESS")),
                        stdin=str(args.get("stdin", "")),
                    )
                )
        return workdir, env, files, execs


def _freeze(value: Any) -> Any:
    """Lists become tuples so calls are hashable and compare by value."""
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value
