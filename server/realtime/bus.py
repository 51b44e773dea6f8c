"""The event bus: how a change made on one node reaches the sockets of every node.

Delivery guarantee, as Centrifuge states its own: pub/sub is at most once and ordered per event
channel; every push also lands in its topic's bounded history with a sequence number first, so a
node that sees a jump in sequence (or lost its subscription while Redis restarted) reads the
missing pushes back from history. The hub only sees :class:`Bus`; Redis stays behind it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, cast

import msgspec
from redis.asyncio import Redis

from server.store.connection import REDIS_DOWN
from server.store.keys import Keys
from server.store.scripts import Scripts

log = logging.getLogger("plenary.bus")

Listener = Callable[[str, bytes], Awaitable[None]]
Reconnected = Callable[[], Awaitable[None]]


class HistoryEntry(msgspec.Struct, frozen=True):
    seq: int
    data: bytes


class Bus:
    """Publish pushes with a sequence and history; listen to every event channel with reconnects."""

    def __init__(self, redis: Redis, scripts: Scripts, history: int, ttl: int) -> None:
        self.redis = redis
        self.scripts = scripts
        self.history = history
        self.ttl = ttl
        self._channels: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def publish(self, event: str, topic: str, data: Any) -> tuple[int, str]:
        """Append ``data`` to ``topic``'s history and publish it; return its (seq, epoch)."""
        keys = Keys(event)
        payload = data if isinstance(data, bytes) else msgspec.json.encode(data)
        seq, epoch = await self.scripts.run(
            "topic_publish",
            [keys.topic_meta(topic), keys.topic_history(topic)],
            [topic, payload, self.history, self.ttl, keys.bus, secrets.token_hex(4)],
        )
        return int(seq), epoch.decode() if isinstance(epoch, bytes) else str(epoch)

    def publish_keys(self, event: str, topic: str) -> tuple[list[str], list[Any]]:
        """KEYS and ARGV a script that includes ``lib_publish`` appends to publish on ``topic``.

        The script calls ``publish(KEYS[k], KEYS[k+1], ARGV[j], payload, ARGV[j+1], ARGV[j+2],
        ARGV[j+3], ARGV[j+4])`` with these in this order: topic, history size, ttl, channel, epoch.
        """
        keys = Keys(event)
        return (
            [keys.topic_meta(topic), keys.topic_history(topic)],
            [topic, self.history, self.ttl, keys.bus, secrets.token_hex(4)],
        )

    async def publish_raw(self, event: str, message: Any) -> None:
        """Publish a message without sequence or history (directs and node controls)."""
        await self.redis.publish(Keys(event).bus, msgspec.json.encode(message))

    async def position(self, event: str, topic: str) -> tuple[int, str]:
        seq, epoch = cast(list[bytes | None], await self.redis.hmget(Keys(event).topic_meta(topic), ["seq", "epoch"]))
        return int(seq or 0), (epoch or b"").decode()

    async def positions(self, event: str, topics: list[str]) -> dict[str, tuple[int, str]]:
        """Several topics' (seq, epoch) in one round trip."""
        keys = Keys(event)
        async with self.redis.pipeline(transaction=False) as pipe:
            for topic in topics:
                pipe.hmget(keys.topic_meta(topic), ["seq", "epoch"])
            replies = cast(list[list[bytes | None]], await pipe.execute())
        return {t: (int(seq or 0), (epoch or b"").decode()) for t, (seq, epoch) in zip(topics, replies, strict=True)}

    async def since(self, event: str, topic: str, seq: int, limit: int) -> list[HistoryEntry] | None:
        """Pushes after ``seq``, oldest first; ``None`` when history no longer reaches back that far."""
        key = Keys(event).topic_history(topic)
        # the position first: every push up to it is in history unless trimmed, so an empty read
        # below means "lost", never "published a moment ago"
        current, _ = await self.position(event, topic)
        entries = cast(list[tuple[bytes, dict[bytes, bytes]]],
                       await self.redis.xrange(key, min=f"{seq + 1}-0", max="+", count=limit + 1))
        if len(entries) > limit:
            return None
        out = [HistoryEntry(int(eid.split(b"-")[0]), fields[b"d"]) for eid, fields in entries]
        if out and out[0].seq != seq + 1:
            return None
        if not out and current > seq:
            return None
        return out

    def start(self, events: list[str], listener: Listener, reconnected: Reconnected) -> None:
        self._channels = {Keys(e).bus: e for e in events}
        self._task = asyncio.create_task(self._listen(listener, reconnected), name="bus-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _listen(self, listener: Listener, reconnected: Reconnected) -> None:
        delay = 0.1
        first = True
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*self._channels)
                self.connected.set()
                if not first:
                    log.info("bus re-subscribed after an outage; repairing from history")
                    await reconnected()
                first = False
                delay = 0.1
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    channel = message["channel"].decode()
                    event = self._channels.get(channel)
                    if event is not None:
                        try:
                            await listener(event, message["data"])
                        except Exception:
                            log.exception("bus listener failed on a message of %s", event)
            except asyncio.CancelledError:
                raise
            except REDIS_DOWN as exc:
                self.connected.clear()
                log.warning("bus lost Redis (%s); retrying in %.1f s", exc.__class__.__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                try:
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                except Exception:  # the connection is already gone; nothing to release
                    pass
