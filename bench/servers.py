"""Servers a benchmark starts besides Plenary's nodes: the baseline, and a probe of a node's topics."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

from bench.common import EVENT, ROOT, free_port


def topic_declared(ws_url: str, topic: str, secret: str, timeout: float = 10.0) -> bool:
    """Whether the node lets an attendee subscribe to ``topic`` (False on ``unknown_topic``)."""
    from websockets.sync.client import connect

    from server.auth import mint

    token = mint(secret, event=EVENT, role="attendee", name="Bench probe", ttl=600)
    deadline = time.monotonic() + timeout
    with connect(f"{ws_url}/ws/{EVENT}", subprotocols=["plenary.v1"], open_timeout=timeout) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"op": "hello", "id": 1, "d": {"token": token, "topics": []}}))
        ws.send(json.dumps({"op": "subscribe", "id": 2, "d": {"topics": [topic]}}))
        while time.monotonic() < deadline:
            for msg in json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic()))):
                if msg.get("id") == 2 and msg.get("type") in ("ack", "error"):
                    if msg["type"] == "error" and msg.get("code") != "unknown_topic":
                        raise RuntimeError(f"subscribing to {topic!r} failed: {msg}")
                    return bool(msg["type"] == "ack")
    raise TimeoutError(f"no answer to subscribe {topic!r} within {timeout} s")


@contextlib.contextmanager
def baselines(count: int, channel: str) -> Iterator[tuple[list[int], list[int]]]:
    """``count`` raw ``websockets`` servers relaying ``channel``; yields (ports, pids), stops them after."""
    procs: list[subprocess.Popen[bytes]] = []
    ports: list[int] = []
    try:
        for _ in range(count):
            port = free_port()
            command = [sys.executable, "-m", "bench.baseline", "--port", str(port), "--channel", channel]
            proc = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE)
            procs.append(proc)
            ports.append(port)
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()  # READY, or EOF if it died; the process prints nothing else
            if not line.startswith(b"READY"):
                raise RuntimeError(f"baseline server did not start (exit {proc.poll()})")
        yield ports, [p.pid for p in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
