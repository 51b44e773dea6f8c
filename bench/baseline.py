"""The baseline: a raw ``websockets`` server that sends every message with ``websockets.broadcast()``.

It speaks just enough of Plenary's protocol for the same load generator (``hello`` gets an ack;
``chat.send`` gets an ack and is broadcast) and frames every message exactly as Plenary's hub
does (a JSON array holding one push), but without coalescing, sequencing into Redis history,
per-connection outboxes or roles: one frame per message per client, the per-message baseline of
shared/notes/ws-fanout.md (a). Fan-out messages arrive through Redis pub/sub, as they do on a
Plenary node. Run it as ``python -m bench.baseline --port P --channel C``; it prints ``READY`` once
it listens and is subscribed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from redis.asyncio import Redis
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

from bench.common import redis_url

TOPIC = "chat:main"


def _frame(message: dict[str, Any]) -> str:
    return json.dumps([message], separators=(",", ":"))


class Baseline:
    def __init__(self) -> None:
        self.clients: set[ServerConnection] = set()
        self.seq = 0

    def push(self, d: bytes) -> str:
        self.seq += 1
        return b'[{"type":"push","topic":"%s","seq":%d,"epoch":"base","d":%s}]'.decode() % (
            TOPIC, self.seq, d.decode())

    async def handler(self, ws: ServerConnection) -> None:
        try:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if not isinstance(hello, dict) or hello.get("op") != "hello":
                await ws.close(4501, "send hello first")
                return
            await ws.send(_frame({"type": "ack", "id": hello.get("id"), "d": {}}))
            await ws.send(_frame({"type": "snapshot", "topic": TOPIC, "seq": self.seq, "epoch": "base",
                                  "resync": False, "d": {}}))
            self.clients.add(ws)
            async for raw in ws:
                request = json.loads(raw)
                if not isinstance(request, dict):
                    continue
                if request.get("op") == "chat.send":
                    d = request.get("d") or {}
                    message = {"id": f"{self.seq + 1}-0", "author": {"id": "bench", "name": "Bench"},
                               "text": d.get("text", ""), "cid": d.get("cid"), "ts": int(time.time() * 1000)}
                    reply = {"type": "ack", "id": request.get("id"), "d": {"id": message["id"]}}
                    await ws.send(_frame(reply))
                    broadcast(self.clients, self.push(json.dumps(message, separators=(",", ":")).encode()))
        except (ConnectionClosed, TimeoutError, ValueError):
            pass
        finally:
            self.clients.discard(ws)

    async def relay(self, channel: str, subscribed: asyncio.Event) -> None:
        redis = Redis.from_url(redis_url())
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(channel)
        subscribed.set()
        while True:
            message = await pubsub.get_message(timeout=1.0)
            if message is not None:
                broadcast(self.clients, self.push(message["data"]))


async def main(port: int, channel: str) -> None:
    baseline = Baseline()
    subscribed = asyncio.Event()
    relay = asyncio.create_task(baseline.relay(channel, subscribed))
    async with serve(baseline.handler, "127.0.0.1", port, compression=None, max_size=64 * 1024,
                     ping_interval=10, ping_timeout=15, backlog=4096):
        await asyncio.wait_for(subscribed.wait(), 10)
        print("READY", flush=True)
        await relay


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--channel", required=True)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(main(args.port, args.channel))
    except KeyboardInterrupt:
        sys.exit(0)
