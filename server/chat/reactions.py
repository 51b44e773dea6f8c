"""Emoji reactions: a fixed set, a per-user debounce, one aggregate push per second per event.

Each react only increments a counter in Redis. Every node runs :class:`Aggregator`, but only the
node that takes the event's one-second lock drains the counters and publishes, so however many
people react and however many nodes there are, ``reactions`` gets at most one push per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from server.auth import Claims
from server.chat import history
from server.chat.model import EMOJI, React
from server.realtime.hub import OpContext, OpError
from server.services import Services
from server.store.connection import REDIS_DOWN
from server.store.keys import Keys

log = logging.getLogger("plenary.chat.reactions")

WINDOW_MS = 1000
DEBOUNCE_MS = 300  # one counted reaction per user per this many ms; more are acknowledged, not counted
POLL_SECONDS = 0.2


async def react(svc: Services, ctx: OpContext, d: React) -> dict[str, Any]:
    if d.emoji not in EMOJI:
        raise OpError("invalid_emoji", f"{d.emoji!r} is not one of the reactions", allowed=list(EMOJI))
    keys = Keys(ctx.event)
    if not await svc.redis.set(keys.reaction_debounce(ctx.claims.sub), b"1", nx=True, px=DEBOUNCE_MS):
        return {"counted": False}
    async with svc.redis.pipeline(transaction=False) as pipe:
        pipe.hincrby(keys.reactions, d.emoji, 1)
        pipe.expire(keys.reactions, svc.key_ttl)
        await pipe.execute()
    return {"counted": True}


async def snapshot(svc: Services, event: str, claims: Claims) -> dict[str, Any]:
    return {"emoji": list(EMOJI), "window_ms": WINDOW_MS}


async def flush(svc: Services, event: str) -> dict[str, int] | None:
    """Drain and publish the event's counts if this node holds this second's lock."""
    keys = Keys(event)
    if not await svc.redis.set(keys.reactions_lock, svc.node.encode(), nx=True, px=WINDOW_MS):
        return None
    async with svc.redis.pipeline(transaction=True) as pipe:
        pipe.hgetall(keys.reactions)
        pipe.delete(keys.reactions)
        raw, _ = await pipe.execute()
    counts = {history.text(k): int(v) for k, v in raw.items() if int(v) > 0}
    if not counts:
        return None
    await svc.hub.publish(event, "reactions", {"counts": counts, "at": int(time.time() * 1000),
                                               "window_ms": WINDOW_MS})
    return counts


class Aggregator:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="chat-reactions")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            for event in list(self.svc.events):
                try:
                    await flush(self.svc, event)
                except REDIS_DOWN:
                    pass  # the counters wait in Redis; the next tick after it returns publishes them
                except Exception:
                    log.exception("reaction flush failed for %s", event)
