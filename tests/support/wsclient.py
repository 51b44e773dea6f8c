"""A WebSocket client that speaks Plenary's protocol, for tests and benchmarks."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from tests.support.servers import SECRET


def token(role: str = "attendee", name: str = "Test User", event: str = "zgc-sco-2021", sub: str | None = None,
          ttl: float = 3600, traits: dict[str, str] | None = None) -> str:
    from server.auth import mint

    return mint(SECRET, event=event, role=role, name=name, sub=sub, ttl=ttl, traits=traits)


class ProtocolError(AssertionError):
    pass


class Client:
    """Joins an event, answers requests by id, and collects pushes per topic."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.acks: dict[Any, asyncio.Future[dict[str, Any]]] = {}
        self.messages: list[dict[str, Any]] = []
        self.by_topic: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.positions: dict[str, dict[str, Any]] = {}
        self.welcome: dict[str, Any] = {}
        self.changed = asyncio.Event()
        self.closed: asyncio.Future[tuple[int | None, str]] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, base: str, event: str = "zgc-sco-2021", *, token: str | None = None,
                      guest: str | None = None, resume: dict[str, Any] | None = None,
                      topics: list[str] | None = None, origin: str | None = None,
                      **hello: Any) -> Client:
        ws = await websockets.connect(f"{base}/ws/{event}", subprotocols=["plenary.v1"],  # type: ignore[list-item]
                                      origin=origin, max_size=2**24, open_timeout=10)
        client = cls(ws)
        d: dict[str, Any] = dict(hello)
        if token:
            d["token"] = token
        if guest:
            d["guest"] = {"name": guest}
        if resume:
            d["resume"] = resume
        if topics is not None:
            d["topics"] = topics
        client.welcome = await client.request("hello", d)
        return client

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                for msg in json.loads(raw):
                    msg["_at"] = time.monotonic()
                    msg["_wall"] = time.time()
                    self.messages.append(msg)
                    kind = msg.get("type")
                    if kind in ("ack", "error") and msg.get("id") in self.acks:
                        fut = self.acks.pop(msg["id"])
                        if not fut.done():
                            fut.set_result(msg)
                    elif kind in ("push", "snapshot", "direct"):
                        self.by_topic[msg["topic"]].append(msg)
                        if msg.get("seq") is not None and kind != "direct":
                            self.positions[msg["topic"]] = {"seq": msg["seq"], "epoch": msg["epoch"]}
                    self.changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            if not self.closed.done():
                self.closed.set_result((self.ws.close_code, self.ws.close_reason or ""))
            for fut in self.acks.values():
                if not fut.done():
                    fut.set_exception(ProtocolError("connection closed before the reply"))
            self.changed.set()

    async def send_raw(self, op: str, d: Any = None, id: Any = None) -> Any:
        request_id = next(self.ids) if id is None else id
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.acks[request_id] = fut
        await self.ws.send(json.dumps({"op": op, "id": request_id, "d": d if d is not None else {}}))
        return request_id

    async def call(self, op: str, d: Any = None, timeout: float = 10) -> dict[str, Any]:
        """Send a request and return the ack or error message as it came."""
        request_id = await self.send_raw(op, d)
        return await asyncio.wait_for(self.acks[request_id], timeout)

    async def request(self, op: str, d: Any = None, timeout: float = 10) -> Any:
        """Send a request; return the ack's data or raise with the error's code."""
        reply = await self.call(op, d, timeout)
        if reply["type"] == "error":
            raise ProtocolError(f"{op} -> {reply['code']}: {reply['message']}")
        return reply["d"]

    async def wait_for(self, predicate, timeout: float = 10, what: str = "message"):  # type: ignore[no-untyped-def]
        """Wait until ``predicate(self)`` is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate(self)
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                pass

    def pushes(self, topic: str) -> list[dict[str, Any]]:
        return [m for m in self.by_topic[topic] if m["type"] == "push"]

    def snapshot(self, topic: str) -> dict[str, Any] | None:
        snaps = [m for m in self.by_topic[topic] if m["type"] == "snapshot"]
        return snaps[-1] if snaps else None

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
