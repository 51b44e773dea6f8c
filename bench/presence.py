"""Presence at scale: N users on real nodes, then how exact the count is and what it costs.

``python -m bench presence --users N --nodes 2 --seconds S`` starts the nodes (real ``plenary
serve`` processes on one Redis), connects N users over real WebSockets from this process, holds
them for S seconds, and prints one JSON line:

- ``users``, ``online_reported`` (GET /attendance), ``error`` = reported - true;
- ``redis_ops_per_s`` over the hold window (INFO total_commands_processed; on a shared Redis this
  includes other clients' commands, so it is an upper bound);
- ``node_cpu_pct`` per node over the hold window (utime + stime from /proc/<pid>/stat), beside
  ``node_cpu_pct_idle``, the same nodes measured before anyone connected (the baseline);
- ``connect_s``, the time to connect everyone, and ``leave_error`` after everyone disconnected.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import redis
import websockets

from tests.support.servers import EVENT, Node
from tests.support.wsclient import token

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def _cpu_pct(nodes: list[Node], seconds: float) -> list[float]:
    pids = [n.process.pid for n in nodes if n.process is not None]
    before = [_cpu_seconds(p) for p in pids]
    time.sleep(seconds)
    return [round(100 * (_cpu_seconds(p) - b) / seconds, 2) for p, b in zip(pids, before, strict=True)]


async def _join(node: Node, user: str, gate: asyncio.Semaphore) -> Any:
    async with gate:
        ws = await websockets.connect(f"{node.ws_url}/ws/{EVENT}", subprotocols=["plenary.v1"],  # type: ignore[list-item]
                                      open_timeout=30, ping_interval=None, max_queue=None)
        hello = {"op": "hello", "id": 1, "d": {"token": token("attendee", user, sub=user), "topics": []}}
        await ws.send(json.dumps(hello))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if not any(m.get("type") == "ack" for m in reply):
            raise RuntimeError(f"join refused: {reply}")
        return ws


async def _online(node: Node) -> int:
    org = token("organizer", "Bench", sub="bench-organizer")
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.get(f"{node.url}/api/events/{EVENT}/attendance", headers={"Authorization": f"Bearer {org}"})
    r.raise_for_status()
    return int(r.json()["online_now"])


async def _run(args: argparse.Namespace, nodes: list[Node], r: redis.Redis) -> dict[str, Any]:
    idle = await asyncio.to_thread(_cpu_pct, nodes, 2.0)
    gate = asyncio.Semaphore(200)
    started = time.monotonic()
    conns = await asyncio.gather(*(_join(nodes[i % len(nodes)], f"b{i}", gate) for i in range(args.users)))
    connect_s = time.monotonic() - started
    deadline = time.monotonic() + 10
    reported = await _online(nodes[0])
    while reported != args.users and time.monotonic() < deadline:  # the count settles within a tick
        await asyncio.sleep(0.2)
        reported = await _online(nodes[0])
    ops_before = int(r.info("stats")["total_commands_processed"])
    t0 = time.monotonic()
    cpu = await asyncio.to_thread(_cpu_pct, nodes, float(args.seconds))
    ops = (int(r.info("stats")["total_commands_processed"]) - ops_before) / (time.monotonic() - t0)
    reported_end = await _online(nodes[-1])
    await asyncio.gather(*(ws.close() for ws in conns))
    deadline = time.monotonic() + 10
    left = await _online(nodes[0])
    while left != 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        left = await _online(nodes[0])
    return {
        "bench": "presence", "users": args.users, "nodes": len(nodes), "seconds": args.seconds,
        "online_reported": reported_end,
        "online_after_connect": reported, "error": reported_end - args.users, "connect_s": round(connect_s, 2),
        "redis_ops_per_s": round(ops, 1), "node_cpu_pct": cpu, "node_cpu_pct_idle": idle,
        "presence_ttl": nodes[0].env.get("PLENARY_PRESENCE_TTL", "60"), "leave_error": left,
    }


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench presence", description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--nodes", type=int, default=2)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--ttl", type=int, default=60, help="PLENARY_PRESENCE_TTL of the nodes")
    p.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12"))
    args = p.parse_args(argv)
    if args.users <= 0 or args.nodes <= 0 or args.seconds <= 0:
        p.error("--users, --nodes and --seconds must be positive")
    prefix = f"bench-presence-{secrets.token_hex(4)}"  # our own keys on a possibly shared Redis
    r = redis.Redis.from_url(args.redis_url)
    env = {"PLENARY_KEY_PREFIX": prefix, "PLENARY_PRESENCE_TTL": str(args.ttl),
           "PLENARY_CONNECT_RATE": str(max(5000, args.users))}
    with tempfile.TemporaryDirectory(prefix="bench-presence-") as tmp:
        nodes = [Node(args.redis_url, Path(tmp) / f"n{i}", env=dict(env)) for i in range(args.nodes)]
        try:
            for node in nodes:
                node.start()
            result = asyncio.run(_run(args, nodes, r))
        finally:
            for node in nodes:
                try:
                    node.terminate()
                finally:
                    node.kill()
            for key in r.scan_iter(match=f"{prefix}:*", count=1000):
                r.delete(key)
    print(json.dumps(result), flush=True)
    return 0 if result["error"] == 0 else 1
