"""The Dagger executor: each step runs in a container on the Dagger engine, via the SDK.

One engine connection is shared by all steps. It is opened in :meth:`DaggerExecutor.start`
(or lazily by the first step) and dropped after a transport failure, so the next step
reconnects, re-reading the session from the environment.

The SDK gives a command's output when it finishes, so log lines arrive at the end of a step.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Callable

import dagger
import gql.transport.httpx as gql_httpx
import httpx

from pommel.engine.executors.base import (
    EngineError,
    LogSink,
    ProcessResult,
    ProcessStep,
    StepTimeout,
    bounded,
    log_text,
)

#: Seconds to wait for the engine's HTTP endpoint to accept a connection.
CONNECT_TIMEOUT = 10.0
#: Mode given to script files, so a step can run them as ./script as well as `python3 script`.
FILE_MODE = 0o755


def ensure_gql_uses_httpx() -> None:
    """Make gql's HTTPX transport use httpx, the library the Dagger SDK hands it objects from.

    gql >= 4.4 prefers ``httpx2`` when it is importable, and ``mcp`` 2.x installs it. The SDK
    (0.21.11) still passes ``httpx.URL``/``httpx.AsyncHTTPTransport`` objects, which httpx2
    rejects ("Invalid type for url"), so no connection could ever be made. gql's transport
    module supports plain httpx (its fallback when httpx2 is absent): point it back there.
    This applies only while the SDK itself builds on httpx, so it switches itself off once an
    SDK release moves to httpx2.
    """
    import dagger.client._session as sdk_session

    sdk_uses_httpx = getattr(sdk_session, "httpx", None) is httpx
    if sdk_uses_httpx and getattr(gql_httpx, "httpx", httpx) is not httpx:
        gql_httpx.httpx = httpx  # type: ignore[attr-defined]


class DaggerExecutor:
    """Runs steps as ``container().from_(image)...with_exec(argv)`` on the Dagger engine."""

    name: str = "dagger"
    isolated: bool = True
    description: str = (
        "dagger executor: each step runs in its image's container on the Dagger engine"
    )

    def __init__(
        self,
        *,
        cli_bin: str | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        which: Callable[[str], str | None] = shutil.which,
    ) -> None:
        """``cli_bin``: a ``dagger`` CLI to start a session with when none is handed to us
        (default: ``_EXPERIMENTAL_DAGGER_CLI_BIN``, else a ``dagger`` on PATH, else the SDK
        downloads one)."""
        self._cli_bin = cli_bin
        self._connect_timeout = connect_timeout
        self._which = which
        self._connection: dagger.Connection | None = None
        self._client: dagger.Client | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Connect to the engine now, so a missing engine is reported before any step runs."""
        await self._get_client()

    async def close(self) -> None:
        """Close the engine connection."""
        async with self._lock:
            await self._disconnect()

    async def run(self, step: ProcessStep, *, log: LogSink) -> ProcessResult:
        """Run the step in a container (see Executor.run)."""
        if not step.argv:
            raise ValueError(f"step {step.step!r} has an empty command")
        try:
            async with asyncio.timeout(step.timeout) as deadline:
                result = await self._execute(step)
        except TimeoutError:
            if deadline.expired():
                # Leaving the timeout block cancelled the request; the engine abandons the exec
                # when its client disconnects.
                raise StepTimeout(
                    f"step {step.step!r} exceeded its timeout of {step.timeout:g}s"
                ) from None
            raise
        await log_text(log, "stdout", result.stdout)
        await log_text(log, "stderr", result.stderr)
        return ProcessResult(
            exit_code=result.exit_code,
            stdout=bounded(result.stdout),
            stderr=bounded(result.stderr),
        )

    async def _execute(self, step: ProcessStep) -> ProcessResult:
        client = await self._get_client()
        ctr = _container(client, step)
        try:
            # stdout() runs the exec; the engine caches it by the pipeline's identity, so
            # stderr() and exit_code() of the same chain read the same run.
            stdout = await ctr.stdout()
            stderr = await ctr.stderr()
            exit_code = await ctr.exit_code()
        except dagger.ExecError as exc:
            # Even with expect=ANY the engine rejects exit codes 128-191 (killed by a signal).
            return ProcessResult(exit_code=exc.exit_code, stdout=exc.stdout, stderr=exc.stderr)
        except dagger.QueryError as exc:
            # The engine answered but could not do it (unknown image, bad pipeline...).
            raise EngineError(f"Dagger engine error in step {step.step!r}: {exc}") from exc
        except (dagger.TransportError, dagger.ClientConnectionError) as exc:
            await self._drop(client)
            raise EngineError(
                f"lost the connection to the Dagger engine{_session_hint()}: {_first_line(exc)}"
            ) from exc
        except dagger.DaggerError as exc:
            raise EngineError(f"Dagger SDK error in step {step.step!r}: {exc}") from exc
        except Exception as exc:
            # Anything else escaping the SDK (gql or httpx internals) is still infrastructure.
            await self._drop(client)
            raise EngineError(
                f"Dagger SDK failure in step {step.step!r}: {type(exc).__name__}: {exc}"
            ) from exc
        return ProcessResult(exit_code=exit_code, stdout=stdout, stderr=stderr)

    async def _get_client(self) -> dagger.Client:
        async with self._lock:
            if self._client is not None:
                return self._client
            ensure_gql_uses_httpx()
            self._prefer_cli()
            config = dagger.Config(
                timeout=dagger.Timeout(None, connect=self._connect_timeout),
                # No SDK retries: its defaults retry a refused connection for minutes. A failed
                # step reports EngineError at once and the next step reconnects.
                retry=None,
            )
            connection = dagger.Connection(config)
            try:
                self._client = await connection.__aenter__()
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    await connection.close()  # type: ignore[no-untyped-call]
                if isinstance(exc, Exception):
                    raise EngineError(
                        f"cannot connect to the Dagger engine{_session_hint()}: {_first_line(exc)}"
                    ) from exc
                raise
            self._connection = connection
            return self._client

    def _prefer_cli(self) -> None:
        """Point the SDK at a local ``dagger`` CLI when no session was handed to us.

        The SDK only reads ``_EXPERIMENTAL_DAGGER_CLI_BIN`` (otherwise it downloads a CLI), so
        this sets it for this process when unset.
        """
        if os.environ.get("DAGGER_SESSION_PORT") or os.environ.get("_EXPERIMENTAL_DAGGER_CLI_BIN"):
            return
        cli = self._cli_bin or self._which("dagger")
        if cli:
            os.environ["_EXPERIMENTAL_DAGGER_CLI_BIN"] = cli

    async def _drop(self, client: dagger.Client) -> None:
        """Forget a broken connection (unless another step already replaced it)."""
        async with self._lock:
            if self._client is client:
                await self._disconnect()

    async def _disconnect(self) -> None:
        connection, self._connection, self._client = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()  # type: ignore[no-untyped-call]


