"""Instance A of the cross-process tests: another process appending to the same database.

``python -m tests.events.pg_writer URL PROJECT TASK WORKFLOW RUN`` connects (no migrations),
prints ``ready``, then for each line ``N`` read from stdin appends ``N`` STEP_LOG events of that
run in one transaction and prints ``committed <last sequence> <unix time just after commit>``.
"""

from __future__ import annotations

import asyncio
import sys
import time

from pommel.events import log as event_log
from pommel.events.model import EventType
from pommel.storage.database import Database
from tests.events.data import RunRef


async def main(url: str, run: RunRef) -> None:
    db = Database(url)
    await db.connect(migrate=False)
    try:
        print("ready", flush=True)
        while line := await asyncio.to_thread(sys.stdin.readline):
            async with db.write():
                await event_log.append(
                    db,
                    [
                        run.event(EventType.STEP_LOG, step="remote", message=f"from A {index}")
                        for index in range(int(line))
                    ],
                )
            committed = time.time()
            print(f"committed {await event_log.latest_sequence()} {committed}", flush=True)
    finally:
        await db.close()


if __name__ == "__main__":
    url, *pks = sys.argv[1:]
    asyncio.run(main(url, RunRef(*(int(pk) for pk in pks))))
