"""A hostile client, run as its own process so its CPU is not the victims' CPU.

    python -m tests.faults.attacker chat-flood WS_URL TOKEN SECONDS RATE
    python -m tests.faults.attacker connect-storm WS_URL COUNT SECONDS

Prints one JSON line with what it saw.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
from collections import Counter

import websockets


async def chat_flood(url: str, token: str, seconds: float, rate: float) -> dict[str, object]:
    codes: Counter[str] = Counter()
    sent = 0
    ws = await websockets.connect(url, subprotocols=["plenary.v1"])  # type: ignore[list-item]
    await ws.send(json.dumps({"op": "hello", "id": 0, "d": {"token": token}}))

    async def read() -> None:
        try:
            async for raw in ws:
                for msg in json.loads(raw):
                    if msg.get("type") == "error":
                        codes[msg["code"]] += 1
                    elif msg.get("type") == "ack" and msg.get("id"):
                        codes["ack"] += 1
        except websockets.ConnectionClosed:
            pass

    reader = asyncio.create_task(read())
    start = time.monotonic()
    run = os.urandom(4).hex()  # fresh client ids: a retried id is acknowledged for free, by design
    closed = None
    try:
        while time.monotonic() - start < seconds:
            target = int((time.monotonic() - start) * rate)
            while sent < target:
                sent += 1
                await ws.send(json.dumps({"op": "chat.send", "id": sent,
                                          "d": {"room": "main", "text": f"spam {sent}", "cid": f"{run}-{sent}"}}))
            await asyncio.sleep(0.005)
    except websockets.ConnectionClosed:
        pass
    closed = ws.close_code
    await ws.close()
    reader.cancel()
    return {"sent": sent, "codes": dict(codes), "closed": closed}


SOURCE = "127.0.0.66"  # the attacker's own address on the loopback network, apart from the bystanders'


async def _socket(url: str) -> socket.socket:
    port = int(url.split(":")[2].split("/")[0])
    sock = socket.socket()
    sock.bind((SOURCE, 0))
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return sock


async def connect_storm(url: str, count: int, seconds: float) -> dict[str, object]:
    statuses: Counter[str] = Counter()
    start = time.monotonic()
    opened = []

    async def one(i: int) -> None:
        await asyncio.sleep(seconds * i / count)
        try:
            sock = await _socket(url)
            ws = await websockets.connect(url, subprotocols=["plenary.v1"], open_timeout=10,  # type: ignore[list-item]
                                          sock=sock)
            statuses["101"] += 1
            opened.append(ws)
        except websockets.InvalidStatus as exc:
            statuses[str(exc.response.status_code)] += 1
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            statuses[type(exc).__name__] += 1

    await asyncio.gather(*(one(i) for i in range(count)))
    elapsed = time.monotonic() - start
    for ws in opened:
        await ws.close()
    return {"attempts": count, "statuses": dict(statuses), "seconds": round(elapsed, 2)}


def main() -> None:
    # the attacker's own CPU stands in for another machine's: it must not starve the victims here
    os.nice(19)
    kind = sys.argv[1]
    if kind == "chat-flood":
        result = asyncio.run(chat_flood(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])))
    else:
        result = asyncio.run(connect_storm(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
