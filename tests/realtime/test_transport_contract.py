"""The direct-write fast path still fits the uvicorn it runs on (server/realtime/transport.py).

If a uvicorn upgrade renames what transport.py reaches for, this fails here, loudly, instead of
the hub silently falling back to the slow path in production.
"""

from __future__ import annotations

import asyncio

import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from server.logs import AccessLog
from server.realtime.transport import raw_socket, text_frame
from tests.support.servers import free_port


async def test_raw_writes_reach_the_client_and_pause_is_visible() -> None:
    seen: dict[str, object] = {}

    async def endpoint(ws: WebSocket) -> None:
        await ws.accept()
        raw = raw_socket(ws)
        seen["raw"] = raw
        if raw is not None:
            seen["writable"] = raw.writable()
            raw.write(text_frame(b'["direct"]'))
        await ws.receive()

    # wrapped the way server.app wraps it: the access log must not hide the server's send
    app = AccessLog(Starlette(routes=[WebSocketRoute("/ws", endpoint)]))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, ws="websockets-sansio",
                                           log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.02)
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as client:
            message = await asyncio.wait_for(client.recv(), 5)
            assert message == '["direct"]'
        assert seen["raw"] is not None, "uvicorn's protocol object changed: fix server/realtime/transport.py"
        assert seen["writable"] is True
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