def _container(client: dagger.Client, step: ProcessStep) -> dagger.Container:
    """The step's pipeline: image, workdir, env, files, cache buster, then the command."""
    ctr = client.container().from_(step.image)
    if step.workdir:
        ctr = ctr.with_workdir(step.workdir)
    for key, value in step.env.items():
        ctr = ctr.with_env_variable(key, value)
    for rel, contents in step.files.items():
        path = f"{step.workdir.rstrip('/')}/{rel}" if step.workdir else rel
        ctr = ctr.with_new_file(path, contents, permissions=FILE_MODE)
    if step.cache_buster is not None:
        # Dagger's documented cache buster: a changed value is a different pipeline.
        ctr = ctr.with_env_variable("CACHEBUSTER", step.cache_buster)
    return ctr.with_exec(list(step.argv), expect=dagger.ReturnType.ANY)


def _session_hint() -> str:
    """Where we tried to reach the engine, for error messages."""
    if port := os.environ.get("DAGGER_SESSION_PORT"):
        return f" (session at 127.0.0.1:{port})"
    if cli := os.environ.get("_EXPERIMENTAL_DAGGER_CLI_BIN"):
        return f" (session from CLI {cli})"
    return ""


def _first_line(exc: BaseException) -> str:
    """httpx appends a documentation link on a second line; keep the message itself."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
