"""A subscriber that stops reading is dropped, over a real WebSocket; nobody else waits.

A module of its own: it needs a server configured for it, and Piccolo binds its tables to one
database per process, so servers on other databases must not be running meanwhile.
"""

from __future__ import annotations

import socket

from tests.events import data
from tests.events.conftest import StartServer, eventually
from tests.events.wsclient import RUN_EVENTS, GraphQLWS, seqs


async def test_a_subscriber_that_stops_reading_is_dropped_without_delaying_others(
    serve: StartServer,
) -> None:
    server = serve(queue_size=50, send_buffer=8192)
    db = server.runtime.db
    broker = server.runtime.broker
    run = await server.run(lambda: data.new_run(server.runtime))
    # A client that reads nothing: small socket buffers and no compression, so the server's
    # writes to it block after some events, and then its queue in the broker fills up.
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.setblocking(False)
    async with (
        GraphQLWS.connect(server.ws_url) as fast,
        GraphQLWS.connect(server.ws_url, sock=sock, max_queue=1, compression=None) as slow,
    ):
        base = broker.stats.subscribers
        fast_op = await fast.subscribe(RUN_EVENTS, {"runId": run.run_id})
        slow_op = await slow.subscribe(RUN_EVENTS, {"runId": run.run_id})
        await eventually(lambda: broker.stats.subscribers == base + 2)
        received: list[dict[str, object]] = []
        for _ in range(20):
            # The writer is never held up by the stalled reader, nor is the reader that keeps
            # up: each batch reaches it while the other has stopped reading.
            await server.run(lambda: data.log_batches(db, run, batches=1, size=10, pad=4000))
            received += await fast.events(fast_op, 10)
        assert broker.stats.dropped == 1
        assert broker.stats.subscribers == base + 1
        await server.run(lambda: data.finish(db, run))
        rest, end = await fast.until_complete(fast_op)
        assert seqs(received + rest) == await server.run(lambda: data.sequences(run_id=run.run))
        assert end["type"] == "complete"

        # Once it reads again: what was already on its way, then a clear error saying how to
        # resume, then the end of the operation.
        partial, error = await slow.until_complete(slow_op)
        assert 0 < len(partial) < 200
        assert seqs(partial) == seqs(received)[: len(partial)]
        problem = error["payload"]["errors"][0]
        resume = partial[-1]["sequence"]
        assert problem["extensions"] == {
            "code": "RATE_LIMITED",
            "reason": "SUBSCRIBER_TOO_SLOW",
            "resumeAfter": resume,
        }
        assert problem["message"] == (
            f"subscriber too slow: more than 50 events behind; reconnect with after={resume}"
        )
        assert (await slow.message(slow_op))["type"] == "complete"
