"""A test client that behaves like the page client: on a lost node it reconnects elsewhere,
resumes from its positions and re-sends what was not acknowledged (same client ids)."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from websockets.exceptions import WebSocketException

from tests.support.wsclient import Client, ProtocolError


class ResilientChatter:
    def __init__(self, urls: list[str], token: str, name: str) -> None:
        self.urls = urls
        self.token = token
        self.name = name
        self.client: Client | None = None
        self.seen: list[dict[str, Any]] = []  # every chat push, across reconnects
        self.acked: dict[str, str] = {}  # cid -> stored message id
        self.reconnects = 0
        self.resyncs = 0  # snapshots instead of replay: resume must not need them here
        self._turn = itertools.count()

    async def connect(self, prefer: int = 0) -> None:
        positions = self.client.positions if self.client is not None else None
        if self.client is not None:
            self._harvest(self.client)
        for attempt in range(len(self.urls) * 10):
            url = self.urls[(prefer + attempt) % len(self.urls)]
            try:
                self.client = await Client.connect(url, token=self.token, resume=positions)
                return
            except (TimeoutError, OSError, ProtocolError, WebSocketException):
                await asyncio.sleep(0.1 * (attempt + 1))  # backoff between refused attempts
        raise AssertionError(f"{self.name} could not reconnect to any of {self.urls}")

    def _harvest(self, client: Client) -> None:
        snapshots = [m for m in client.by_topic["chat:main"] if m["type"] == "snapshot"]
        self.resyncs += sum(1 for m in snapshots if m.get("resync"))
        self.seen.extend(m["d"]["message"] for m in client.pushes("chat:main") if m["d"].get("kind") == "message")
        client.by_topic["chat:main"] = []

    async def send(self, text: str, cid: str) -> None:
        """Send until acknowledged, reconnecting (to the next node) when the socket is gone (30 s at most)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.client is not None
            if self.client.closed.done():
                self.reconnects += 1
                await self.connect(prefer=next(self._turn) + 1)
                continue
            try:
                reply = await self.client.call("chat.send", {"room": "main", "text": text, "cid": cid}, timeout=5)
            except (TimeoutError, ProtocolError, OSError, WebSocketException):
                continue
            if reply["type"] == "ack":
                self.acked[cid] = reply["d"]["id"]
                return
            if reply["code"] in ("rate_limited", "unavailable"):
                await asyncio.sleep(reply.get("retry_after", 200) / 1000)
                continue
            raise AssertionError(f"{self.name}: chat.send refused: {reply}")
        raise AssertionError(f"{self.name}: {cid} never acknowledged")

    def messages(self) -> list[dict[str, Any]]:
        if self.client is not None:
            self._harvest(self.client)
        return self.seen
