"""The engine benchmark's DAG and its floor: a bare asyncio script spawning the same processes.

``random_dag`` builds the dependency graph both sides execute: tasks in layers of
``min_width``..``max_width`` tasks (so the graph is at least ``min_width`` wide: a layer is an
antichain), each task after the first layer depending on one task of the layer before it and
on up to ``max_extra_deps`` more of any earlier layer.

``run_floor`` is what executing that graph costs with nothing but asyncio: each task's command
is started (``asyncio.create_subprocess_exec``, output captured through pipes as any runner
that records it must) as soon as the tasks it depends on have finished, at most ``limit`` at
once; no database, no events, no scheduler beyond a counter per task. Nothing of Pommel is
imported here.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

TRUE_ARGV = ("sh", "-c", "true")


@dataclass(frozen=True)
class Dag:
    """Tasks ``0..n-1``; ``deps[i]`` are the (earlier) tasks task ``i`` depends on."""

    deps: tuple[tuple[int, ...], ...]
    layers: tuple[tuple[int, ...], ...]

    @property
    def tasks(self) -> int:
        return len(self.deps)

    @property
    def edges(self) -> int:
        return sum(len(d) for d in self.deps)

    @property
    def width(self) -> int:
        """A lower bound of the graph's width: its narrowest layer (each is an antichain)."""
        return min(len(layer) for layer in self.layers)

    def dependents(self) -> list[list[int]]:
        found: list[list[int]] = [[] for _ in self.deps]
        for task, deps in enumerate(self.deps):
            for dep in deps:
                found[dep].append(task)
        return found

    def describe(self) -> dict[str, int]:
        sizes = [len(layer) for layer in self.layers]
        return {
            "tasks": self.tasks,
            "edges": self.edges,
            "layers": len(self.layers),
            "min_layer_width": min(sizes),
            "max_layer_width": max(sizes),
        }


def random_dag(
    tasks: int,
    *,
    seed: int,
    min_width: int = 8,
    max_width: int = 24,
    max_extra_deps: int = 2,
) -> Dag:
    """A random layered DAG (see the module's docstring); the same seed, the same graph."""
    if tasks < 1 or min_width < 1 or max_width < min_width:
        raise ValueError("need tasks >= 1 and 1 <= min_width <= max_width")
    rng = random.Random(seed)
    sizes: list[int] = []
    left = tasks
    while left > 0:
        size = min(left, rng.randint(min_width, max_width))
        sizes.append(size)
        left -= size
    if len(sizes) > 1 and sizes[-1] < min_width:
        last = sizes.pop()
        sizes[-1] += last  # no layer narrower than min_width (unless there is only one)
    layers: list[tuple[int, ...]] = []
    deps: list[tuple[int, ...]] = []
    start = 0
    for size in sizes:
        layer = tuple(range(start, start + size))
        previous = layers[-1] if layers else ()
        for _ in layer:
            if not previous:
                deps.append(())
                continue
            chosen = {rng.choice(previous)}
            extra = rng.randint(0, max_extra_deps)
            chosen.update(rng.sample(range(start), min(extra, start)))
            deps.append(tuple(sorted(chosen)))
        layers.append(layer)
        start += size
    return Dag(deps=tuple(deps), layers=tuple(layers))


@dataclass(frozen=True)
class FloorRun:
    seconds: float
    max_running: int  # the most processes alive at once (must not exceed the limit)


async def run_floor(dag: Dag, *, limit: int, argv: Sequence[str] = TRUE_ARGV) -> FloorRun:
    """Spawn ``argv`` once per task of ``dag`` in dependency order, at most ``limit`` at once.

    Timed from the first spawn being requested to the last process reaped. Raises
    ``RuntimeError`` if a process fails (a broken floor is an error, not a figure).
    """
    dependents = dag.dependents()
    remaining = [len(deps) for deps in dag.deps]
    gate = asyncio.Semaphore(limit)
    running = 0
    max_running = 0

    async def one(group: asyncio.TaskGroup, task: int) -> None:
        nonlocal running, max_running
        async with gate:
            running += 1
            max_running = max(max_running, running)
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            await process.communicate()
            running -= 1
        if process.returncode != 0:
            raise RuntimeError(f"floor: task {task} exited with {process.returncode}")
        for dependent in dependents[task]:
            remaining[dependent] -= 1
            if remaining[dependent] == 0:
                group.create_task(one(group, dependent))

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for task, deps in enumerate(dag.deps):
            if not deps:
                group.create_task(one(group, task))
    seconds = time.perf_counter() - started
    if any(remaining):
        raise RuntimeError("floor: some tasks never became ready")
    return FloorRun(seconds=seconds, max_running=max_running)
